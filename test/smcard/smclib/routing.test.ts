// Which RDF_* slot each callback-bearing IOCTL reaches (§1.4, §3.2), the vendor paths (§1.1, §3.1.8, §3.7) and the
// remaining [I] configuration points of the library, each checked both ways.

import { describe, expect, it } from 'vitest';
import { Irp } from '../../../kernel/irp.js';
import { NTSTATUS } from '../../../kernel/ntstatus.js';
import { ctlCode } from '../../../kernel/ctl-code.js';
import { IOCTL_SMARTCARD, scardCtlCode } from '../../../smcard/constants/ioctl.js';
import { SCARD_ATTR } from '../../../smcard/constants/scard-attributes.js';
import { WinScard } from '../../../smcard/constants/scard.js';
import * as smc from '../../../smcard/constants/smclib.js';
import { SmartcardDeviceControl } from '../../../smcard/smclib/device-control.js';
import { createSmartcardExtension, SmartcardInitialize, type SmartcardExtension } from '../../../smcard/smclib/extension.js';
import type { SmclibOptions } from '../../../smcard/smclib/options.js';
import { requestApdu } from '../../../smcard/smclib/transmit.js';
import { dwordBuf } from '../../support/io.js';

const S = NTSTATUS;

function makeExt(options?: Partial<SmclibOptions>): SmartcardExtension {
  const ext = createSmartcardExtension({ options });
  expect(SmartcardInitialize(ext)).toBe(S.STATUS_SUCCESS);
  return ext;
}

async function run(ext: SmartcardExtension, code: number, input: Uint8Array = new Uint8Array(0), outLen = 0) {
  const irp = new Irp({ ioControlCode: code, input, outputBufferLength: outLen });
  await SmartcardDeviceControl(ext, irp);
  expect(irp.completed).toBe(true);
  return { status: irp.ioStatus.Status, info: irp.ioStatus.Information, out: Buffer.from(irp.output()).toString('hex') };
}

/** Installs a callback in every slot that records its index and answers a status unique to it. */
function recordSlots(ext: SmartcardExtension): { slots: number[]; minors: number[] } {
  const seen = { slots: [] as number[], minors: [] as number[] };
  for (let i = 0; i < smc.RDF_SLOTS; i++) {
    ext.ReaderFunction[i] = async (e) => {
      seen.slots.push(i);
      seen.minors.push(e.MinorIoControlCode);
      return 0x40000000 + i; // an informational status carrying the slot number
    };
  }
  return seen;
}

describe('IOCTL → ReaderFunction slot', () => {
  it('EJECT → RDF_CARD_EJECT (2), SWALLOW → RDF_READER_SWALLOW (3), CONFISCATE → RDF_CARD_CONFISCATE (7)', async () => {
    const ext = makeExt();
    ext.ReaderCapabilities.CurrentState = WinScard.PRESENT;
    const seen = recordSlots(ext);
    expect((await run(ext, IOCTL_SMARTCARD.EJECT)).status).toBe(0x40000000 + smc.RDF_CARD_EJECT);
    expect((await run(ext, IOCTL_SMARTCARD.SWALLOW)).status).toBe(0x40000000 + smc.RDF_READER_SWALLOW);
    expect((await run(ext, IOCTL_SMARTCARD.CONFISCATE)).status).toBe(0x40000000 + smc.RDF_CARD_CONFISCATE);
    expect(seen.slots).toEqual([2, 3, 7]);
  });

  it('POWER → RDF_CARD_POWER (0) with the power code as minor; TRANSMIT → 1; SET_PROTOCOL → 5; tracking → 4', async () => {
    const ext = makeExt();
    ext.ReaderCapabilities.CurrentState = WinScard.PRESENT;
    const seen = recordSlots(ext);
    await run(ext, IOCTL_SMARTCARD.POWER, dwordBuf(WinScard.WARM_RESET), 33);
    ext.CardCapabilities.ATR.Buffer.set([0x3b, 0x80, 0x80, 0x01, 0x01]);
    ext.CardCapabilities.ATR.Length = 5;
    ext.ReaderCapabilities.CurrentState = WinScard.NEGOTIABLE;
    await run(ext, IOCTL_SMARTCARD.SET_PROTOCOL, dwordBuf(WinScard.PROTOCOL_T1), 4);
    ext.ReaderCapabilities.CurrentState = WinScard.SPECIFIC;
    ext.CardCapabilities.Protocol.Selected = WinScard.PROTOCOL_T1;
    const io = new Uint8Array(12);
    io.set(dwordBuf(2, 8));
    io.set([0, 0xa4, 0, 0], 8);
    await run(ext, IOCTL_SMARTCARD.TRANSMIT, io, 20);
    ext.ReaderCapabilities.CurrentState = WinScard.ABSENT;
    await run(ext, IOCTL_SMARTCARD.IS_PRESENT);
    expect(seen.slots).toEqual([0, 5, 1, 4]);
    expect(seen.minors).toEqual([WinScard.WARM_RESET, WinScard.PROTOCOL_T1, 0, 0]);
  });
});

describe('vendor paths', () => {
  it('a vendor-class attribute goes to RDF_IOCTL_VENDOR with the tag as minor; routing can be switched off', async () => {
    for (const [code, input] of [
      [IOCTL_SMARTCARD.GET_ATTRIBUTE, dwordBuf(SCARD_ATTR.VENDOR_SPECIFIC_INFO)],
      [IOCTL_SMARTCARD.SET_ATTRIBUTE, dwordBuf(SCARD_ATTR.VENDOR_SPECIFIC_INFO, 7)],
    ] as const) {
      const ext = makeExt();
      const seen = recordSlots(ext);
      expect((await run(ext, code, input, 8)).status).toBe(0x40000000 + smc.RDF_IOCTL_VENDOR);
      expect([seen.slots, seen.minors]).toEqual([[smc.RDF_IOCTL_VENDOR], [SCARD_ATTR.VENDOR_SPECIFIC_INFO]]);
      const off = makeExt({ vendorClassAttributesToVendor: false });
      const none = recordSlots(off);
      expect((await run(off, code, input, 8)).status).toBe(S.STATUS_NOT_SUPPORTED);
      expect(none.slots).toEqual([]);
    }
  });

  it('the vendor-range test: (code & 0x2000) on any device type by default, SCARD_CTL_CODE(2048..4095) only when configured', async () => {
    const foreign = ctlCode(0x22, 2048); // FILE_DEVICE_UNKNOWN, function 2048
    const ext = makeExt();
    recordSlots(ext);
    expect((await run(ext, foreign, new Uint8Array(4), 4)).status).toBe(0x40000000 + smc.RDF_IOCTL_VENDOR);
    expect((await run(ext, scardCtlCode(4095), new Uint8Array(4), 4)).status).toBe(0x40000000 + smc.RDF_IOCTL_VENDOR);
    expect((await run(ext, scardCtlCode(2047), new Uint8Array(4), 4)).status).toBe(S.STATUS_INVALID_DEVICE_REQUEST);
    const strict = makeExt({ vendorRangeByBit11: false });
    recordSlots(strict);
    expect((await run(strict, foreign, new Uint8Array(4), 4)).status).toBe(S.STATUS_INVALID_DEVICE_REQUEST);
    expect((await run(strict, scardCtlCode(2048), new Uint8Array(4), 4)).status).toBe(0x40000000 + smc.RDF_IOCTL_VENDOR);
  });

  it('the status for unknown IOCTLs is a configuration point', async () => {
    const ext = makeExt({ unknownIoctlStatus: S.STATUS_NOT_SUPPORTED });
    expect((await run(ext, scardCtlCode(13))).status).toBe(S.STATUS_NOT_SUPPORTED);
  });
});

describe('other [I] configuration points', () => {
  it('GET_PERF_CNTR answers the configured status; SET_ATTRIBUTE SUPRESS_T1_IFS_REQUEST can be refused', async () => {
    expect((await run(makeExt({ perfCounterStatus: S.STATUS_INVALID_DEVICE_REQUEST }), IOCTL_SMARTCARD.GET_PERF_CNTR, dwordBuf(0x7ffe0001), 4)).status).toBe(
      S.STATUS_INVALID_DEVICE_REQUEST,
    );
    const ext = makeExt({ setSuppressT1IfsSucceeds: false });
    expect((await run(ext, IOCTL_SMARTCARD.SET_ATTRIBUTE, dwordBuf(SCARD_ATTR.SUPRESS_T1_IFS_REQUEST, 1))).status).toBe(S.STATUS_NOT_SUPPORTED);
    expect(ext.T1.SuppressIfsRequest).toBe(false);
  });

  it('the driver-parameter error status is configurable and the IRP stays with the driver', async () => {
    const ext = makeExt({ driverParameterErrorStatus: S.STATUS_UNSUCCESSFUL });
    ext.Version = 0x0ff;
    const irp = new Irp({ ioControlCode: IOCTL_SMARTCARD.GET_STATE, outputBufferLength: 4 });
    expect(await SmartcardDeviceControl(ext, irp)).toBe(S.STATUS_UNSUCCESSFUL);
    expect(irp.completed).toBe(false);
  });

  it('SET_PROTOCOL without a card answers the configured status (docs also allow NO_MEDIA)', async () => {
    const ext = makeExt({ setProtocolNoCardStatus: S.STATUS_NO_MEDIA });
    ext.ReaderFunction[smc.RDF_SET_PROTOCOL] = async () => S.STATUS_SUCCESS;
    expect((await run(ext, IOCTL_SMARTCARD.SET_PROTOCOL, dwordBuf(1), 4)).status).toBe(S.STATUS_NO_MEDIA);
  });

  it('the presence threshold decides which tracking request is already satisfied', async () => {
    // Threshold PRESENT: a card that is PRESENT (not yet swallowed) does not count as present.
    const ext = makeExt({ presenceThreshold: WinScard.PRESENT });
    ext.ReaderFunction[smc.RDF_CARD_TRACKING] = async () => S.STATUS_PENDING;
    ext.ReaderCapabilities.CurrentState = WinScard.PRESENT;
    expect((await run(ext, IOCTL_SMARTCARD.IS_ABSENT)).status).toBe(S.STATUS_SUCCESS);
    const dflt = makeExt();
    dflt.ReaderCapabilities.CurrentState = WinScard.PRESENT;
    expect((await run(dflt, IOCTL_SMARTCARD.IS_PRESENT)).status).toBe(S.STATUS_SUCCESS);
  });

  it('POWER can skip SmartcardInitializeCardCapabilities', async () => {
    const ext = makeExt({ initializeCardCapabilitiesOnPower: false });
    ext.ReaderCapabilities.CurrentState = WinScard.PRESENT;
    ext.CardCapabilities.ATR.Length = 5;
    let atrLengthSeen = -1;
    ext.ReaderFunction[smc.RDF_CARD_POWER] = async (e) => {
      atrLengthSeen = e.CardCapabilities.ATR.Length;
      return S.STATUS_SUCCESS;
    };
    await run(ext, IOCTL_SMARTCARD.POWER, dwordBuf(WinScard.POWER_DOWN));
    expect(atrLengthSeen).toBe(5);
  });

  it('cbPciLength is honoured (APDU after the PCI) or ignored (APDU after 8 bytes) as configured', async () => {
    for (const [honour, expectedApdu] of [[true, '00a40000'], [false, 'eeeeeeee00a40000']] as const) {
      const ext = makeExt({ honourPciLength: honour });
      ext.ReaderCapabilities.CurrentState = WinScard.SPECIFIC;
      ext.CardCapabilities.Protocol.Selected = WinScard.PROTOCOL_T1;
      let seen = '';
      ext.ReaderFunction[smc.RDF_TRANSMIT] = async (e) => {
        seen = Buffer.from(requestApdu(e)).toString('hex');
        return S.STATUS_SUCCESS;
      };
      // A 12-byte PCI (protocol, length 12, 4 bytes of protocol-specific data) before the APDU.
      const input = new Uint8Array(16);
      input.set(dwordBuf(2, 12));
      input.set([0xee, 0xee, 0xee, 0xee, 0x00, 0xa4, 0x00, 0x00], 8);
      expect((await run(ext, IOCTL_SMARTCARD.TRANSMIT, input, 20)).status).toBe(S.STATUS_SUCCESS);
      expect(seen).toBe(expectedApdu);
    }
  });
});
