// docs/smclib.md §9 conformance cases 1–10 (case 3 is the forum thread's driver, docs/background.md), run through a reader device (handle → IRP → SmartcardDeviceControl).

import { describe, expect, it } from 'vitest';
import { NTSTATUS, asNtStatus } from '../../../kernel/ntstatus.js';
import { IOCTL_SMARTCARD, scardCtlCode } from '../../../smcard/constants/ioctl.js';
import { SCARD_ATTR } from '../../../smcard/constants/scard-attributes.js';
import { WinScard } from '../../../smcard/constants/scard.js';
import { RDF_IOCTL_VENDOR, RDF_SET_PROTOCOL } from '../../../smcard/constants/smclib.js';
import { FIXTURE_ATR_T1, FixtureCard } from '../../support/fixture-card.js';
import { dwordBuf, getAttr, getState, hex, ioctl, power, readDword, setProtocol, settle, transmit, watch, within } from '../../support/io.js';
import { newReader } from '../../support/reader.js';

const S = NTSTATUS;
const empty = new Uint8Array(0);

describe('§9 conformance (correct driver)', () => {
  it('1. IS_PRESENT with no card pends; a second IS_PRESENT or IS_ABSENT is DEVICE_BUSY', async () => {
    const { reader, h, ext } = newReader();
    const first = h.deviceIoControl(IOCTL_SMARTCARD.IS_PRESENT, empty, 0);
    const w = watch(first);
    await settle();
    expect(w.done).toBe(false);
    expect(ext.OsData.NotificationIrp).not.toBeNull();
    expect((await ioctl(h, IOCTL_SMARTCARD.IS_PRESENT)).status).toBe(S.STATUS_DEVICE_BUSY);
    expect((await ioctl(h, IOCTL_SMARTCARD.IS_ABSENT)).status).toBe(S.STATUS_DEVICE_BUSY);
    expect(w.done).toBe(false);
    reader.insertCard(new FixtureCard());
    expect((await within(first.result)).status).toBe(S.STATUS_SUCCESS);
  });

  it('IS_PRESENT with a card and IS_ABSENT without one complete SUCCESS at once, without calling CBCardTracking (§3.3 b)', async () => {
    const { reader, h, ext } = newReader();
    const absent = await ioctl(h, IOCTL_SMARTCARD.IS_ABSENT);
    expect([absent.status, absent.information]).toEqual([S.STATUS_SUCCESS, 0]);
    reader.insertCard(new FixtureCard());
    const present = await ioctl(h, IOCTL_SMARTCARD.IS_PRESENT);
    expect([present.status, present.information]).toEqual([S.STATUS_SUCCESS, 0]);
    expect(ext.OsData.NotificationIrp).toBeNull();
    expect(reader.trace().map((e) => [e.ioControlName, e.callbacks, e.pendedAtSomePoint])).toEqual([
      ['IOCTL_SMARTCARD_IS_ABSENT', [], false],
      ['IOCTL_SMARTCARD_IS_PRESENT', [], false],
    ]);
  });

  it('2. insert completes the IRP with SUCCESS, Information 0, NotificationIrp NULL; IS_ABSENT then pends', async () => {
    const { reader, h, ext } = newReader();
    const present = h.deviceIoControl(IOCTL_SMARTCARD.IS_PRESENT, empty, 0);
    await settle();
    reader.insertCard(new FixtureCard());
    const r = await within(present.result);
    expect([r.status, r.information, r.output.length]).toEqual([S.STATUS_SUCCESS, 0, 0]);
    expect(ext.OsData.NotificationIrp).toBeNull();
    const absent = h.deviceIoControl(IOCTL_SMARTCARD.IS_ABSENT, empty, 0);
    const w = watch(absent);
    await settle();
    expect(w.done).toBe(false);
    reader.removeCard();
    expect((await within(absent.result)).status).toBe(S.STATUS_SUCCESS);
    expect(ext.OsData.NotificationIrp).toBeNull();
  });

  it('3. the forum driver (tracking returns SUCCESS, NotificationIrp left set) makes the next tracking IOCTL DEVICE_BUSY', async () => {
    const { h, ext, reader } = newReader('forum-broken');
    const present = await ioctl(h, IOCTL_SMARTCARD.IS_PRESENT);
    expect(present.status).toBe(S.STATUS_SUCCESS); // wrongly "card arrived" with no card
    expect(ext.OsData.NotificationIrp).not.toBeNull();
    expect((await ioctl(h, IOCTL_SMARTCARD.IS_ABSENT)).status).toBe(S.STATUS_DEVICE_BUSY);
    expect((await ioctl(h, IOCTL_SMARTCARD.IS_PRESENT)).status).toBe(S.STATUS_DEVICE_BUSY);
    // Nothing ever clears it: not an insertion, not a new handle.
    reader.insertCard(new FixtureCard());
    h.close();
    const h2 = reader.device.open();
    expect((await ioctl(h2, IOCTL_SMARTCARD.IS_ABSENT)).status).toBe(S.STATUS_DEVICE_BUSY);
    expect(reader.traceText()).toMatch(/IoControlCode 3211308 \(IOCTL_SMARTCARD_IS_ABSENT\)\n.*!LibComplete called: status 80000011 \(STATUS_DEVICE_BUSY\), Context [0-9A-F]{16} Information 0/);
  });

  it('4. CancelIo on a pending IS_ABSENT completes it STATUS_CANCELLED with NotificationIrp NULL; so does closing the handle', async () => {
    const { reader, h, ext } = newReader();
    reader.insertCard(new FixtureCard());
    const absent = h.deviceIoControl(IOCTL_SMARTCARD.IS_ABSENT, empty, 0);
    await settle();
    absent.cancel();
    const r = await within(absent.result);
    expect([r.status, r.information]).toEqual([S.STATUS_CANCELLED, 0]);
    expect(ext.OsData.NotificationIrp).toBeNull();
    const again = h.deviceIoControl(IOCTL_SMARTCARD.IS_ABSENT, empty, 0);
    await settle();
    expect(ext.OsData.NotificationIrp).not.toBeNull();
    h.close();
    expect((await within(again.result)).status).toBe(S.STATUS_CANCELLED);
    expect(ext.OsData.NotificationIrp).toBeNull();
  });

  it('5. POWER(COLD) needs 33 output bytes; it returns the ATR and leaves the card NEGOTIABLE or SPECIFIC', async () => {
    const { reader, h } = newReader();
    reader.insertCard(new FixtureCard());
    expect((await power(h, WinScard.COLD_RESET, 32)).status).toBe(S.STATUS_BUFFER_TOO_SMALL);
    const r = await power(h, WinScard.COLD_RESET, 33);
    expect([r.status, r.information, hex(r.output)]).toEqual([S.STATUS_SUCCESS, 5, '3b80800101']);
    expect([WinScard.NEGOTIABLE, WinScard.SPECIFIC]).toContain(readDword((await getState(h)).output));
  });

  it('6. SET_PROTOCOL: 3-byte output BUFFER_TOO_SMALL; unsupported mask NOT_SUPPORTED and stays NEGOTIABLE; success DWORD, Information 4, SPECIFIC', async () => {
    const { reader, h } = newReader();
    reader.insertCard(new FixtureCard({ atr: FIXTURE_ATR_T1, supportedProtocols: 2 }));
    await power(h, WinScard.COLD_RESET);
    expect((await setProtocol(h, WinScard.PROTOCOL_T1, 3)).status).toBe(S.STATUS_BUFFER_TOO_SMALL);
    expect((await setProtocol(h, WinScard.PROTOCOL_T0)).status).toBe(S.STATUS_NOT_SUPPORTED);
    expect(readDword((await getState(h)).output)).toBe(WinScard.NEGOTIABLE);
    expect(readDword((await getAttr(h, SCARD_ATTR.CURRENT_PROTOCOL_TYPE, 4)).output)).toBe(0);
    const ok = await setProtocol(h, WinScard.PROTOCOL_T0 | WinScard.PROTOCOL_T1);
    expect([ok.status, ok.information, readDword(ok.output)]).toEqual([S.STATUS_SUCCESS, 4, WinScard.PROTOCOL_T1]);
    expect(readDword((await getState(h)).output)).toBe(WinScard.SPECIFIC);
  });

  it('7. TRANSMIT: wrong dwProtocol INVALID_DEVICE_STATE; input < 8 INVALID_PARAMETER; success header + data + SW', async () => {
    const { reader, h } = newReader();
    const card = new FixtureCard();
    reader.insertCard(card);
    await power(h, WinScard.COLD_RESET);
    await setProtocol(h, WinScard.PROTOCOL_T1);
    expect((await transmit(h, WinScard.PROTOCOL_T0, [0x00, 0xa4, 0x00, 0x00])).status).toBe(S.STATUS_INVALID_DEVICE_STATE);
    expect((await ioctl(h, IOCTL_SMARTCARD.TRANSMIT, Uint8Array.of(2, 0, 0, 0, 8), 64)).status).toBe(S.STATUS_INVALID_PARAMETER);
    const r = await transmit(h, WinScard.PROTOCOL_T1, [0x00, 0xca, 0x00, 0x00, 0x03]);
    expect([r.status, r.information, hex(r.output)]).toEqual([S.STATUS_SUCCESS, 13, '0200000008000000' + '000102' + '9000']);
    expect(card.transmits.at(-1)).toEqual({ apdu: Uint8Array.of(0x00, 0xca, 0x00, 0x00, 0x03), protocol: 2 });
    const small = await transmit(h, WinScard.PROTOCOL_T1, [0x00, 0xca, 0x00, 0x00, 0x03], 12);
    expect([small.status, small.information]).toEqual([S.STATUS_BUFFER_TOO_SMALL, 0]);
  });

  it('8. GET_ATTRIBUTE: unknown tag NOT_SUPPORTED; output smaller than the value BUFFER_TOO_SMALL', async () => {
    const { h } = newReader();
    expect((await getAttr(h, 0x00010199, 36)).status).toBe(S.STATUS_NOT_SUPPORTED);
    const r = await getAttr(h, SCARD_ATTR.VENDOR_IFD_TYPE, 4);
    expect([r.status, r.information]).toEqual([S.STATUS_BUFFER_TOO_SMALL, 0]);
    expect(Buffer.from((await getAttr(h, SCARD_ATTR.VENDOR_IFD_TYPE, 36)).output).toString()).toBe('Virtual Reader');
  });

  it('9. a vendor IOCTL with no vendor callback is INVALID_DEVICE_REQUEST', async () => {
    const { h, ext } = newReader();
    // The reader installs a vendor callback (for GET_FEATURE_REQUEST); it too rejects unknown vendor codes.
    expect((await ioctl(h, scardCtlCode(2050), dwordBuf(1), 4)).status).toBe(S.STATUS_INVALID_DEVICE_REQUEST);
    ext.ReaderFunction[RDF_IOCTL_VENDOR] = null;
    expect((await ioctl(h, scardCtlCode(2050), dwordBuf(1), 4)).status).toBe(S.STATUS_INVALID_DEVICE_REQUEST);
    expect((await ioctl(h, IOCTL_SMARTCARD.GET_FEATURE_REQUEST, empty, 256)).status).toBe(S.STATUS_INVALID_DEVICE_REQUEST);
  });

  it('GET_FEATURE_REQUEST answers an empty PC/SC part 10 TLV list', async () => {
    const { h } = newReader();
    const r = await ioctl(h, IOCTL_SMARTCARD.GET_FEATURE_REQUEST, empty, 256);
    expect([r.status, r.information]).toEqual([S.STATUS_SUCCESS, 0]);
  });

  it('10. a non-tracking callback that pends makes every later IOCTL DEVICE_BUSY until it completes', async () => {
    const { reader, h, ext } = newReader();
    reader.insertCard(new FixtureCard());
    await power(h, WinScard.COLD_RESET);
    const original = ext.ReaderFunction[RDF_SET_PROTOCOL]!;
    let release: (() => void) | null = null;
    ext.ReaderFunction[RDF_SET_PROTOCOL] = async (e) => {
      const irp = e.OsData.CurrentIrp!;
      release = () => {
        void original(e).then((st) => irp.complete(asNtStatus(st), e.IoRequest.Information.value));
      };
      return S.STATUS_PENDING;
    };
    const slow = h.deviceIoControl(IOCTL_SMARTCARD.SET_PROTOCOL, dwordBuf(WinScard.PROTOCOL_T1), 4);
    await settle();
    expect((await getState(h)).status).toBe(S.STATUS_DEVICE_BUSY);
    expect((await getAttr(h, SCARD_ATTR.VENDOR_NAME)).status).toBe(S.STATUS_DEVICE_BUSY);
    expect((await ioctl(h, IOCTL_SMARTCARD.IS_ABSENT)).status).toBe(S.STATUS_DEVICE_BUSY);
    release!();
    const r = await within(slow.result);
    expect([r.status, readDword(r.output)]).toEqual([S.STATUS_SUCCESS, WinScard.PROTOCOL_T1]);
    expect((await getState(h)).status).toBe(S.STATUS_SUCCESS);
    expect(reader.device.faults).toEqual([]);
  });
});
