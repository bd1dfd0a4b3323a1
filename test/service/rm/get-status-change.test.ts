// SCardGetStatusChange against the real stack: blocked waits woken by insert/remove, the counter in the high
// word, timeouts, Cancel and AbortSignal. Results are asserted by state, never by elapsed time.

import { afterEach, describe, expect, it } from 'vitest';
import { SCARD, SCARD_STATE as S } from '../../../service/contract/pcsclite.js';
import { hex, isBlocked, makeStack, waitForRm, withTimeout, type Stack } from '../../support/rm-stack.js';

let stack: Stack | null = null;
afterEach(async () => {
  await stack?.close();
  stack = null;
});

const R0 = 'vscr Virtual Reader 00 00';

describe('SCardGetStatusChange', () => {
  it('a blocked call sees an insertion, then a removal, with the event counter in the high word', async () => {
    stack = await makeStack({ readers: [{}] });
    const s = stack.rm.openSession('t');
    const { hContext } = s.establishContext(0);

    const first = await s.getStatusChange(hContext, 0, [{ szReader: R0, dwCurrentState: S.UNAWARE }]);
    expect(first.rv).toBe(SCARD.S_SUCCESS);
    expect(first.readerStates[0].dwEventState).toBe(S.EMPTY | S.CHANGED);

    const inserted = s.getStatusChange(hContext, 0xffffffff, [{ szReader: R0, dwCurrentState: first.readerStates[0].dwEventState & ~S.CHANGED }]);
    expect(await isBlocked(inserted)).toBe(true);
    const card = await stack.newCard();
    stack.readers[0].insertCard(card);
    const a = await withTimeout(inserted, 5000, 'insertion');
    expect(a.rv).toBe(SCARD.S_SUCCESS);
    expect(a.readerStates[0].dwEventState).toBe(((1 << 16) | S.PRESENT | S.CHANGED) >>> 0);
    expect(a.readerStates[0].cbAtr).toBe(card.atr.length);
    expect(hex(a.readerStates[0].rgbAtr)).toBe(hex(card.atr));

    const removed = s.getStatusChange(hContext, 0xffffffff, [{ szReader: R0, dwCurrentState: a.readerStates[0].dwEventState & ~S.CHANGED }]);
    expect(await isBlocked(removed)).toBe(true);
    stack.readers[0].removeCard();
    const b = await withTimeout(removed, 5000, 'removal');
    expect(b.readerStates[0].dwEventState).toBe(((2 << 16) | S.EMPTY | S.CHANGED) >>> 0);
    expect(b.readerStates[0].cbAtr).toBe(0);
    expect(stack.rm.readerStates()[0]).toMatchObject({ eventCounter: 2, readerState: 0x02 });
  });

  it('a stale counter returns at once although the bits match (remove+insert between two calls)', async () => {
    stack = await makeStack({ readers: [{}], cardsIn: [0] });
    const { rm } = stack;
    const s = rm.openSession('t');
    const { hContext } = s.establishContext(0);
    stack.readers[0].removeCard();
    stack.readers[0].insertCard(await stack.newCard());
    await waitForRm(rm, () => rm.readerStates()[0].eventCounter === 2 && rm.readerStates()[0].readerState === 0x34, 'remove + insert counted');
    const current = await s.getStatusChange(hContext, 0, [{ szReader: R0, dwCurrentState: ((2 << 16) | S.PRESENT) >>> 0 }]);
    expect(current.rv).toBe(SCARD.E_TIMEOUT);
    const noCounter = await s.getStatusChange(hContext, 0, [{ szReader: R0, dwCurrentState: S.PRESENT }]);
    expect(noCounter.rv).toBe(SCARD.E_TIMEOUT);
    const stale = await s.getStatusChange(hContext, 0, [{ szReader: R0, dwCurrentState: ((1 << 16) | S.PRESENT) >>> 0 }]);
    expect(stale.rv).toBe(SCARD.S_SUCCESS);
    expect(stale.readerStates[0].dwEventState).toBe(((2 << 16) | S.PRESENT | S.CHANGED) >>> 0);
  });

  it('timeout 0 and a finite timeout without a change give SCARD_E_TIMEOUT with the current state', async () => {
    stack = await makeStack({ readers: [{}], cardsIn: [0] });
    const s = stack.rm.openSession('t');
    const { hContext } = s.establishContext(0);
    const zero = await s.getStatusChange(hContext, 0, [{ szReader: R0, dwCurrentState: S.PRESENT }]);
    expect(zero.rv).toBe(SCARD.E_TIMEOUT);
    expect(zero.readerStates[0].dwEventState).toBe(S.PRESENT);
    const finite = await withTimeout(s.getStatusChange(hContext, 30, [{ szReader: R0, dwCurrentState: S.PRESENT }]), 5000, 'finite timeout');
    expect(finite.rv).toBe(SCARD.E_TIMEOUT);
  });

  it('all IGNORE (or no readers) returns SUCCESS at once; more than 16 entries is INVALID_VALUE', async () => {
    stack = await makeStack({ readers: [{}] });
    const s = stack.rm.openSession('t');
    const { hContext } = s.establishContext(0);
    expect((await s.getStatusChange(hContext, 0xffffffff, [{ szReader: 'whatever', dwCurrentState: S.IGNORE }])).rv).toBe(SCARD.S_SUCCESS);
    expect((await s.getStatusChange(hContext, 0xffffffff, [])).rv).toBe(SCARD.S_SUCCESS);
    const many = Array.from({ length: 17 }, () => ({ szReader: R0, dwCurrentState: 0 }));
    expect((await s.getStatusChange(hContext, 0, many)).rv).toBe(SCARD.E_INVALID_VALUE);
    expect((await s.getStatusChange(12345, 0, [{ szReader: R0, dwCurrentState: 0 }])).rv).toBe(SCARD.E_INVALID_HANDLE);
  });

  it('Cancel ends an infinite wait with SCARD_E_CANCELLED; an AbortSignal does the same', async () => {
    stack = await makeStack({ readers: [{}] });
    const s = stack.rm.openSession('t');
    const { hContext } = s.establishContext(0);
    const w = s.getStatusChange(hContext, 0xffffffff, [{ szReader: R0, dwCurrentState: S.EMPTY }]);
    expect(await isBlocked(w)).toBe(true);
    expect(s.cancel(hContext)).toBe(SCARD.S_SUCCESS);
    expect((await withTimeout(w, 5000, 'cancel')).rv).toBe(SCARD.E_CANCELLED);
    expect(s.cancel(0x1234)).toBe(SCARD.E_INVALID_HANDLE);

    const ac = new AbortController();
    const w2 = s.getStatusChange(hContext, 0xffffffff, [{ szReader: R0, dwCurrentState: S.EMPTY }], ac.signal);
    expect(await isBlocked(w2)).toBe(true);
    ac.abort();
    expect((await withTimeout(w2, 5000, 'abort')).rv).toBe(SCARD.E_CANCELLED);

    // A released context ends its waits too; the session stays usable for new contexts.
    const w3 = s.getStatusChange(hContext, 0xffffffff, [{ szReader: R0, dwCurrentState: S.EMPTY }]);
    expect(await s.releaseContext(hContext)).toBe(SCARD.S_SUCCESS);
    expect((await withTimeout(w3, 5000, 'release')).rv).toBe(SCARD.E_CANCELLED);
    expect(s.isValidContext(hContext)).toBe(SCARD.E_INVALID_HANDLE);
    expect(await s.releaseContext(hContext)).toBe(SCARD.E_INVALID_HANDLE);
  });

  it('wakes on sharing changes that pcsc-lite reports (INUSE → free)', async () => {
    stack = await makeStack({ readers: [{}], cardsIn: [0] });
    const a = stack.rm.openSession('a');
    const b = stack.rm.openSession('b');
    const ca = a.establishContext(0).hContext;
    const cb = b.establishContext(0).hContext;
    const c = await a.connect(ca, R0, 2, 3);
    expect(c.rv).toBe(SCARD.S_SUCCESS);
    const w = b.getStatusChange(cb, 0xffffffff, [{ szReader: R0, dwCurrentState: S.PRESENT | S.INUSE }]);
    expect(await isBlocked(w)).toBe(true);
    expect(await a.disconnect(c.hCard, 0)).toBe(SCARD.S_SUCCESS);
    const r = await withTimeout(w, 5000, 'sharing change');
    expect(r.readerStates[0].dwEventState & 0xffff).toBe(S.PRESENT | S.CHANGED);
  });
});
