// Pure tests of the GetStatusChange pass (docs/pcsclite-protocol.md §6.3) and the NTSTATUS→SCARD mapping.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { evaluatePass, firstUnknownReader, type ReaderView, type StatusEntry } from '../../../service/rm/status-change.js';
import { ntStatusToScard, stringifyError } from '../../../service/rm/error-map.js';
import { toWindowsControlCode } from '../../../service/rm/winscard-card-io.js';
import { CM_IOCTL_GET_FEATURE_REQUEST, PNP_NOTIFICATION_READER, SCARD, SCARD_STATE as S } from '../../../service/contract/pcsclite.js';
import { NTSTATUS, asNtStatus } from '../../../kernel/ntstatus.js';

const ATR = Uint8Array.from([0x3b, 0x80, 0x80, 0x01, 0x01]);
const present = (over: Partial<ReaderView> = {}): ReaderView => ({ name: 'R 00 00', eventCounter: 3, readerState: 0x34, sharing: 0, atr: ATR, ...over });
const entry = (dwCurrentState: number, szReader = 'R 00 00'): StatusEntry => ({ szReader, dwCurrentState, dwEventState: 0, cbAtr: 0, rgbAtr: new Uint8Array(0) });

describe('evaluatePass (libpcsclite 1.9.9 §6.3)', () => {
  it('UNAWARE gets the current state, CHANGED and the counter in the high word', () => {
    const e = entry(S.UNAWARE);
    expect(evaluatePass([e], [present()], 1)).toBe(true);
    expect(e.dwEventState).toBe(((3 << 16) | S.PRESENT | S.CHANGED) >>> 0);
    expect(e.cbAtr).toBe(5);
    expect(e.rgbAtr).toEqual(ATR);
  });

  it('a caller who already knows the state is not woken', () => {
    const e = entry(S.PRESENT);
    expect(evaluatePass([e], [present()], 1)).toBe(false);
    expect(e.dwEventState).toBe(((3 << 16) | S.PRESENT) >>> 0);
  });

  it('a different counter in the high word of dwCurrentState means CHANGED (remove+insert in between)', () => {
    const e = entry(((2 << 16) | S.PRESENT) >>> 0);
    expect(evaluatePass([e], [present()], 1)).toBe(true);
    expect(e.dwEventState & S.CHANGED).toBe(S.CHANGED);
    const same = entry(((3 << 16) | S.PRESENT) >>> 0);
    expect(evaluatePass([same], [present()], 1)).toBe(false);
  });

  it('removal: EMPTY|CHANGED, no ATR', () => {
    const e = entry(S.PRESENT | S.INUSE);
    expect(evaluatePass([e], [present({ readerState: 0x02, eventCounter: 4, atr: new Uint8Array(0) })], 1)).toBe(true);
    expect(e.dwEventState).toBe(((4 << 16) | S.EMPTY | S.CHANGED) >>> 0);
    expect(e.cbAtr).toBe(0);
  });

  it('mute card: PRESENT|MUTE', () => {
    const e = entry(S.EMPTY);
    evaluatePass([e], [present({ readerState: 0x0c, atr: new Uint8Array(0) })], 1);
    expect(e.dwEventState & 0xffff).toBe(S.PRESENT | S.MUTE | S.CHANGED);
  });

  it('sharing: INUSE↔EXCLUSIVE and dropping them are changes; gaining one from none is not (1.9.9 quirk)', () => {
    const quiet = entry(S.PRESENT);
    expect(evaluatePass([quiet], [present({ sharing: -1 })], 1)).toBe(false);
    expect(quiet.dwEventState & 0xffff).toBe(S.PRESENT | S.EXCLUSIVE);
    const ex = entry(S.PRESENT | S.INUSE);
    expect(evaluatePass([ex], [present({ sharing: -1 })], 1)).toBe(true);
    expect(ex.dwEventState & 0xffff).toBe(S.PRESENT | S.EXCLUSIVE | S.CHANGED);
    const inuse = entry(S.PRESENT | S.EXCLUSIVE);
    expect(evaluatePass([inuse], [present({ sharing: 2 })], 1)).toBe(true);
    expect(inuse.dwEventState & 0xffff).toBe(S.PRESENT | S.INUSE | S.CHANGED);
    const freed = entry(S.PRESENT | S.INUSE);
    expect(evaluatePass([freed], [present({ sharing: 0 })], 1)).toBe(true);
    expect(freed.dwEventState & 0xffff).toBe(S.PRESENT | S.CHANGED);
  });

  it('IGNORE entries are skipped; a vanished reader is UNKNOWN|UNAVAILABLE|CHANGED once', () => {
    const ign = entry(S.IGNORE, 'nope');
    const gone = entry(S.PRESENT);
    expect(evaluatePass([ign, gone], [], 1)).toBe(true);
    expect(ign.dwEventState).toBe(0);
    expect(gone.dwEventState).toBe(S.UNKNOWN | S.UNAVAILABLE | S.CHANGED);
    const known = entry(S.UNKNOWN);
    expect(evaluatePass([known], [], 1)).toBe(false);
  });

  it('the PnP reader changes when the reader count differs from the call start (case-insensitive name)', () => {
    const pnp = entry(0, PNP_NOTIFICATION_READER.toUpperCase());
    expect(evaluatePass([pnp], [present()], 1)).toBe(false);
    expect(evaluatePass([pnp], [present(), present({ name: 'X 01 00' })], 1)).toBe(true);
    expect(pnp.dwEventState).toBe(S.CHANGED);
    expect(firstUnknownReader([pnp, entry(0, 'other')], [present()])).toBe('other');
  });

  it('never sets ATRMATCH or UNPOWERED, and always carries the counter (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.constantFrom(0x02, 0x34, 0x0c, 0x04), fc.integer({ min: -1, max: 3 }), fc.integer({ min: 0, max: 0xffff }), (cur, st, sharing, counter) => {
        const e = entry(cur & ~S.IGNORE);
        evaluatePass([e], [present({ readerState: st, sharing, eventCounter: counter })], 1);
        expect(e.dwEventState & (S.ATRMATCH | S.UNPOWERED)).toBe(0);
        expect(e.dwEventState >>> 16).toBe(counter);
      }),
    );
  });
});

describe('NTSTATUS → SCARD (docs/smclib.md §5.6, docs/pcsclite-protocol.md §7)', () => {
  it('maps by operation', () => {
    expect(ntStatusToScard(NTSTATUS.STATUS_SUCCESS)).toBe(SCARD.S_SUCCESS);
    expect(ntStatusToScard(NTSTATUS.STATUS_NO_MEDIA, 'transmit')).toBe(SCARD.E_NO_SMARTCARD);
    expect(ntStatusToScard(NTSTATUS.STATUS_DEVICE_REMOVED, 'transmit')).toBe(SCARD.E_READER_UNAVAILABLE);
    expect(ntStatusToScard(NTSTATUS.STATUS_BUFFER_TOO_SMALL, 'attrib')).toBe(SCARD.E_INSUFFICIENT_BUFFER);
    expect(ntStatusToScard(NTSTATUS.STATUS_NOT_SUPPORTED, 'attrib')).toBe(SCARD.E_UNSUPPORTED_FEATURE);
    expect(ntStatusToScard(NTSTATUS.STATUS_INVALID_DEVICE_REQUEST, 'control')).toBe(SCARD.E_UNSUPPORTED_FEATURE);
    expect(ntStatusToScard(NTSTATUS.STATUS_NOT_SUPPORTED, 'protocol')).toBe(SCARD.E_PROTO_MISMATCH);
    expect(ntStatusToScard(NTSTATUS.STATUS_NOT_SUPPORTED, 'eject')).toBe(SCARD.E_CANT_DISPOSE);
    expect(ntStatusToScard(NTSTATUS.STATUS_UNRECOGNIZED_MEDIA, 'power')).toBe(SCARD.W_UNRESPONSIVE_CARD);
    expect(ntStatusToScard(NTSTATUS.STATUS_CANCELLED)).toBe(SCARD.E_CANCELLED);
    expect(ntStatusToScard(NTSTATUS.STATUS_IO_TIMEOUT, 'transmit')).toBe(SCARD.E_NOT_TRANSACTED);
    expect(ntStatusToScard(asNtStatus(0xc0001234))).toBe(SCARD.E_NOT_TRANSACTED);
  });

  it('stringifies with name and value', () => {
    expect(stringifyError(SCARD.E_NO_SMARTCARD)).toBe('No card is in the reader. (SCARD_E_NO_SMARTCARD 0x8010000C)');
    expect(stringifyError(0x80100099)).toContain('SCARD_0x80100099');
  });

  it('converts pcsc-lite control codes to SCARD_CTL_CODE', () => {
    expect(toWindowsControlCode(CM_IOCTL_GET_FEATURE_REQUEST)).toBe(0x00313520);
    expect(toWindowsControlCode(0x00313520)).toBe(0x00313520);
    expect(toWindowsControlCode(0x42000000 + 1)).toBe(0x00310004);
    expect(toWindowsControlCode(0x42000000 + 0x1000)).toBeNull();
  });
});
