// Malformed JSON-RPC frames over a real WebSocket: each gets the right error object, the connection (and the
// service) keep working; only an oversize message closes the socket (1009).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { JSONRPC_ERROR, MAX_IN_FLIGHT, SERVER_BUSY } from '../../../service/rpc/json-rpc/index.js';
import { RpcClient, startRpcServer, type RpcServer } from '../../support/rpc-client.js';

let server: RpcServer;
beforeAll(async () => {
  // This app registers @fastify/websocket itself; the plugin must use it rather than register a second one.
  server = await startRpcServer({ readers: [{}], registerWebsocket: true });
});
afterAll(async () => {
  await server.close();
});

const err = (id: unknown, code: number): Record<string, unknown> => ({ jsonrpc: '2.0', id, error: expect.objectContaining({ code, message: expect.any(String) }) });

describe('JSON-RPC error handling', () => {
  it('answers each malformed frame and keeps the connection', async () => {
    const c = await RpcClient.connect(server.url);
    expect(await c.raw('{not json')).toEqual(err(null, JSONRPC_ERROR.PARSE_ERROR));
    expect(await c.raw('42')).toEqual(err(null, JSONRPC_ERROR.INVALID_REQUEST));
    expect(await c.raw('[]')).toEqual(err(null, JSONRPC_ERROR.INVALID_REQUEST));
    expect(await c.raw(JSON.stringify({ jsonrpc: '1.0', id: 'x', method: 'SCardEstablishContext' }))).toEqual(err('x', JSONRPC_ERROR.INVALID_REQUEST));
    expect(await c.raw(JSON.stringify({ jsonrpc: '2.0', id: { a: 1 }, method: 'SCardEstablishContext' }))).toEqual(err(null, JSONRPC_ERROR.INVALID_REQUEST));
    expect(await c.raw(JSON.stringify({ jsonrpc: '2.0', id: 'm', method: 7 }))).toEqual(err('m', JSONRPC_ERROR.INVALID_REQUEST));
    expect(await c.request('SCardFrobnicate', {})).toEqual(err(expect.any(Number), JSONRPC_ERROR.METHOD_NOT_FOUND));
    expect(await c.request('toString', {})).toEqual(err(expect.any(Number), JSONRPC_ERROR.METHOD_NOT_FOUND));
    expect(await c.request('SCardEstablishContext', [2])).toEqual(err(expect.any(Number), JSONRPC_ERROR.INVALID_PARAMS));
    expect(await c.request('SCardEstablishContext', {})).toEqual(err(expect.any(Number), JSONRPC_ERROR.INVALID_PARAMS));
    expect(await c.request('SCardEstablishContext', { dwScope: -1 })).toEqual(err(expect.any(Number), JSONRPC_ERROR.INVALID_PARAMS));
    expect(await c.request('SCardEstablishContext', { dwScope: 1.5 })).toEqual(err(expect.any(Number), JSONRPC_ERROR.INVALID_PARAMS));
    expect(await c.request('SCardEstablishContext', { dwScope: '2' })).toEqual(err(expect.any(Number), JSONRPC_ERROR.INVALID_PARAMS));
    const hContext = (await c.call('SCardEstablishContext', { dwScope: 0 })).hContext;
    const bad = await c.request('SCardTransmit', { hCard: 1, pioSendPci: { dwProtocol: 2 }, pbSendBuffer: '0a4' });
    expect(bad).toEqual(err(expect.any(Number), JSONRPC_ERROR.INVALID_PARAMS));
    expect(((bad.error as { message: string }).message)).toContain('pbSendBuffer');
    expect(await c.request('SCardTransmit', { hCard: 1, pioSendPci: { dwProtocol: 2 }, pbSendBuffer: 'zz' })).toEqual(err(expect.any(Number), JSONRPC_ERROR.INVALID_PARAMS));
    expect(await c.request('SCardTransmit', { hCard: 1, pioSendPci: 2, pbSendBuffer: '00' })).toEqual(err(expect.any(Number), JSONRPC_ERROR.INVALID_PARAMS));
    expect(await c.request('SCardGetStatusChange', { hContext, dwTimeout: 0, rgReaderStates: [{ szReader: 5, dwCurrentState: 0 }] })).toEqual(err(expect.any(Number), JSONRPC_ERROR.INVALID_PARAMS));
    // A PC/SC failure is a result, not an error.
    expect(await c.request('SCardConnect', { hContext, szReader: 'nope', dwShareMode: 2, dwPreferredProtocols: 3 })).toMatchObject({ result: { rv: 0x80100009 } });
    // Still usable after all that.
    expect(await c.call('SCardListReaders', { hContext })).toEqual({ rv: 0, mszReaders: ['vscr Virtual Reader 00 00'] });
    await c.close();
  });

  it('handles batches and notifications (JSON-RPC 2.0 §6, §4.1)', async () => {
    const c = await RpcClient.connect(server.url);
    const batch = (await c.raw(
      JSON.stringify([
        { jsonrpc: '2.0', id: 'a', method: 'SCardEstablishContext', params: { dwScope: 0 } },
        { jsonrpc: '2.0', method: 'SCardEstablishContext', params: { dwScope: 0 } },
        { jsonrpc: '2.0', id: 'b', method: 'Nope' },
        17,
      ]),
    )) as Record<string, unknown>[];
    expect(batch).toHaveLength(3);
    expect(batch[0]).toMatchObject({ id: 'a', result: { rv: 0 } });
    expect(batch[1]).toEqual(err('b', JSONRPC_ERROR.METHOD_NOT_FOUND));
    expect(batch[2]).toEqual(err(null, JSONRPC_ERROR.INVALID_REQUEST));
    // A notification gets no answer: the next message is the reply to the following request.
    c.ws.send(JSON.stringify({ jsonrpc: '2.0', method: 'SCardEstablishContext', params: { dwScope: 0 } }));
    expect(await c.call('SCardEstablishContext', { dwScope: 1 })).toMatchObject({ rv: 0 });
    await c.close();
  });

  it('closes only on an oversize message (after answering it); the service keeps serving others', async () => {
    const other = await RpcClient.connect(server.url);
    const c = await RpcClient.connect(server.url);
    const big = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'SCardTransmit', params: { pbSendBuffer: 'ab'.repeat(600 * 1024) } });
    expect(Buffer.byteLength(big)).toBeGreaterThan(1024 * 1024);
    expect(await c.raw(big)).toEqual(err(null, JSONRPC_ERROR.INVALID_REQUEST));
    expect((await c.closed).code).toBe(1009);
    expect(c.ws.readyState).toBe(WebSocket.CLOSED);
    expect(await other.call('SCardEstablishContext', { dwScope: 0 })).toMatchObject({ rv: 0 });
    const fresh = await RpcClient.connect(server.url);
    expect(await fresh.call('SCardEstablishContext', { dwScope: 0 })).toMatchObject({ rv: 0 });
    await fresh.close();
    await other.close();
  });

  it('caps requests in flight per connection with a server error; Cancel still gets through and wakes every blocked wait', async () => {
    const c = await RpcClient.connect(server.url);
    const hContext = (await c.call('SCardEstablishContext', { dwScope: 0 })).hContext;
    const params = { hContext, dwTimeout: 0xffffffff, rgReaderStates: [{ szReader: 'vscr Virtual Reader 00 00', dwCurrentState: 0x10 }] };
    const waits = Array.from({ length: MAX_IN_FLIGHT }, () => c.request('SCardGetStatusChange', params, 10000));
    expect(await c.request('SCardIsValidContext', { hContext })).toEqual(err(expect.any(Number), SERVER_BUSY));
    // Cancel is never refused: it is what unblocks a saturated connection.
    expect(await c.call('SCardCancel', { hContext })).toEqual({ rv: 0 });
    const woken = await Promise.all(waits);
    expect(woken.map((r) => (r.result as { rv: number }).rv)).toEqual(waits.map(() => 0x80100002));
    expect(await c.call('SCardIsValidContext', { hContext })).toEqual({ rv: 0 });
    // A saturated connection that is closed: its session goes, and none of the waits is answered.
    const again0 = Array.from({ length: MAX_IN_FLIGHT }, () => c.request('SCardGetStatusChange', params, 10000));
    expect(await c.request('SCardIsValidContext', { hContext })).toEqual(err(expect.any(Number), SERVER_BUSY));
    await c.close();
    const results = await Promise.allSettled(again0);
    expect(results.filter((r) => r.status === 'rejected').length).toBe(MAX_IN_FLIGHT);
    const again = await RpcClient.connect(server.url);
    const h2 = (await again.call('SCardEstablishContext', { dwScope: 0 })).hContext;
    const few = Array.from({ length: 3 }, () => again.call('SCardGetStatusChange', { ...params, hContext: h2 }, 10000));
    expect(await again.call('SCardCancel', { hContext: h2 })).toEqual({ rv: 0 });
    expect((await Promise.all(few)).map((r) => r.rv)).toEqual([0x80100002, 0x80100002, 0x80100002]);
    await again.close();
  });
});
