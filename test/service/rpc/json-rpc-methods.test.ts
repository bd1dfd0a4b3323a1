// Every /v1/pcsc method over a real WebSocket against the real stack (reader bus, card, crypto device),
// plus concurrency on one connection and the session's lifetime following the socket's.

import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CM_IOCTL_GET_FEATURE_REQUEST, PNP_NOTIFICATION_READER, SCARD, SCARD_ATTR, SCARD_STATE as S } from '../../../service/contract/pcsclite.js';
import { hex, isBlocked, psoHash, waitForRm, withTimeout } from '../../support/rm-stack.js';
import { RpcClient, startRpcServer, type RpcServer } from '../../support/rpc-client.js';

const R0 = 'vscr Virtual Reader 00 00';
const R1 = 'vscr Virtual Reader 01 00';
const SELECT = '00a4040006f0767363720100';

let server: RpcServer;
beforeAll(async () => {
  server = await startRpcServer({ readers: [{}, {}], cardsIn: [0], crypto: true });
});
afterAll(async () => {
  await server.close();
});

describe('JSON-RPC /v1/pcsc methods', () => {
  it('runs a whole winscard session', async () => {
    const c = await RpcClient.connect(server.url);
    const est = await c.call('SCardEstablishContext', { dwScope: 2 });
    expect(est.rv).toBe(SCARD.S_SUCCESS);
    const hContext = est.hContext as number;
    expect(hContext).toBeGreaterThan(0);
    expect(await c.call('SCardIsValidContext', { hContext })).toEqual({ rv: 0 });
    expect(await c.call('SCardListReaders', { hContext })).toEqual({ rv: 0, mszReaders: [R0, R1] });
    expect(await c.call('SCardListReaders', { hContext, mszGroups: ['SCard$DefaultReaders'] })).toEqual({ rv: 0, mszReaders: [R0, R1] });
    expect(await c.call('SCardListReaderGroups', { hContext })).toEqual({ rv: 0, mszGroups: ['SCard$DefaultReaders'] });

    const gsc = await c.call('SCardGetStatusChange', { hContext, dwTimeout: 0, rgReaderStates: [{ szReader: R0, dwCurrentState: 0 }, { szReader: R1, dwCurrentState: 0 }] });
    const atr = hex(server.stack.readers[0].card!.atr);
    expect(gsc).toEqual({
      rv: 0,
      rgReaderStates: [
        { szReader: R0, dwCurrentState: 0, dwEventState: S.PRESENT | S.CHANGED, cbAtr: atr.length / 2, rgbAtr: atr },
        { szReader: R1, dwCurrentState: 0, dwEventState: S.EMPTY | S.CHANGED, cbAtr: 0, rgbAtr: '' },
      ],
    });

    const con = await c.call('SCardConnect', { hContext, szReader: R0, dwShareMode: 2, dwPreferredProtocols: 3 });
    expect(con).toMatchObject({ rv: 0, dwActiveProtocol: 2 });
    const hCard = con.hCard as number;

    expect(await c.call('SCardBeginTransaction', { hCard })).toEqual({ rv: 0 });
    const sel = await c.call('SCardTransmit', { hCard, pioSendPci: { dwProtocol: 2 }, pbSendBuffer: SELECT });
    expect(sel.rv).toBe(0);
    expect(sel.pioRecvPci).toEqual({ dwProtocol: 2 });
    expect((sel.pbRecvBuffer as string).slice(-4)).toBe('9000');
    const data = Buffer.from('vscr json-rpc');
    const h = await c.call('SCardTransmit', { hCard, pioSendPci: { dwProtocol: 2 }, pbSendBuffer: hex(psoHash(data)).toUpperCase(), cbRecvLength: 34 });
    expect(h).toEqual({ rv: 0, pioRecvPci: { dwProtocol: 2 }, pbRecvBuffer: createHash('sha256').update(data).digest('hex') + '9000' });
    const small = await c.call('SCardTransmit', { hCard, pioSendPci: { dwProtocol: 2 }, pbSendBuffer: hex(psoHash(data)), cbRecvLength: 33 });
    expect(small).toEqual({ rv: SCARD.E_INSUFFICIENT_BUFFER, pioRecvPci: { dwProtocol: 0 }, pbRecvBuffer: '' });
    expect(await c.call('SCardEndTransaction', { hCard, dwDisposition: 0 })).toEqual({ rv: 0 });

    const ctl = await c.call('SCardControl', { hCard, dwControlCode: CM_IOCTL_GET_FEATURE_REQUEST, pbSendBuffer: '' });
    expect(ctl.rv).toBe(0);
    expect(typeof ctl.pbRecvBuffer).toBe('string');
    expect(await c.call('SCardGetAttrib', { hCard, dwAttrId: SCARD_ATTR.ATR_STRING })).toEqual({ rv: 0, pbAttr: atr });
    expect(await c.call('SCardGetAttrib', { hCard, dwAttrId: SCARD_ATTR.DEVICE_FRIENDLY_NAME_A, cbAttrLen: 264 })).toEqual({ rv: 0, pbAttr: Buffer.from(`${R0}\0`).toString('hex') });
    expect(await c.call('SCardSetAttrib', { hCard, dwAttrId: SCARD_ATTR.DEVICE_IN_USE, pbAttr: '01000000' })).toEqual({ rv: 0 });
    expect(await c.call('SCardStatus', { hCard })).toEqual({ rv: 0, szReaderName: R0, dwState: 0x34, dwProtocol: 2, pbAtr: atr });
    expect(await c.call('SCardReconnect', { hCard, dwShareMode: 2, dwPreferredProtocols: 3, dwInitialization: 1 })).toEqual({ rv: 0, dwActiveProtocol: 2 });
    expect(await c.call('SCardDisconnect', { hCard, dwDisposition: 0 })).toEqual({ rv: 0 });
    expect(await c.call('SCardDisconnect', { hCard, dwDisposition: 0 })).toEqual({ rv: SCARD.E_INVALID_HANDLE });
    expect(await c.call('SCardCancel', { hContext })).toEqual({ rv: 0 });
    expect(await c.call('SCardReleaseContext', { hContext })).toEqual({ rv: 0 });
    expect(await c.call('SCardIsValidContext', { hContext })).toEqual({ rv: SCARD.E_INVALID_HANDLE });
    expect(await c.call('SCardConnect', { hContext, szReader: R0, dwShareMode: 2, dwPreferredProtocols: 3 })).toEqual({ rv: SCARD.E_INVALID_HANDLE, hCard: 0, dwActiveProtocol: 0 });
    await c.close();
  });

  it('a blocked GetStatusChange does not hold up other requests on the same connection', async () => {
    const c = await RpcClient.connect(server.url);
    const hContext = (await c.call('SCardEstablishContext', { dwScope: 0 })).hContext as number;
    const wait = c.call('SCardGetStatusChange', { hContext, dwTimeout: 0xffffffff, rgReaderStates: [{ szReader: R1, dwCurrentState: S.EMPTY }] }, 10000);
    expect(await isBlocked(wait)).toBe(true);
    expect(await c.call('SCardListReaders', { hContext })).toEqual({ rv: 0, mszReaders: [R0, R1] });
    const con = await c.call('SCardConnect', { hContext, szReader: R0, dwShareMode: 2, dwPreferredProtocols: 3 });
    expect(con.rv).toBe(0);
    expect(await isBlocked(wait)).toBe(true);
    server.stack.readers[1].insertCard(await server.stack.newCard());
    const r = await withTimeout(wait, 5000, 'insert wake-up');
    expect(r.rv).toBe(0);
    const ev = (r.rgReaderStates as { dwEventState: number }[])[0].dwEventState;
    expect(ev).toBe(((1 << 16) | S.PRESENT | S.CHANGED) >>> 0);
    // Cancel from the same connection ends a wait.
    const w2 = c.call('SCardGetStatusChange', { hContext, dwTimeout: 0xffffffff, rgReaderStates: [{ szReader: PNP_NOTIFICATION_READER, dwCurrentState: 0 }] });
    expect(await isBlocked(w2)).toBe(true);
    expect(await c.call('SCardCancel', { hContext })).toEqual({ rv: 0 });
    expect((await w2).rv).toBe(SCARD.E_CANCELLED);
    server.stack.readers[1].removeCard();
    await waitForRm(server.stack.rm, () => server.stack.rm.readerStates()[1].readerState === 0x02, 'removal');
    await c.close();
  });

  it('closing the socket releases a transaction held by that client', async () => {
    const a = await RpcClient.connect(server.url);
    const b = await RpcClient.connect(server.url);
    const ca = (await a.call('SCardEstablishContext', { dwScope: 0 })).hContext;
    const cb = (await b.call('SCardEstablishContext', { dwScope: 0 })).hContext;
    const ha = (await a.call('SCardConnect', { hContext: ca, szReader: R0, dwShareMode: 2, dwPreferredProtocols: 3 })).hCard;
    const hb = (await b.call('SCardConnect', { hContext: cb, szReader: R0, dwShareMode: 2, dwPreferredProtocols: 3 })).hCard;
    expect(await a.call('SCardBeginTransaction', { hCard: ha })).toEqual({ rv: 0 });
    const pending = b.call('SCardBeginTransaction', { hCard: hb }, 10000);
    expect(await isBlocked(pending)).toBe(true);
    // b cannot use a's handle: ownership is per connection.
    expect(await b.call('SCardTransmit', { hCard: ha, pioSendPci: { dwProtocol: 2 }, pbSendBuffer: SELECT })).toMatchObject({ rv: SCARD.E_INVALID_HANDLE });
    await a.close();
    // pcscd resets the card of a transaction holder that vanished: b learns it, reconnects, and gets the lock.
    expect(await withTimeout(pending, 5000, 'BEGIN after socket close')).toEqual({ rv: SCARD.W_RESET_CARD });
    expect(await b.call('SCardReconnect', { hCard: hb, dwShareMode: 2, dwPreferredProtocols: 3, dwInitialization: 0 })).toEqual({ rv: 0, dwActiveProtocol: 2 });
    expect(await b.call('SCardBeginTransaction', { hCard: hb })).toEqual({ rv: 0 });
    expect(await b.call('SCardEndTransaction', { hCard: hb, dwDisposition: 0 })).toEqual({ rv: 0 });
    expect(server.stack.rm.readerStates()[0].sharing).toBe(1);
    await b.close();
    await waitForRm(server.stack.rm, () => server.stack.rm.readerStates()[0].sharing === 0, 'b released');
  });
});
