// Handles and PnP: exclusive open, cancel and CLEANUP exactly once, the completion/cancel race, surprise removal.

import { describe, expect, it } from 'vitest';
import { NTSTATUS, NtStatusError } from '../../../kernel/ntstatus.js';
import { IOCTL_SMARTCARD } from '../../../smcard/constants/ioctl.js';
import { WinScard } from '../../../smcard/constants/scard.js';
import { createReaderBus } from '../../../smcard/index.js';
import type { ReaderDeviceInterface, VirtualReader } from '../../../smcard/reader/contract.js';
import type { VirtualReaderImpl } from '../../../smcard/reader/virtual-reader.js';
import { FixtureCard } from '../../support/fixture-card.js';
import { dwordBuf, getState, ioctl, power, settle, within } from '../../support/io.js';
import { newReader } from '../../support/reader.js';

const S = NTSTATUS;
const empty = new Uint8Array(0);

/** Counts how often the result promise's consumers see a completion (must be exactly once). */
function countCompletions(p: Promise<unknown>): { n: number } {
  const c = { n: 0 };
  void p.then(() => c.n++);
  return c;
}

describe('exclusive open', () => {
  it('a second CreateFile fails with STATUS_SHARING_VIOLATION until the first handle closes', () => {
    const { reader, h } = newReader();
    let err: unknown;
    try {
      reader.device.open();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NtStatusError);
    expect((err as NtStatusError).status).toBe(S.STATUS_SHARING_VIOLATION);
    h.close();
    expect(() => reader.device.open().close()).not.toThrow();
  });

  it('a closed handle cannot issue IOCTLs', () => {
    const { h } = newReader();
    h.close();
    expect(() => h.deviceIoControl(IOCTL_SMARTCARD.GET_STATE, empty, 4)).toThrow(expect.objectContaining({ status: S.STATUS_INVALID_HANDLE }));
  });

  it('an input that is not a Uint8Array is a host bug: TypeError, nothing traced', () => {
    const { h, reader } = newReader();
    expect(() => h.deviceIoControl(IOCTL_SMARTCARD.GET_STATE, [1, 2, 3, 4] as unknown as Uint8Array, 4)).toThrow(TypeError);
    expect(reader.trace()).toEqual([]);
  });
});

describe('cancellation of tracking IRPs', () => {
  it('CancelIo completes a pending IS_PRESENT with STATUS_CANCELLED exactly once, and a second cancel is a no-op', async () => {
    const { h, ext, reader } = newReader();
    const io = h.deviceIoControl(IOCTL_SMARTCARD.IS_PRESENT, empty, 0);
    const count = countCompletions(io.result);
    await settle();
    io.cancel();
    io.cancel();
    expect((await within(io.result)).status).toBe(S.STATUS_CANCELLED);
    reader.insertCard(new FixtureCard()); // nothing left to complete
    await settle();
    expect(count.n).toBe(1);
    expect(ext.OsData.NotificationIrp).toBeNull();
    expect(reader.device.faults).toEqual([]);
  });

  it('cancel right after insert: completion wins, SUCCESS exactly once', async () => {
    const { h, reader } = newReader();
    const io = h.deviceIoControl(IOCTL_SMARTCARD.IS_PRESENT, empty, 0);
    const count = countCompletions(io.result);
    await settle();
    reader.insertCard(new FixtureCard());
    io.cancel();
    expect((await within(io.result)).status).toBe(S.STATUS_SUCCESS);
    await settle();
    expect(count.n).toBe(1);
    expect(reader.device.faults).toEqual([]);
  });

  it('insert right after cancel: the cancel wins, CANCELLED exactly once, state still PRESENT', async () => {
    const { h, reader } = newReader();
    const io = h.deviceIoControl(IOCTL_SMARTCARD.IS_PRESENT, empty, 0);
    const count = countCompletions(io.result);
    await settle();
    io.cancel();
    reader.insertCard(new FixtureCard());
    expect((await within(io.result)).status).toBe(S.STATUS_CANCELLED);
    await settle();
    expect(count.n).toBe(1);
    expect((await getState(h)).output[0]).toBe(WinScard.PRESENT);
  });

  it('cancel before the IRP reaches the tracking callback (queued behind a callback) still completes CANCELLED once', async () => {
    const { h, reader } = newReader();
    reader.insertCard(new FixtureCard());
    const pw = h.deviceIoControl(IOCTL_SMARTCARD.POWER, dwordBuf(WinScard.COLD_RESET), 33); // holds the mutex across awaits
    const io = h.deviceIoControl(IOCTL_SMARTCARD.IS_ABSENT, empty, 0);
    io.cancel();
    expect((await within(pw.result)).status).toBe(S.STATUS_SUCCESS);
    expect((await within(io.result)).status).toBe(S.STATUS_CANCELLED);
    const again = h.deviceIoControl(IOCTL_SMARTCARD.IS_ABSENT, empty, 0);
    await settle();
    reader.removeCard();
    expect((await within(again.result)).status).toBe(S.STATUS_SUCCESS);
  });

  it('closing the handle cancels only that handle’s pending IRPs; a new handle can track again', async () => {
    const { h, reader, ext } = newReader();
    const io = h.deviceIoControl(IOCTL_SMARTCARD.IS_PRESENT, empty, 0);
    const count = countCompletions(io.result);
    await settle();
    h.close();
    h.close();
    expect((await within(io.result)).status).toBe(S.STATUS_CANCELLED);
    expect(ext.OsData.NotificationIrp).toBeNull();
    const h2 = reader.device.open();
    const io2 = h2.deviceIoControl(IOCTL_SMARTCARD.IS_PRESENT, empty, 0);
    await settle();
    reader.insertCard(new FixtureCard());
    expect((await within(io2.result)).status).toBe(S.STATUS_SUCCESS);
    expect(count.n).toBe(1);
  });
});

describe('reader bus and surprise removal', () => {
  it('assigns unit numbers 0,1,2…, reuses the lowest free one, and fires arrival/removal', () => {
    const bus = createReaderBus();
    const events: string[] = [];
    const offA = bus.on('arrival', (iface: ReaderDeviceInterface, r: VirtualReader) => events.push(`+${r.unitNo} ${iface.symbolicLink}`));
    bus.on('removal', (_iface, r) => events.push(`-${r.unitNo}`));
    const r0 = bus.addReader();
    const r1 = bus.addReader({ vendorName: 'Acme', ifdType: 'Slot' });
    expect([r0.unitNo, r1.unitNo]).toEqual([0, 1]);
    bus.removeReader(r0);
    const r2 = bus.addReader();
    expect(r2.unitNo).toBe(0);
    expect(r2.device.symbolicLink).not.toBe(r0.device.symbolicLink);
    expect(bus.readers()).toEqual([r1, r2]);
    offA();
    bus.addReader();
    expect(events[0]).toMatch(/^\+0 \\\\\?\\ROOT#SMARTCARDREADER#0000#\{50dd5230-ba8a-11d1-bf5d-0000f805f530\}\\DEV0$/);
    expect(events.slice(1)).toEqual([expect.stringMatching(/^\+1 /), '-0', expect.stringMatching(/^\+0 /)]);
    expect(() => bus.addReader({ unitNo: 1 })).toThrow(/already in use/);
    expect(() => bus.removeReader(r0)).toThrow(/not on this bus/);
  });

  it('pending tracking IRP → STATUS_CANCELLED; later IOCTLs on the open handle → STATUS_DEVICE_REMOVED; removal event after', async () => {
    const bus = createReaderBus();
    const reader = bus.addReader() as VirtualReaderImpl;
    const h = reader.device.open();
    const io = h.deviceIoControl(IOCTL_SMARTCARD.IS_PRESENT, empty, 0);
    await settle();
    let statusAtRemoval: number | undefined;
    bus.on('removal', () => {
      statusAtRemoval = reader.trace().find((e) => e.ioControlName === 'IOCTL_SMARTCARD_IS_PRESENT')?.status;
    });
    bus.removeReader(reader);
    expect(statusAtRemoval).toBe(S.STATUS_CANCELLED);
    expect((await within(io.result)).status).toBe(S.STATUS_CANCELLED);
    const after = await ioctl(h, IOCTL_SMARTCARD.GET_STATE, empty, 4);
    expect([after.status, after.information]).toEqual([S.STATUS_DEVICE_REMOVED, 0]);
    expect(() => reader.device.open()).toThrow(expect.objectContaining({ name: 'NtStatusError', status: S.STATUS_NO_SUCH_DEVICE }));
    expect(() => reader.insertCard(new FixtureCard())).toThrow(/removed/);
    h.close();
  });

  it('IRPs queued behind a callback at removal complete with STATUS_CANCELLED', async () => {
    const { bus, reader, h } = newReader();
    reader.insertCard(new FixtureCard());
    const pw = h.deviceIoControl(IOCTL_SMARTCARD.POWER, dwordBuf(WinScard.COLD_RESET), 33);
    const queued = h.deviceIoControl(IOCTL_SMARTCARD.SET_PROTOCOL, dwordBuf(3), 4);
    bus.removeReader(reader);
    await within(pw.result);
    expect((await within(queued.result)).status).toBe(S.STATUS_CANCELLED);
    expect(reader.device.outstandingIrps()).toEqual([]);
  });

  it('insertCard twice is refused; removeCard on an empty slot returns null; removal flushes the card', async () => {
    const { reader } = newReader();
    const card = new FixtureCard();
    reader.insertCard(card);
    expect(() => reader.insertCard(new FixtureCard())).toThrow(expect.objectContaining({ code: 'VSCR_ERR_CARD_PRESENT' }));
    expect(reader.removeCard()).toBe(card);
    expect(reader.removeCard()).toBeNull();
    await settle();
    expect(card.flushes).toBe(1);
    expect(card.calls.at(-1)).toBe('powerDown');
  });

  it('the trace ring buffer is bounded', async () => {
    const { reader, h } = newReader('correct', { traceCapacity: 3 });
    for (let i = 0; i < 5; i++) await getState(h);
    await power(h, WinScard.COLD_RESET);
    const t = reader.trace();
    expect(t).toHaveLength(3);
    expect(t.map((e) => e.seq)).toEqual([4, 5, 6]);
    expect(t[2]).toMatchObject({ ioControlName: 'IOCTL_SMARTCARD_POWER', minorCode: 1, minorName: 'SCARD_COLD_RESET', status: S.STATUS_NO_MEDIA, statusName: 'STATUS_NO_MEDIA', pending: false });
    expect(typeof t[2].durationMs).toBe('number');
  });
});

describe('buffer lengths the I/O manager refuses', () => {
  it('a negative or absurd output length fails before an IRP exists (not traced)', async () => {
    const { h, reader } = newReader();
    expect((await h.deviceIoControl(IOCTL_SMARTCARD.GET_STATE, empty, -1).result).status).toBe(S.STATUS_INVALID_PARAMETER);
    expect((await h.deviceIoControl(IOCTL_SMARTCARD.GET_STATE, empty, 1.5).result).status).toBe(S.STATUS_INVALID_PARAMETER);
    expect((await h.deviceIoControl(IOCTL_SMARTCARD.GET_STATE, empty, 2 ** 31).result).status).toBe(S.STATUS_INSUFFICIENT_RESOURCES);
    expect((await h.deviceIoControl(IOCTL_SMARTCARD.TRANSMIT, new Uint8Array(0x100001), 16).result).status).toBe(S.STATUS_INSUFFICIENT_RESOURCES);
    expect(reader.trace()).toEqual([]);
    // The limit itself is allowed: a full 1 MiB output buffer reaches the library (and the trace).
    const atLimit = await h.deviceIoControl(IOCTL_SMARTCARD.GET_STATE, empty, 0x100000).result;
    expect([atLimit.status, atLimit.information]).toEqual([S.STATUS_SUCCESS, 4]);
    expect(reader.trace()).toHaveLength(1);
  });
});
