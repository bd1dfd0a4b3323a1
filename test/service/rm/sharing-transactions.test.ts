// Share modes and transactions across sessions: SHARING_VIOLATION, blocking BEGIN and CONNECT, a session
// closed while holding a transaction, a card removed mid-transaction.

import { afterEach, describe, expect, it } from 'vitest';
import { SCARD, SCARD_DISPOSITION, SCARD_PROTOCOL, SCARD_SHARE, SCARD_STATE as S } from '../../../service/contract/pcsclite.js';
import type { RmSession } from '../../../service/rm/contract.js';
import { SELECT_CRYPTO, isBlocked, makeStack, waitForRm, withTimeout, type Stack } from '../../support/rm-stack.js';

const R0 = 'vscr Virtual Reader 00 00';
let stack: Stack | null = null;
afterEach(async () => {
  await stack?.close();
  stack = null;
});

interface Client {
  s: RmSession;
  ctx: number;
}

async function client(st: Stack, label: string): Promise<Client> {
  const s = st.rm.openSession(label);
  return { s, ctx: s.establishContext(0).hContext };
}

/** Two sessions, each with a SHARED connection to reader 0 (the usual start of a transaction test). */
async function twoSharedConnections(st: Stack): Promise<{ a: Client; b: Client; ha: number; hb: number }> {
  const a = await client(st, 'a');
  const b = await client(st, 'b');
  const ha = (await a.s.connect(a.ctx, R0, SCARD_SHARE.SHARED, SCARD_PROTOCOL.ANY)).hCard;
  const hb = (await b.s.connect(b.ctx, R0, SCARD_SHARE.SHARED, SCARD_PROTOCOL.ANY)).hCard;
  return { a, b, ha, hb };
}

describe('share modes', () => {
  it('exclusive and shared conflict both ways; the reader state shows it', async () => {
    stack = await makeStack({ readers: [{}], cardsIn: [0] });
    const a = await client(stack, 'a');
    const b = await client(stack, 'b');
    const ex = await a.s.connect(a.ctx, R0, SCARD_SHARE.EXCLUSIVE, SCARD_PROTOCOL.ANY);
    expect(ex.rv).toBe(SCARD.S_SUCCESS);
    expect(stack.rm.readerStates()[0].sharing).toBe(-1);
    expect((await b.s.connect(b.ctx, R0, SCARD_SHARE.SHARED, SCARD_PROTOCOL.ANY)).rv).toBe(SCARD.E_SHARING_VIOLATION);
    expect((await b.s.connect(b.ctx, R0, SCARD_SHARE.DIRECT, 0)).rv).toBe(SCARD.E_SHARING_VIOLATION);
    const seen = await b.s.getStatusChange(b.ctx, 0, [{ szReader: R0, dwCurrentState: S.UNAWARE }]);
    expect(seen.readerStates[0].dwEventState & 0xffff).toBe(S.PRESENT | S.EXCLUSIVE | S.CHANGED);
    // An exclusive handle may nest a transaction on top of its own lock.
    expect(await a.s.beginTransaction(ex.hCard)).toBe(SCARD.S_SUCCESS);
    expect(await a.s.endTransaction(ex.hCard, SCARD_DISPOSITION.LEAVE_CARD)).toBe(SCARD.S_SUCCESS);
    expect(await a.s.endTransaction(ex.hCard, SCARD_DISPOSITION.LEAVE_CARD)).toBe(SCARD.E_NOT_TRANSACTED);
    expect(await a.s.disconnect(ex.hCard, SCARD_DISPOSITION.LEAVE_CARD)).toBe(SCARD.S_SUCCESS);

    const sh = await a.s.connect(a.ctx, R0, SCARD_SHARE.SHARED, SCARD_PROTOCOL.ANY);
    const sh2 = await b.s.connect(b.ctx, R0, SCARD_SHARE.SHARED, SCARD_PROTOCOL.ANY);
    expect(sh2.rv).toBe(SCARD.S_SUCCESS);
    expect(stack.rm.readerStates()[0].sharing).toBe(2);
    expect((await b.s.connect(b.ctx, R0, SCARD_SHARE.EXCLUSIVE, SCARD_PROTOCOL.ANY)).rv).toBe(SCARD.E_SHARING_VIOLATION);
    expect((await b.s.reconnect(sh2.hCard, SCARD_SHARE.EXCLUSIVE, SCARD_PROTOCOL.ANY, SCARD_DISPOSITION.LEAVE_CARD)).rv).toBe(SCARD.E_SHARING_VIOLATION);
    expect(await a.s.disconnect(sh.hCard, SCARD_DISPOSITION.LEAVE_CARD)).toBe(SCARD.S_SUCCESS);
    // Alone now: the shared handle may become exclusive.
    expect((await b.s.reconnect(sh2.hCard, SCARD_SHARE.EXCLUSIVE, SCARD_PROTOCOL.ANY, SCARD_DISPOSITION.LEAVE_CARD)).rv).toBe(SCARD.S_SUCCESS);
    expect(stack.rm.readerStates()[0].sharing).toBe(-1);
    // Handles belong to their session.
    expect(a.s.ownsCard(sh2.hCard)).toBe(false);
    expect((await a.s.transmit(sh2.hCard, SCARD_PROTOCOL.T1, SELECT_CRYPTO, 258)).rv).toBe(SCARD.E_INVALID_HANDLE);
  });
});

describe('transactions', () => {
  it('a second BEGIN blocks until END; meanwhile the other gets SHARING_VIOLATION on transmit', async () => {
    stack = await makeStack({ readers: [{}], cardsIn: [0] });
    const { a, b, ha, hb } = await twoSharedConnections(stack);
    expect(await a.s.beginTransaction(ha)).toBe(SCARD.S_SUCCESS);
    expect(await a.s.beginTransaction(ha)).toBe(SCARD.S_SUCCESS); // nested
    const pending = b.s.beginTransaction(hb);
    expect(await isBlocked(pending)).toBe(true);
    expect((await b.s.transmit(hb, SCARD_PROTOCOL.T1, SELECT_CRYPTO, 258)).rv).toBe(SCARD.E_SHARING_VIOLATION);
    expect((await a.s.transmit(ha, SCARD_PROTOCOL.T1, SELECT_CRYPTO, 258)).rv).toBe(SCARD.S_SUCCESS);
    // A new connection waits for the transaction too (pcscd blocks CONNECT while a lock is held).
    const c = await client(stack, 'c');
    const connecting = c.s.connect(c.ctx, R0, SCARD_SHARE.SHARED, SCARD_PROTOCOL.ANY);
    expect(await isBlocked(connecting)).toBe(true);
    expect(await b.s.endTransaction(hb, SCARD_DISPOSITION.RESET_CARD)).toBe(SCARD.E_SHARING_VIOLATION);
    expect(await a.s.endTransaction(ha, SCARD_DISPOSITION.LEAVE_CARD)).toBe(SCARD.S_SUCCESS);
    expect(await isBlocked(pending)).toBe(true); // still nested once
    expect(await a.s.endTransaction(ha, SCARD_DISPOSITION.LEAVE_CARD)).toBe(SCARD.S_SUCCESS);
    expect(await withTimeout(pending, 5000, 'BEGIN after END')).toBe(SCARD.S_SUCCESS);
    expect(await isBlocked(connecting)).toBe(true); // now b holds it
    expect(await b.s.endTransaction(hb, SCARD_DISPOSITION.LEAVE_CARD)).toBe(SCARD.S_SUCCESS);
    expect((await withTimeout(connecting, 5000, 'CONNECT after END')).rv).toBe(SCARD.S_SUCCESS);
  });

  it('END with RESET resets the card and flags every handle, the caller included (docs/pcsclite-protocol.md §7 0x08)', async () => {
    stack = await makeStack({ readers: [{}], cardsIn: [0] });
    const { a, b, ha, hb } = await twoSharedConnections(stack);
    expect(await a.s.beginTransaction(ha)).toBe(SCARD.S_SUCCESS);
    expect(await a.s.endTransaction(ha, SCARD_DISPOSITION.RESET_CARD)).toBe(SCARD.S_SUCCESS);
    expect(stack.rm.readerStates()[0]).toMatchObject({ readerState: 0x34, protocol: 0 });
    expect((await a.s.transmit(ha, SCARD_PROTOCOL.T1, SELECT_CRYPTO, 258)).rv).toBe(SCARD.W_RESET_CARD);
    expect((await b.s.transmit(hb, SCARD_PROTOCOL.T1, SELECT_CRYPTO, 258)).rv).toBe(SCARD.W_RESET_CARD);
    expect(await b.s.beginTransaction(hb)).toBe(SCARD.W_RESET_CARD);
    expect((await b.s.reconnect(hb, SCARD_SHARE.SHARED, SCARD_PROTOCOL.ANY, SCARD_DISPOSITION.LEAVE_CARD)).rv).toBe(SCARD.S_SUCCESS);
    expect((await b.s.transmit(hb, SCARD_PROTOCOL.T1, SELECT_CRYPTO, 258)).rv).toBe(SCARD.S_SUCCESS);
    expect((await a.s.transmit(ha, SCARD_PROTOCOL.T1, SELECT_CRYPTO, 258)).rv).toBe(SCARD.W_RESET_CARD);
  });

  it('Disconnect with EJECT: a reader with the mechanism takes the card out; one without leaves it, both succeed', async () => {
    stack = await makeStack({ readers: [{}, { driver: { eject: true } }], cardsIn: [0, 1] });
    const R1 = 'vscr Virtual Reader 01 00';
    const a = await client(stack, 'a');
    const h0 = (await a.s.connect(a.ctx, R0, SCARD_SHARE.SHARED, SCARD_PROTOCOL.ANY)).hCard;
    const h1 = (await a.s.connect(a.ctx, R1, SCARD_SHARE.SHARED, SCARD_PROTOCOL.ANY)).hCard;
    expect(await a.s.disconnect(h0, SCARD_DISPOSITION.EJECT_CARD)).toBe(SCARD.S_SUCCESS);
    expect(await a.s.disconnect(h1, SCARD_DISPOSITION.EJECT_CARD)).toBe(SCARD.S_SUCCESS);
    expect(stack.readers[0].card).not.toBeNull();
    expect(stack.readers[1].card).toBeNull();
    const rm = stack.rm;
    await waitForRm(rm, () => rm.readerStates()[1]?.readerState === 0x0002, 'ejected card seen as removed');
    expect(rm.readerStates().map((r) => r.sharing)).toEqual([0, 0]);
    expect(rm.readerStates()[0].readerState).toBe(0x34);
  });

  it('a session closed while holding a transaction releases it (resetting the card, as pcscd does)', async () => {
    stack = await makeStack({ readers: [{}], cardsIn: [0] });
    const { a, b, ha, hb } = await twoSharedConnections(stack);
    expect(await a.s.beginTransaction(ha)).toBe(SCARD.S_SUCCESS);
    const pending = b.s.beginTransaction(hb);
    expect(await isBlocked(pending)).toBe(true);
    await a.s.close();
    // The holder vanished mid-transaction: the card was reset, so b first learns about the reset …
    expect(await withTimeout(pending, 5000, 'BEGIN after close')).toBe(SCARD.W_RESET_CARD);
    expect(stack.readers[0].trace().some((t) => t.ioControlName === 'IOCTL_SMARTCARD_POWER' && t.minorCode === 2)).toBe(true);
    expect(stack.rm.readerStates()[0].sharing).toBe(1);
    // … and after Reconnect takes the lock.
    expect((await b.s.reconnect(hb, SCARD_SHARE.SHARED, SCARD_PROTOCOL.ANY, SCARD_DISPOSITION.LEAVE_CARD)).rv).toBe(SCARD.S_SUCCESS);
    expect(await b.s.beginTransaction(hb)).toBe(SCARD.S_SUCCESS);
    expect((await b.s.transmit(hb, SCARD_PROTOCOL.T1, SELECT_CRYPTO, 258)).rv).toBe(SCARD.S_SUCCESS);
    expect(await b.s.endTransaction(hb, SCARD_DISPOSITION.LEAVE_CARD)).toBe(SCARD.S_SUCCESS);
    expect(a.s.isValidContext(a.ctx)).toBe(SCARD.E_INVALID_HANDLE);
  });

  it('closing a session without a transaction leaves the card alone and frees an exclusive connection', async () => {
    stack = await makeStack({ readers: [{}], cardsIn: [0] });
    const a = await client(stack, 'a');
    const b = await client(stack, 'b');
    const hb = (await b.s.connect(b.ctx, R0, SCARD_SHARE.SHARED, SCARD_PROTOCOL.ANY)).hCard;
    await b.s.disconnect(hb, SCARD_DISPOSITION.LEAVE_CARD);
    expect((await a.s.connect(a.ctx, R0, SCARD_SHARE.EXCLUSIVE, SCARD_PROTOCOL.ANY)).rv).toBe(SCARD.S_SUCCESS);
    expect((await b.s.connect(b.ctx, R0, SCARD_SHARE.SHARED, SCARD_PROTOCOL.ANY)).rv).toBe(SCARD.E_SHARING_VIOLATION);
    await a.s.close();
    const again = await b.s.connect(b.ctx, R0, SCARD_SHARE.SHARED, SCARD_PROTOCOL.ANY);
    expect(again.rv).toBe(SCARD.S_SUCCESS);
    expect((await b.s.transmit(again.hCard, SCARD_PROTOCOL.T1, SELECT_CRYPTO, 258)).rv).toBe(SCARD.S_SUCCESS);
  });

  it('a card removed mid-transaction gives W_REMOVED_CARD to the holder and to the waiter', async () => {
    stack = await makeStack({ readers: [{}], cardsIn: [0] });
    const { a, b, ha, hb } = await twoSharedConnections(stack);
    expect(await a.s.beginTransaction(ha)).toBe(SCARD.S_SUCCESS);
    const pending = b.s.beginTransaction(hb);
    expect(await isBlocked(pending)).toBe(true);
    stack.readers[0].removeCard();
    expect(await withTimeout(pending, 5000, 'waiter after removal')).toBe(SCARD.W_REMOVED_CARD);
    await waitForRm(stack.rm, () => stack!.rm.readerStates()[0].readerState === 0x02, 'removal');
    expect((await a.s.transmit(ha, SCARD_PROTOCOL.T1, SELECT_CRYPTO, 258)).rv).toBe(SCARD.W_REMOVED_CARD);
    expect(await a.s.endTransaction(ha, SCARD_DISPOSITION.LEAVE_CARD)).toBe(SCARD.W_REMOVED_CARD);
    expect(stack.rm.readerStates()[0]).toMatchObject({ readerState: 0x02, eventCounter: 1, protocol: 0 });
    expect(await a.s.disconnect(ha, SCARD_DISPOSITION.RESET_CARD)).toBe(SCARD.S_SUCCESS);
  });
});

describe('shutdown', () => {
  it('ends waits and leaves sessions closable', async () => {
    const st = await makeStack({ readers: [{}], cardsIn: [0] });
    const { a, b, ha, hb } = await twoSharedConnections(st);
    expect(await a.s.beginTransaction(ha)).toBe(SCARD.S_SUCCESS);
    const begin = b.s.beginTransaction(hb);
    const gsc = b.s.getStatusChange(b.ctx, 0xffffffff, [{ szReader: R0, dwCurrentState: S.PRESENT | S.INUSE }]);
    expect(await isBlocked(begin)).toBe(true);
    expect(await isBlocked(gsc)).toBe(true);
    await withTimeout(st.rm.shutdown(), 5000, 'rm.shutdown()');
    expect((await withTimeout(gsc, 5000, 'GSC after shutdown')).rv).toBe(SCARD.E_SYSTEM_CANCELLED);
    expect(await withTimeout(begin, 5000, 'BEGIN after shutdown')).toBe(SCARD.E_READER_UNAVAILABLE);
    expect((await a.s.transmit(ha, SCARD_PROTOCOL.T1, SELECT_CRYPTO, 258)).rv).toBe(SCARD.E_READER_UNAVAILABLE);
    expect(a.s.establishContext(0).rv).toBe(SCARD.E_NO_SERVICE);
    await withTimeout(Promise.all([a.s.close(), b.s.close()]), 5000, 'session close after shutdown');
    // Every tracking IRP was cancelled by the handle close: nothing is left pending in the driver.
    expect(st.readers[0].trace().filter((t) => t.pending)).toEqual([]);
    for (const r of st.bus.readers()) st.bus.removeReader(r);
  });
});
