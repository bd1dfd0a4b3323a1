// Blocking BEGIN/CONNECT behind another client's transaction, over the real service's socket (§7).
import { describe, expect, it } from 'vitest';
import { beginStruct, Command, connectStruct, endStruct, statusStruct } from '../../service/pcsclite/index.js';
import { SCARD } from '../../service/contract/pcsclite.js';
import { useWireSession } from './wire-session.js';

const R0 = 'vscr Virtual Reader 00 00';

describe('transactions across connections', () => {
  const session = useWireSession();
  const client = session.client.bind(session);

  it('BEGIN and CONNECT wait for the holder to END, other connections are served meanwhile', async () => {
    const a = await client();
    const b = await client();
    const c = await client();
    const other = await client();
    const ha = await a.context();
    const hb = await b.context();
    const hc = await c.context();
    await other.context();
    const ca = await a.connect(ha, R0);
    const cb = await b.connect(hb, R0);
    expect([ca.rv, cb.rv]).toEqual([0, 0]);

    a.request(Command.SCARD_BEGIN_TRANSACTION, beginStruct.encode({ hCard: ca.hCard, rv: 0 }));
    expect(beginStruct.decode(await a.read(8)).rv).toBe(0);
    b.request(Command.SCARD_BEGIN_TRANSACTION, beginStruct.encode({ hCard: cb.hCard, rv: 0 }));
    // A CONNECT from a third context is delayed too (pcscd waits for the transaction to end).
    c.request(
      Command.SCARD_CONNECT,
      connectStruct.encode({
        hContext: hc,
        szReader: R0,
        dwShareMode: 2,
        dwPreferredProtocols: 3,
        hCard: 0,
        dwActiveProtocol: 0,
        rv: 0,
      }),
    );

    // Meanwhile: the holder keeps working and an unrelated connection gets its snapshot.
    expect((await other.readerStates()).length).toBe(2944);
    const tr = await a.transmit(ca.hCard, new Uint8Array([0x00, 0x84, 0x00, 0x00, 0x08]));
    expect(tr.rv).toBe(0);
    a.request(Command.SCARD_STATUS, statusStruct.encode({ hCard: ca.hCard, rv: 0 }));
    expect(statusStruct.decode(await a.read(8)).rv).toBe(0);
    expect(b.available).toBe(0);

    a.request(Command.SCARD_END_TRANSACTION, endStruct.encode({ hCard: ca.hCard, dwDisposition: 0, rv: 0 }));
    expect(endStruct.decode(await a.read(12)).rv).toBe(0);
    expect(beginStruct.decode(await b.read(8))).toEqual({ hCard: cb.hCard, rv: 0 });
    b.request(Command.SCARD_END_TRANSACTION, endStruct.encode({ hCard: cb.hCard, dwDisposition: 0, rv: 0 }));
    expect(endStruct.decode(await b.read(12)).rv).toBe(0);
    const cc = connectStruct.decode(await c.read(152));
    expect(cc.rv).toBe(0);
    expect(cc.hCard).not.toBe(0);

    // END without a transaction, as pcscd: SCARD_E_NOT_TRANSACTED.
    b.request(Command.SCARD_END_TRANSACTION, endStruct.encode({ hCard: cb.hCard, dwDisposition: 0, rv: 0 }));
    expect(endStruct.decode(await b.read(12)).rv).toBe(SCARD.E_NOT_TRANSACTED);
  });

  it('a connection that dies holding the transaction releases it', async () => {
    const a = await client();
    const b = await client();
    const ha = await a.context();
    const hb = await b.context();
    const ca = await a.connect(ha, R0);
    const cb = await b.connect(hb, R0);
    a.request(Command.SCARD_BEGIN_TRANSACTION, beginStruct.encode({ hCard: ca.hCard, rv: 0 }));
    expect(beginStruct.decode(await a.read(8)).rv).toBe(0);
    b.request(Command.SCARD_BEGIN_TRANSACTION, beginStruct.encode({ hCard: cb.hCard, rv: 0 }));
    a.destroy();
    // pcscd resets the card when the holder's context goes away mid-transaction; b gets the lock either way.
    const rv = beginStruct.decode(await b.read(8)).rv;
    expect([SCARD.S_SUCCESS, SCARD.W_RESET_CARD]).toContain(rv);
  });
});
