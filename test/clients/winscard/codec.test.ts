// The winscard client over a mock transport: exact JSON-RPC frames, hex conversion, PcscError on rv, the
// AbortSignal → SCardCancel path, closed states and malformed replies.
import { describe, expect, it } from 'vitest';
import { WinscardClient } from '../../../clients/winscard/client.js';
import { decodeReply, encodeRequest } from '../../../clients/winscard/codec.js';
import { JsonRpcError, PcscError, WinscardClosedError, WinscardSocketError } from '../../../clients/winscard/errors.js';
import { pcscWebSocketUrl } from '../../../clients/winscard/client.js';
import { isVscrError } from '../../../clients/sdk/errors.js';
import { INFINITE, SCARD, SCARD_PROTOCOL, SCARD_SHARE, SCARD_STATE } from '../../../service/contract/pcsclite.js';
import { MockRpcTransport } from '../mock-transport.js';

function setup() {
  const t = new MockRpcTransport();
  return { t, c: new WinscardClient(t) };
}

describe('codec', () => {
  it('encodes a JSON-RPC 2.0 request', () => {
    expect(encodeRequest(7, 'SCardCancel', { hContext: 5 })).toBe('{"jsonrpc":"2.0","id":7,"method":"SCardCancel","params":{"hContext":5}}');
  });
  it('decodes results and errors and rejects non-replies', () => {
    expect(decodeReply('{"jsonrpc":"2.0","id":1,"result":{"rv":0}}')).toEqual({ kind: 'result', id: 1, result: { rv: 0 } });
    expect(decodeReply('{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}')).toEqual({ kind: 'error', id: null, code: -32700, message: 'Parse error' });
    expect(decodeReply('{"jsonrpc":"2.0","method":"readerChanged","params":{}}')).toEqual({ kind: 'notification', method: 'readerChanged' });
    expect(() => decodeReply('nope')).toThrow(TypeError);
    expect(() => decodeReply('{"id":1,"result":{}}')).toThrow(/jsonrpc/);
    expect(() => decodeReply('{"jsonrpc":"2.0","id":"x","result":{}}')).toThrow(/id/);
    expect(() => decodeReply('{"jsonrpc":"2.0","id":1,"result":3}')).toThrow(/object/);
  });
  it('derives the WebSocket URL from the service URL', () => {
    expect(pcscWebSocketUrl('http://127.0.0.1:8790')).toBe('ws://127.0.0.1:8790/v1/pcsc');
    expect(pcscWebSocketUrl('https://h/base/')).toBe('wss://h/base/v1/pcsc');
  });
});

describe('WinscardClient over a mock transport', () => {
  it('sends the contract frames and decodes the results', async () => {
    const { t, c } = setup();
    t.auto = (f) => {
      switch (f.method) {
        case 'SCardEstablishContext': return { rv: 0, hContext: 0x1234 };
        case 'SCardListReaders': return { rv: 0, mszReaders: ['vscr Virtual Reader 00 00', 'vscr Virtual Reader 01 00'] };
        case 'SCardListReaderGroups': return { rv: 0, mszGroups: ['SCard$DefaultReaders'] };
        case 'SCardConnect': return { rv: 0, hCard: 99, dwActiveProtocol: 2 };
        case 'SCardTransmit': return { rv: 0, pioRecvPci: { dwProtocol: 2 }, pbRecvBuffer: '6f009000' };
        case 'SCardControl': return { rv: 0, pbRecvBuffer: '' };
        case 'SCardGetAttrib': return { rv: 0, pbAttr: '3b8f8001' };
        case 'SCardStatus': return { rv: 0, szReaderName: 'vscr Virtual Reader 00 00', dwState: 0x34, dwProtocol: 2, pbAtr: '3b00' };
        case 'SCardReconnect': return { rv: 0, dwActiveProtocol: 1 };
        default: return { rv: 0 };
      }
    };
    const ctx = await c.establishContext();
    expect(ctx).toBe(0x1234);
    expect(await c.listReaders(ctx)).toEqual(['vscr Virtual Reader 00 00', 'vscr Virtual Reader 01 00']);
    expect(await c.listReaderGroups(ctx)).toEqual(['SCard$DefaultReaders']);
    const { hCard, protocol } = await c.connect(ctx, 'vscr Virtual Reader 00 00', SCARD_SHARE.SHARED, SCARD_PROTOCOL.ANY);
    expect([hCard, protocol]).toEqual([99, 2]);
    expect(Buffer.from(await c.transmit(hCard, protocol, Uint8Array.of(0x00, 0xa4, 0x04, 0x00, 0x00))).toString('hex')).toBe('6f009000');
    expect(await c.transmitWithPci(hCard, protocol, Uint8Array.of(0x00, 0xb0, 0x00, 0x00, 0x02), { recvLength: 4 }))
      .toEqual({ response: Uint8Array.of(0x6f, 0, 0x90, 0), recvProtocol: 2 });
    expect(await c.control(hCard, 0x42000d48, Uint8Array.of(1, 2))).toEqual(new Uint8Array(0));
    expect(Buffer.from(await c.getAttrib(hCard, 0x90303)).toString('hex')).toBe('3b8f8001');
    await c.setAttrib(hCard, 0x7fff0001, Uint8Array.of(0xab));
    expect(await c.status(hCard)).toEqual({ readerName: 'vscr Virtual Reader 00 00', state: 0x34, protocol: 2, atr: Uint8Array.of(0x3b, 0) });
    expect(await c.reconnect(hCard, SCARD_SHARE.SHARED, SCARD_PROTOCOL.T0, 1)).toBe(1);
    await c.beginTransaction(hCard);
    await c.endTransaction(hCard, 0);
    await c.disconnect(hCard, 0);
    expect(await c.isValidContext(ctx)).toBe(true);
    await c.releaseContext(ctx);

    expect(t.sent.map((f) => [f.method, f.params])).toEqual([
      ['SCardEstablishContext', { dwScope: 2 }],
      ['SCardListReaders', { hContext: 0x1234 }],
      ['SCardListReaderGroups', { hContext: 0x1234 }],
      ['SCardConnect', { hContext: 0x1234, szReader: 'vscr Virtual Reader 00 00', dwShareMode: 2, dwPreferredProtocols: 3 }],
      ['SCardTransmit', { hCard: 99, pioSendPci: { dwProtocol: 2 }, pbSendBuffer: '00a4040000', cbRecvLength: 65548 }],
      ['SCardTransmit', { hCard: 99, pioSendPci: { dwProtocol: 2 }, pbSendBuffer: '00b0000002', cbRecvLength: 4 }],
      ['SCardControl', { hCard: 99, dwControlCode: 0x42000d48, pbSendBuffer: '0102', cbRecvLength: 65548 }],
      ['SCardGetAttrib', { hCard: 99, dwAttrId: 0x90303, cbAttrLen: 264 }],
      ['SCardSetAttrib', { hCard: 99, dwAttrId: 0x7fff0001, pbAttr: 'ab' }],
      ['SCardStatus', { hCard: 99 }],
      ['SCardReconnect', { hCard: 99, dwShareMode: 2, dwPreferredProtocols: 1, dwInitialization: 1 }],
      ['SCardBeginTransaction', { hCard: 99 }],
      ['SCardEndTransaction', { hCard: 99, dwDisposition: 0 }],
      ['SCardDisconnect', { hCard: 99, dwDisposition: 0 }],
      ['SCardIsValidContext', { hContext: 0x1234 }],
      ['SCardReleaseContext', { hContext: 0x1234 }],
    ]);
    // ids are unique and increasing
    expect(t.sent.map((f) => f.id)).toEqual(t.sent.map((_, i) => i + 1));
  });

  it('throws PcscError with rv and the pcsc-lite name for a failing rv', async () => {
    const { t, c } = setup();
    t.auto = () => ({ rv: SCARD.E_NO_SMARTCARD });
    const err = await c.connect(1, 'r', SCARD_SHARE.SHARED).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PcscError);
    expect(err).toMatchObject({ rv: 0x8010000c, code: 'SCARD_E_NO_SMARTCARD', method: 'SCardConnect' });
    expect(isVscrError(err)).toBe(true);
  });

  it('answers isValidContext false and listReaders [] instead of throwing', async () => {
    const { t, c } = setup();
    t.auto = (f) => ({ rv: f.method === 'SCardIsValidContext' ? SCARD.E_INVALID_HANDLE : SCARD.E_NO_READERS_AVAILABLE });
    expect(await c.isValidContext(5)).toBe(false);
    expect(await c.listReaders(5)).toEqual([]);
    t.auto = () => ({ rv: SCARD.E_NO_SERVICE });
    await expect(c.isValidContext(5)).rejects.toMatchObject({ code: 'SCARD_E_NO_SERVICE' });
  });

  it('getStatusChange sends the reader states and decodes the ATR', async () => {
    const { t, c } = setup();
    const p = c.getStatusChange(3, [{ reader: 'R', currentState: SCARD_STATE.EMPTY }]);
    await t.waitForFrames(1);
    expect(t.sent[0].params).toEqual({ hContext: 3, dwTimeout: INFINITE, rgReaderStates: [{ szReader: 'R', dwCurrentState: 0x10 }] });
    t.reply(t.sent[0].id, { rv: 0, rgReaderStates: [{ szReader: 'R', dwCurrentState: 0x10, dwEventState: 0x10022, cbAtr: 2, rgbAtr: '3b00' }] });
    expect(await p).toEqual([{ reader: 'R', currentState: 0x10, eventState: 0x10022, atr: Uint8Array.of(0x3b, 0) }]);
  });

  it('an AbortSignal ends a blocking getStatusChange by sending SCardCancel', async () => {
    const { t, c } = setup();
    const ac = new AbortController();
    const p = c.getStatusChange(3, [{ reader: 'R', currentState: 0 }], { timeout: 60_000, signal: ac.signal });
    await t.waitForFrames(1);
    expect(t.sent[0].params.dwTimeout).toBe(60_000);
    ac.abort();
    await t.waitForFrames(2);
    expect(t.sent[1]).toMatchObject({ method: 'SCardCancel', params: { hContext: 3 } });
    t.reply(t.sent[1].id, { rv: 0 });
    t.reply(t.sent[0].id, { rv: SCARD.E_CANCELLED, rgReaderStates: [] });
    await expect(p).rejects.toMatchObject({ code: 'SCARD_E_CANCELLED', rv: 0x80100002 });
    // an already-aborted signal sends nothing
    await expect(c.getStatusChange(3, [], { signal: ac.signal })).rejects.toMatchObject({ code: 'SCARD_E_CANCELLED' });
    expect(t.sent).toHaveLength(2);
  });

  it('replies may arrive out of order', async () => {
    const { t, c } = setup();
    const a = c.establishContext();
    const b = c.establishContext();
    await t.waitForFrames(2);
    t.reply(2, { rv: 0, hContext: 22 });
    t.reply(1, { rv: 0, hContext: 11 });
    expect([await a, await b]).toEqual([11, 22]);
  });

  it('maps a JSON-RPC error to JsonRpcError', async () => {
    const { t, c } = setup();
    const p = c.cancel(1);
    await t.waitForFrames(1);
    t.replyError(1, -32602, 'Invalid params');
    await expect(p).rejects.toBeInstanceOf(JsonRpcError);
    await expect(p).rejects.toMatchObject({ rpcCode: -32602, code: 'VSCR_ERR_JSONRPC' });
  });

  it('close() fails calls in flight and later calls with WinscardClosedError', async () => {
    const { t, c } = setup();
    const p = c.getStatusChange(1, []);
    await t.waitForFrames(1);
    await c.close();
    expect(t.closed).toBe(true);
    await expect(p).rejects.toBeInstanceOf(WinscardClosedError);
    await expect(c.establishContext()).rejects.toMatchObject({ code: 'VSCR_ERR_CLIENT_CLOSED' });
    expect(c.closed).toBe(true);
  });

  it('a dropped socket fails pending and later calls with WinscardSocketError', async () => {
    const { t, c } = setup();
    const p = c.establishContext();
    await t.waitForFrames(1);
    t.drop(new WinscardSocketError('the PC/SC WebSocket closed (code 1006)'));
    await expect(p).rejects.toMatchObject({ code: 'VSCR_ERR_SOCKET' });
    await expect(c.cancel(1)).rejects.toMatchObject({ code: 'VSCR_ERR_SOCKET' });
  });

  it('a malformed frame or result ends the session with a typed error', async () => {
    const { t, c } = setup();
    const p = c.establishContext();
    await t.waitForFrames(1);
    t.deliver('{"not":"jsonrpc"}');
    await expect(p).rejects.toBeInstanceOf(WinscardSocketError);

    const s2 = setup();
    s2.t.auto = () => ({ rv: 0 }); // hContext missing
    await expect(s2.c.establishContext()).rejects.toThrow(/hContext/);
    s2.t.auto = () => ({ rv: 0, pbRecvBuffer: 'zz' });
    await expect(s2.c.transmit(1, 2, Uint8Array.of(0, 0, 0, 0))).rejects.toThrow(/not hex/);
    s2.t.auto = () => ({ rv: 0, pbRecvBuffer: '9000' }); // pioRecvPci missing
    await expect(s2.c.transmitWithPci(1, 2, Uint8Array.of(0, 0, 0, 0))).rejects.toThrow(/pioRecvPci/);
  });
});
