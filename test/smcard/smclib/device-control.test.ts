// SmartcardDeviceControl against hand-written callbacks: the generic rules (§3.1) and each IOCTL's checks (§3.2–§3.7).

import { describe, expect, it } from 'vitest';
import { Irp } from '../../../kernel/irp.js';
import { NTSTATUS } from '../../../kernel/ntstatus.js';
import { IOCTL_SMARTCARD, scardCtlCode } from '../../../smcard/constants/ioctl.js';
import { SCARD_ATTR } from '../../../smcard/constants/scard-attributes.js';
import { WinScard } from '../../../smcard/constants/scard.js';
import * as smc from '../../../smcard/constants/smclib.js';
import { SmartcardDeviceControl } from '../../../smcard/smclib/device-control.js';
import { createSmartcardExtension, SmartcardInitialize, type SmartcardExtension } from '../../../smcard/smclib/extension.js';
import type { SmclibOptions } from '../../../smcard/smclib/options.js';
import { SmartcardT0Reply, SmartcardT0Request, writeTransmitReply } from '../../../smcard/smclib/transmit.js';
import { dwordBuf, readDword, settle, transmitInput, within } from '../../support/io.js';

const S = NTSTATUS;

function makeExt(options?: Partial<SmclibOptions>, vendorName = 'vscr'): SmartcardExtension {
  const ext = createSmartcardExtension({ options, vendorName });
  expect(SmartcardInitialize(ext)).toBe(S.STATUS_SUCCESS);
  return ext;
}

async function run(ext: SmartcardExtension, code: number, input: Uint8Array = new Uint8Array(0), outLen = 0) {
  const irp = new Irp({ ioControlCode: code, input, outputBufferLength: outLen });
  const ret = await SmartcardDeviceControl(ext, irp);
  return { irp, ret, status: irp.completed ? irp.ioStatus.Status : undefined, info: irp.ioStatus.Information, out: irp.output() };
}

/** A card reset and in state `state` with ATR 3B 80 80 01 01 (T=0 and T=1). */
function withCard(ext: SmartcardExtension, state: number, selected = 0): void {
  const atr = Uint8Array.of(0x3b, 0x80, 0x80, 0x01, 0x01);
  ext.CardCapabilities.ATR.Buffer.set(atr);
  ext.CardCapabilities.ATR.Length = atr.length;
  ext.CardCapabilities.Protocol.Supported = 3;
  ext.CardCapabilities.Protocol.Selected = selected;
  ext.ReaderCapabilities.CurrentState = state;
}

describe('generic rules (§3.1)', () => {
  it('sets up IoRequest, Major/Minor codes and CurrentIrp before a callback', async () => {
    const ext = makeExt();
    withCard(ext, WinScard.PRESENT);
    let seen: Record<string, unknown> = {};
    ext.ReaderFunction[smc.RDF_CARD_POWER] = async (e) => {
      seen = {
        major: e.MajorIoControlCode,
        minor: e.MinorIoControlCode,
        reqLen: e.IoRequest.RequestBufferLength,
        replyLen: e.IoRequest.ReplyBufferLength,
        req: [...e.IoRequest.RequestBuffer],
        current: e.OsData.CurrentIrp,
        aliased: e.IoRequest.RequestBuffer.buffer === e.IoRequest.ReplyBuffer.buffer,
      };
      e.IoRequest.ReplyBuffer.set([0x3b, 0x00]);
      e.IoRequest.Information.value = 2;
      return S.STATUS_SUCCESS;
    };
    const r = await run(ext, IOCTL_SMARTCARD.POWER, dwordBuf(WinScard.COLD_RESET), 33);
    expect(seen).toMatchObject({ major: IOCTL_SMARTCARD.POWER, minor: 1, reqLen: 4, replyLen: 33, req: [1, 0, 0, 0], current: r.irp, aliased: true });
    expect(r.status).toBe(S.STATUS_SUCCESS);
    expect(r.ret).toBe(S.STATUS_SUCCESS);
    expect([...r.out]).toEqual([0x3b, 0x00]);
    expect(ext.OsData.CurrentIrp).toBeNull();
  });

  it('answers STATUS_NOT_SUPPORTED for a missing callback', async () => {
    const ext = makeExt();
    withCard(ext, WinScard.SPECIFIC, 2);
    expect((await run(ext, IOCTL_SMARTCARD.POWER, dwordBuf(1), 33)).status).toBe(S.STATUS_NOT_SUPPORTED);
    expect((await run(ext, IOCTL_SMARTCARD.TRANSMIT, transmitInput(2, [0, 0xa4, 0, 0]), 20)).status).toBe(S.STATUS_NOT_SUPPORTED);
    expect((await run(ext, IOCTL_SMARTCARD.SET_PROTOCOL, dwordBuf(1), 4)).status).toBe(S.STATUS_NOT_SUPPORTED);
    expect((await run(ext, IOCTL_SMARTCARD.IS_ABSENT)).status).toBe(S.STATUS_NOT_SUPPORTED);
    for (const code of [IOCTL_SMARTCARD.EJECT, IOCTL_SMARTCARD.SWALLOW, IOCTL_SMARTCARD.CONFISCATE]) {
      expect((await run(ext, code)).status).toBe(S.STATUS_NOT_SUPPORTED);
    }
  });

  it('never runs two callbacks at the same time', async () => {
    const ext = makeExt();
    withCard(ext, WinScard.PRESENT);
    let active = 0;
    let maxActive = 0;
    ext.ReaderFunction[smc.RDF_CARD_POWER] = async () => {
      active++;
      maxActive = Math.max(maxActive, active);
      await settle();
      await settle();
      active--;
      return S.STATUS_SUCCESS;
    };
    const irps = [1, 2, 3].map(() => new Irp({ ioControlCode: IOCTL_SMARTCARD.POWER, input: dwordBuf(0) }));
    await within(Promise.all(irps.map((i) => SmartcardDeviceControl(ext, i))));
    expect(maxActive).toBe(1);
    expect(irps.every((i) => i.completed && i.ioStatus.Status === S.STATUS_SUCCESS)).toBe(true);
  });

  it('§9.10: a non-tracking callback returning PENDING blocks every IOCTL with DEVICE_BUSY until it completes', async () => {
    const ext = makeExt();
    withCard(ext, WinScard.PRESENT);
    let held: Irp | null = null;
    ext.ReaderFunction[smc.RDF_CARD_POWER] = async (e) => {
      held = e.OsData.CurrentIrp;
      return S.STATUS_PENDING;
    };
    const first = await run(ext, IOCTL_SMARTCARD.POWER, dwordBuf(0));
    expect(first.ret).toBe(S.STATUS_PENDING);
    expect(first.irp.completed).toBe(false);
    expect(first.irp.pendingReturned).toBe(true);
    for (const [code, input, out] of [
      [IOCTL_SMARTCARD.GET_STATE, new Uint8Array(0), 4],
      [IOCTL_SMARTCARD.GET_ATTRIBUTE, dwordBuf(SCARD_ATTR.VENDOR_NAME), 32],
      [IOCTL_SMARTCARD.IS_PRESENT, new Uint8Array(0), 0],
      [IOCTL_SMARTCARD.POWER, dwordBuf(0), 0],
    ] as const) {
      expect((await run(ext, code, input, out)).status).toBe(S.STATUS_DEVICE_BUSY);
    }
    held!.complete(S.STATUS_SUCCESS, 0);
    expect((await run(ext, IOCTL_SMARTCARD.GET_STATE, new Uint8Array(0), 4)).status).toBe(S.STATUS_SUCCESS);
  });

  it('unknown IOCTLs are INVALID_DEVICE_REQUEST; §9.9 vendor codes too without RDF_IOCTL_VENDOR', async () => {
    const ext = makeExt();
    for (const code of [scardCtlCode(8), scardCtlCode(13), scardCtlCode(2047), 0x00220004, scardCtlCode(2048), IOCTL_SMARTCARD.GET_FEATURE_REQUEST]) {
      expect((await run(ext, code, new Uint8Array(4), 4)).status).toBe(S.STATUS_INVALID_DEVICE_REQUEST);
    }
  });

  it('vendor codes go to RDF_IOCTL_VENDOR with the raw buffers', async () => {
    const ext = makeExt();
    ext.ReaderFunction[smc.RDF_IOCTL_VENDOR] = async (e) => {
      e.IoRequest.ReplyBuffer.set(e.IoRequest.RequestBuffer.slice().reverse());
      e.IoRequest.Information.value = e.IoRequest.RequestBufferLength;
      return S.STATUS_SUCCESS;
    };
    const r = await run(ext, scardCtlCode(3000), Uint8Array.of(1, 2, 3), 8);
    expect(r.status).toBe(S.STATUS_SUCCESS);
    expect([...r.out]).toEqual([3, 2, 1]);
  });

  it('a too-old extension Version is a driver-parameter error: returned, IRP not completed', async () => {
    const ext = makeExt();
    ext.Version = 0xff;
    const r = await run(ext, IOCTL_SMARTCARD.GET_STATE, new Uint8Array(0), 4);
    expect(r.ret).toBe(S.STATUS_INVALID_PARAMETER);
    expect(r.irp.completed).toBe(false);
  });

  it('a throwing callback fails the IRP with STATUS_UNSUCCESSFUL instead of escaping', async () => {
    const ext = makeExt();
    withCard(ext, WinScard.PRESENT);
    ext.ReaderFunction[smc.RDF_CARD_POWER] = async () => {
      throw new Error('boom');
    };
    expect((await run(ext, IOCTL_SMARTCARD.POWER, dwordBuf(0))).status).toBe(S.STATUS_UNSUCCESSFUL);
  });

  it('SmartcardInitialize rejects an old Version and small buffers', () => {
    const ext = createSmartcardExtension();
    ext.Version = 0x99;
    expect(SmartcardInitialize(ext)).toBe(S.STATUS_INVALID_PARAMETER);
    const ext2 = createSmartcardExtension();
    ext2.SmartcardReply.BufferSize = 100;
    expect(SmartcardInitialize(ext2)).toBe(S.STATUS_INVALID_PARAMETER);
  });
});

describe('library-answered IOCTLs', () => {
  it('GET_STATE returns CurrentState as a DWORD; BUFFER_TOO_SMALL below 4 bytes', async () => {
    const ext = makeExt();
    expect((await run(ext, IOCTL_SMARTCARD.GET_STATE, new Uint8Array(0), 3)).status).toBe(S.STATUS_BUFFER_TOO_SMALL);
    const r = await run(ext, IOCTL_SMARTCARD.GET_STATE, new Uint8Array(0), 4);
    expect([r.status, r.info, readDword(r.out)]).toEqual([S.STATUS_SUCCESS, 4, WinScard.ABSENT]);
  });

  it('GET_ATTRIBUTE serves the reader attributes from the extension', async () => {
    const ext = makeExt(undefined, 'PSCR\0');
    ext.VendorAttr.IfdVersion = { VersionMajor: 1, VersionMinor: 2, BuildNumber: 0x0304 };
    ext.ReaderCapabilities.Channel = 3;
    const val = async (tag: number, out = 64) => run(ext, IOCTL_SMARTCARD.GET_ATTRIBUTE, dwordBuf(tag), out);
    const vn = await val(SCARD_ATTR.VENDOR_NAME);
    expect([vn.info, Buffer.from(vn.out).toString('latin1')]).toEqual([4, 'PSCR']); // trailing NUL stripped
    expect(Buffer.from((await val(SCARD_ATTR.VENDOR_IFD_TYPE)).out).toString()).toBe('Virtual Reader');
    expect(readDword((await val(SCARD_ATTR.VENDOR_IFD_VERSION)).out)).toBe(0x01020304);
    expect((await val(SCARD_ATTR.VENDOR_IFD_SERIAL_NO)).status).toBe(S.STATUS_NOT_SUPPORTED);
    expect(readDword((await val(SCARD_ATTR.CHANNEL_ID)).out)).toBe((0xf0 << 16) | 3);
    expect(readDword((await val(SCARD_ATTR.PROTOCOL_TYPES)).out)).toBe(3);
    expect(readDword((await val(SCARD_ATTR.DEFAULT_CLK)).out)).toBe(4000);
    expect(readDword((await val(SCARD_ATTR.MAX_IFSD)).out)).toBe(254);
    expect(readDword((await val(SCARD_ATTR.CHARACTERISTICS)).out)).toBe(0);
    expect(readDword((await val(SCARD_ATTR.DEVICE_UNIT)).out)).toBe(0);
    expect(readDword((await val(SCARD_ATTR.POWER_MGMT_SUPPORT)).out)).toBe(0);
    expect([...(await val(SCARD_ATTR.ICC_PRESENCE)).out]).toEqual([0]);
    expect([...(await val(SCARD_ATTR.ICC_INTERFACE_STATUS)).out]).toEqual([0]);
    for (const tag of [SCARD_ATTR.ATR_STRING, SCARD_ATTR.CURRENT_PROTOCOL_TYPE, SCARD_ATTR.CURRENT_F, SCARD_ATTR.ICC_TYPE_PER_ATR]) {
      expect((await val(tag)).status).toBe(S.STATUS_INVALID_DEVICE_STATE);
    }
    for (const tag of [SCARD_ATTR.USER_TO_CARD_AUTH_DEVICE, SCARD_ATTR.EXTENDED_BWT, SCARD_ATTR.CURRENT_IO_STATE, SCARD_ATTR.DEVICE_FRIENDLY_NAME_A, SCARD_ATTR.PERF_NUM_TRANSMISSIONS, SCARD_ATTR.ESC_RESET, 0x12345]) {
      expect((await val(tag)).status).toBe(S.STATUS_NOT_SUPPORTED);
    }
    ext.ReaderCapabilities.CurrentState = WinScard.UNKNOWN;
    expect((await val(SCARD_ATTR.ICC_PRESENCE)).status).toBe(S.STATUS_INVALID_DEVICE_STATE);
  });

  it('GET_ATTRIBUTE serves card attributes once the card is reset', async () => {
    const ext = makeExt();
    withCard(ext, WinScard.SPECIFIC, 2);
    ext.CardCapabilities.Fl = 9;
    ext.CardCapabilities.Dl = 3;
    const val = async (tag: number) => run(ext, IOCTL_SMARTCARD.GET_ATTRIBUTE, dwordBuf(tag), 64);
    expect([...(await val(SCARD_ATTR.ATR_STRING)).out]).toEqual([0x3b, 0x80, 0x80, 0x01, 0x01]);
    expect(readDword((await val(SCARD_ATTR.CURRENT_PROTOCOL_TYPE)).out)).toBe(2);
    expect(readDword((await val(SCARD_ATTR.CURRENT_F)).out)).toBe(512);
    expect(readDword((await val(SCARD_ATTR.CURRENT_D)).out)).toBe(4);
    expect(readDword((await val(SCARD_ATTR.CURRENT_IFSC)).out)).toBe(32);
    expect(readDword((await val(SCARD_ATTR.CURRENT_BWT)).out)).toBe(4);
    expect(readDword((await val(SCARD_ATTR.CURRENT_CWT)).out)).toBe(13);
    expect([...(await val(SCARD_ATTR.ICC_PRESENCE)).out]).toEqual([2]);
    expect([...(await val(SCARD_ATTR.ICC_INTERFACE_STATUS)).out]).toEqual([0xff]);
    expect([...(await val(SCARD_ATTR.ICC_TYPE_PER_ATR)).out]).toEqual([0]);
  });

  it('GET_ATTRIBUTE checks its buffers (§9.8)', async () => {
    const ext = makeExt();
    const small = await run(ext, IOCTL_SMARTCARD.GET_ATTRIBUTE, dwordBuf(SCARD_ATTR.VENDOR_NAME), 3);
    expect([small.status, small.info]).toEqual([S.STATUS_BUFFER_TOO_SMALL, 0]);
    expect((await run(ext, IOCTL_SMARTCARD.GET_ATTRIBUTE, Uint8Array.of(0, 1, 1), 36)).status).toBe(S.STATUS_INVALID_PARAMETER);
    expect((await run(ext, IOCTL_SMARTCARD.GET_ATTRIBUTE, dwordBuf(SCARD_ATTR.VENDOR_NAME, 0), 36)).status).toBe(S.STATUS_INVALID_PARAMETER);
    const lenient = makeExt({ attributeInputExact: false });
    expect((await run(lenient, IOCTL_SMARTCARD.GET_ATTRIBUTE, dwordBuf(SCARD_ATTR.VENDOR_NAME, 0), 36)).status).toBe(S.STATUS_SUCCESS);
  });

  it('SET_ATTRIBUTE accepts DEVICE_IN_USE and SUPRESS_T1_IFS_REQUEST only (configurable)', async () => {
    const ext = makeExt();
    expect((await run(ext, IOCTL_SMARTCARD.SET_ATTRIBUTE, dwordBuf(SCARD_ATTR.DEVICE_IN_USE, 1))).status).toBe(S.STATUS_SUCCESS);
    expect((await run(ext, IOCTL_SMARTCARD.SET_ATTRIBUTE, dwordBuf(SCARD_ATTR.SUPRESS_T1_IFS_REQUEST, 1))).status).toBe(S.STATUS_SUCCESS);
    expect(ext.T1.SuppressIfsRequest).toBe(true);
    expect((await run(ext, IOCTL_SMARTCARD.SET_ATTRIBUTE, dwordBuf(SCARD_ATTR.VENDOR_NAME, 1))).status).toBe(S.STATUS_NOT_SUPPORTED);
    expect((await run(ext, IOCTL_SMARTCARD.SET_ATTRIBUTE, Uint8Array.of(2, 0))).status).toBe(S.STATUS_INVALID_PARAMETER);
    const strict = makeExt({ setDeviceInUseSucceeds: false });
    expect((await run(strict, IOCTL_SMARTCARD.SET_ATTRIBUTE, dwordBuf(SCARD_ATTR.DEVICE_IN_USE, 1))).status).toBe(S.STATUS_NOT_SUPPORTED);
  });

  it('GET_LAST_ERROR and GET_PERF_CNTR follow their configuration points', async () => {
    const ext = makeExt();
    ext.LastError = 7;
    const le = await run(ext, IOCTL_SMARTCARD.GET_LAST_ERROR, new Uint8Array(0), 4);
    expect([le.status, readDword(le.out)]).toEqual([S.STATUS_SUCCESS, 7]);
    expect((await run(ext, IOCTL_SMARTCARD.GET_LAST_ERROR, new Uint8Array(0), 2)).status).toBe(S.STATUS_BUFFER_TOO_SMALL);
    const zero = makeExt({ getLastError: 'zero' });
    zero.LastError = 7;
    expect(readDword((await run(zero, IOCTL_SMARTCARD.GET_LAST_ERROR, new Uint8Array(0), 4)).out)).toBe(0);
    expect((await run(ext, IOCTL_SMARTCARD.GET_PERF_CNTR, dwordBuf(0x7ffe0001), 4)).status).toBe(S.STATUS_NOT_SUPPORTED);
  });
});

describe('IS_PRESENT / IS_ABSENT library algorithm (§3.3)', () => {
  it('checks busy first, then the already-satisfied state, then calls the driver', async () => {
    const ext = makeExt();
    let calls = 0;
    ext.ReaderFunction[smc.RDF_CARD_TRACKING] = async () => {
      calls++;
      return S.STATUS_SUCCESS; // the forum thread's driver (docs/background.md): leaves NotificationIrp set
    };
    expect((await run(ext, IOCTL_SMARTCARD.IS_ABSENT)).status).toBe(S.STATUS_SUCCESS); // already absent: no call
    expect(calls).toBe(0);
    const present = await run(ext, IOCTL_SMARTCARD.IS_PRESENT);
    expect([present.status, calls]).toEqual([S.STATUS_SUCCESS, 1]);
    expect(ext.OsData.NotificationIrp).toBe(present.irp);
    // Even though the card is absent (IS_ABSENT would be satisfied), the stale NotificationIrp wins.
    expect((await run(ext, IOCTL_SMARTCARD.IS_ABSENT)).status).toBe(S.STATUS_DEVICE_BUSY);
  });

  it('with the satisfied check first, or with the library clearing on non-PENDING, the symptom disappears', async () => {
    for (const options of [{ trackingBusyCheckFirst: false }, { clearNotificationOnNonPending: true }]) {
      const ext = makeExt(options);
      ext.ReaderFunction[smc.RDF_CARD_TRACKING] = async () => S.STATUS_SUCCESS;
      await run(ext, IOCTL_SMARTCARD.IS_PRESENT);
      expect((await run(ext, IOCTL_SMARTCARD.IS_ABSENT)).status).toBe(S.STATUS_SUCCESS);
    }
  });

  it('can require zero-length buffers (NFCCX)', async () => {
    const ext = makeExt({ trackingRequireZeroLengths: true });
    expect((await run(ext, IOCTL_SMARTCARD.IS_ABSENT, new Uint8Array(0), 4)).status).toBe(S.STATUS_INVALID_PARAMETER);
  });
});

describe('POWER, SET_PROTOCOL and TRANSMIT pre-checks', () => {
  it('POWER validates the code, the output size and card presence', async () => {
    const ext = makeExt();
    let called = 0;
    ext.ReaderFunction[smc.RDF_CARD_POWER] = async (e) => {
      called++;
      expect(e.CardCapabilities.ATR.Length).toBe(0); // SmartcardInitializeCardCapabilities ran first
      return S.STATUS_SUCCESS;
    };
    expect((await run(ext, IOCTL_SMARTCARD.POWER, Uint8Array.of(1), 33)).status).toBe(S.STATUS_INVALID_PARAMETER);
    expect((await run(ext, IOCTL_SMARTCARD.POWER, dwordBuf(3), 33)).status).toBe(S.STATUS_INVALID_DEVICE_REQUEST);
    expect((await run(makeExt({ badPowerCodeStatus: S.STATUS_INVALID_PARAMETER }), IOCTL_SMARTCARD.POWER, dwordBuf(3), 33)).status).toBe(S.STATUS_INVALID_PARAMETER);
    expect((await run(ext, IOCTL_SMARTCARD.POWER, dwordBuf(1), 33)).status).toBe(S.STATUS_NO_MEDIA);
    withCard(ext, WinScard.SPECIFIC, 2);
    expect((await run(ext, IOCTL_SMARTCARD.POWER, dwordBuf(2), 32)).status).toBe(S.STATUS_BUFFER_TOO_SMALL);
    expect((await run(ext, IOCTL_SMARTCARD.POWER, dwordBuf(0), 0)).status).toBe(S.STATUS_SUCCESS);
    expect(called).toBe(1);
  });

  it('SET_PROTOCOL follows the §3.5 order', async () => {
    const ext = makeExt();
    let calls = 0;
    ext.ReaderFunction[smc.RDF_SET_PROTOCOL] = async (e) => {
      calls++;
      e.CardCapabilities.Protocol.Selected = 1;
      e.ReaderCapabilities.CurrentState = WinScard.SPECIFIC;
      e.IoRequest.ReplyBuffer.set(dwordBuf(1));
      e.IoRequest.Information.value = 4;
      return S.STATUS_SUCCESS;
    };
    expect((await run(ext, IOCTL_SMARTCARD.SET_PROTOCOL, dwordBuf(1), 3)).status).toBe(S.STATUS_BUFFER_TOO_SMALL);
    expect((await run(ext, IOCTL_SMARTCARD.SET_PROTOCOL, dwordBuf(1), 4)).status).toBe(S.STATUS_INVALID_DEVICE_STATE); // no card
    ext.ReaderCapabilities.CurrentState = WinScard.PRESENT;
    expect((await run(ext, IOCTL_SMARTCARD.SET_PROTOCOL, dwordBuf(1), 4)).status).toBe(S.STATUS_INVALID_DEVICE_STATE); // not reset
    withCard(ext, WinScard.NEGOTIABLE);
    ext.CardCapabilities.ATR.Buffer.set([0x3b, 0x80, 0x01, 0x81]); // T=1 only
    ext.CardCapabilities.ATR.Length = 4;
    const bad = await run(ext, IOCTL_SMARTCARD.SET_PROTOCOL, dwordBuf(1), 4);
    expect([bad.status, ext.ReaderCapabilities.CurrentState, calls]).toEqual([S.STATUS_NOT_SUPPORTED, WinScard.NEGOTIABLE, 0]);
    expect((await run(ext, IOCTL_SMARTCARD.SET_PROTOCOL, dwordBuf(WinScard.PROTOCOL_RAW), 4)).status).toBe(S.STATUS_NOT_SUPPORTED);
    withCard(ext, WinScard.NEGOTIABLE);
    const good = await run(ext, IOCTL_SMARTCARD.SET_PROTOCOL, dwordBuf(1), 4);
    expect([good.status, good.info, readDword(good.out), calls]).toEqual([S.STATUS_SUCCESS, 4, 1, 1]);
    const again = await run(ext, IOCTL_SMARTCARD.SET_PROTOCOL, dwordBuf(3), 4); // already SPECIFIC with T=0
    expect([again.status, readDword(again.out), calls]).toEqual([S.STATUS_SUCCESS, 1, 1]);
  });

  it('SET_PROTOCOL reports an unparsable ATR, trying RDF_ATR_PARSE first', async () => {
    const ext = makeExt();
    ext.ReaderFunction[smc.RDF_SET_PROTOCOL] = async () => S.STATUS_SUCCESS;
    withCard(ext, WinScard.NEGOTIABLE);
    ext.CardCapabilities.ATR.Buffer.set([0x3a, 0x00]);
    ext.CardCapabilities.ATR.Length = 2;
    expect((await run(ext, IOCTL_SMARTCARD.SET_PROTOCOL, dwordBuf(1), 4)).status).toBe(S.STATUS_UNRECOGNIZED_MEDIA);
    let parsed = 0;
    ext.ReaderFunction[smc.RDF_ATR_PARSE] = async (e) => {
      parsed++;
      e.CardCapabilities.Protocol.Supported = 1;
      return S.STATUS_SUCCESS;
    };
    expect((await run(ext, IOCTL_SMARTCARD.SET_PROTOCOL, dwordBuf(1), 4)).status).toBe(S.STATUS_SUCCESS);
    expect(parsed).toBe(1);
  });

  it('TRANSMIT checks state, header, protocol and sizes (§3.6, §9.7)', async () => {
    const ext = makeExt();
    let calls = 0;
    ext.ReaderFunction[smc.RDF_TRANSMIT] = async (e) => {
      calls++;
      return writeTransmitReply(e, Uint8Array.of(0x90, 0x00));
    };
    expect((await run(ext, IOCTL_SMARTCARD.TRANSMIT, transmitInput(2, [0, 0xa4, 0, 0]), 20)).status).toBe(S.STATUS_INVALID_DEVICE_STATE);
    withCard(ext, WinScard.SPECIFIC, 2);
    expect((await run(ext, IOCTL_SMARTCARD.TRANSMIT, Uint8Array.of(2, 0, 0, 0, 8, 0, 0), 20)).status).toBe(S.STATUS_INVALID_PARAMETER);
    expect((await run(ext, IOCTL_SMARTCARD.TRANSMIT, transmitInput(1, [0, 0xa4, 0, 0]), 20)).status).toBe(S.STATUS_INVALID_DEVICE_STATE);
    const badPci = transmitInput(2, [0, 0xa4, 0, 0]);
    badPci[4] = 4;
    expect((await run(ext, IOCTL_SMARTCARD.TRANSMIT, badPci, 20)).status).toBe(S.STATUS_INVALID_PARAMETER);
    expect((await run(ext, IOCTL_SMARTCARD.TRANSMIT, transmitInput(2, []), 20)).status).toBe(S.STATUS_INVALID_PARAMETER);
    expect((await run(ext, IOCTL_SMARTCARD.TRANSMIT, transmitInput(2, [0, 0xa4, 0, 0]), 9)).status).toBe(S.STATUS_BUFFER_TOO_SMALL);
    expect(calls).toBe(0);
    const ok = await run(ext, IOCTL_SMARTCARD.TRANSMIT, transmitInput(2, [0, 0xa4, 0, 0]), 10);
    expect([ok.status, ok.info, Buffer.from(ok.out).toString('hex')]).toEqual([S.STATUS_SUCCESS, 10, '02000000080000009000']);
    withCard(ext, WinScard.SPECIFIC, 1);
    expect((await run(ext, IOCTL_SMARTCARD.TRANSMIT, transmitInput(1, [0, 0xa4, 0]), 20)).status).toBe(S.STATUS_INVALID_PARAMETER);
  });

  it('SmartcardT0Request pads a case-1 APDU to a 5-byte TPDU and sends case 4 as case 3', () => {
    const ext = makeExt();
    const tpduOf = (apdu: number[]) => {
      const input = transmitInput(1, apdu);
      ext.IoRequest.RequestBuffer = input;
      ext.IoRequest.RequestBufferLength = input.length;
      ext.SmartcardRequest.BufferLength = 0;
      const st = SmartcardT0Request(ext);
      return { st, tpdu: [...ext.SmartcardRequest.Buffer.subarray(0, ext.SmartcardRequest.BufferLength)] };
    };
    expect(tpduOf([0x00, 0xa4, 0x00, 0x00])).toEqual({ st: 0, tpdu: [0x00, 0xa4, 0x00, 0x00, 0x00] });
    expect(tpduOf([0x00, 0xb0, 0x00, 0x00, 0x10])).toEqual({ st: 0, tpdu: [0x00, 0xb0, 0x00, 0x00, 0x10] });
    expect(tpduOf([0x00, 0xa4, 0x04, 0x00, 0x02, 0x3f, 0x00, 0x00])).toEqual({ st: 0, tpdu: [0x00, 0xa4, 0x04, 0x00, 0x02, 0x3f, 0x00] });
    expect(tpduOf([0x00, 0xa4, 0x04]).st).toBe(S.STATUS_INVALID_PARAMETER);
    expect(tpduOf([0x00, 0xa4, 0x04, 0x00, 0x00, 0x00, 0x02, 0x3f, 0x00]).st).toBe(S.STATUS_INVALID_PARAMETER);
    // T0Reply: no status word is a protocol error; otherwise header + data.
    ext.IoRequest.ReplyBuffer = new Uint8Array(16);
    ext.IoRequest.ReplyBufferLength = 16;
    ext.SmartcardReply.Buffer.set([0x90]);
    ext.SmartcardReply.BufferLength = 1;
    expect(SmartcardT0Reply(ext)).toBe(S.STATUS_DEVICE_PROTOCOL_ERROR);
    ext.SmartcardReply.Buffer.set([0x61, 0x10]);
    ext.SmartcardReply.BufferLength = 2;
    expect(SmartcardT0Reply(ext)).toBe(S.STATUS_SUCCESS);
    expect(ext.IoRequest.Information.value).toBe(10);
  });
});
