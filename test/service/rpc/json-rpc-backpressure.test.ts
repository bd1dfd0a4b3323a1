// Backpressure on /v1/pcsc: a client that keeps sending SCardTransmit but never reads its replies makes the
// server stop reading from it, so what the server holds for it stays bounded; once it reads again, every
// request is answered in full.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fastifyWebsocket from '@fastify/websocket';
import Fastify, { type FastifyInstance } from 'fastify';
import WebSocket, { type WebSocket as ServerSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_IN_FLIGHT, SEND_HIGH_WATER, SERVER_BUSY, jsonRpcPcscPlugin } from '../../../service/rpc/json-rpc/index.js';
import { makeStack, withTimeout, type Stack } from '../../support/rm-stack.js';

const R0 = 'vscr Virtual Reader 00 00';
const REQUESTS = Number(process.env.NREQ ?? 6000);
/** GET CHALLENGE for 255 bytes: a ~540-byte reply to a ~150-byte request. */
const GET_CHALLENGE = '00840000ff';

// Over a UNIX socket: its kernel buffers are a few hundred KiB, where loopback TCP would absorb tens of MiB of
// unread replies before the server's own queue could grow at all.
let stack: Stack;
let app: FastifyInstance;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vscr-bp-'));
  stack = await makeStack({ readers: [{}], cardsIn: [0] });
  app = Fastify({ logger: false });
  await app.register(fastifyWebsocket);
  await app.register(jsonRpcPcscPlugin, { rm: stack.rm });
  await app.listen({ path: join(dir, 'http.sock') });
});
afterAll(async () => {
  await app?.close();
  await stack?.close();
  await rm(dir, { recursive: true, force: true });
});

function serverSocket(): ServerSocket {
  const clients = [...(app as unknown as { websocketServer: { clients: Set<ServerSocket> } }).websocketServer.clients];
  expect(clients).toHaveLength(1);
  return clients[0];
}

type Json = Record<string, unknown>;

/** A bare client: requests go out without waiting; replies are collected by id. */
async function connect(): Promise<{ ws: WebSocket; call(method: string, params: Json): Promise<Json> }> {
  const ws = new WebSocket(`ws+unix://${join(dir, 'http.sock')}:/v1/pcsc`);
  await withTimeout(new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject)), 5000, 'open');
  let id = 0;
  const waiting = new Map<number, (r: Json) => void>();
  ws.on('message', (data) => {
    const msg = JSON.parse(data.toString()) as { id: number; result: Json };
    waiting.get(msg.id)?.(msg.result);
  });
  return {
    ws,
    call(method, params) {
      const n = ++id;
      ws.send(JSON.stringify({ jsonrpc: '2.0', id: n, method, params }));
      return withTimeout(new Promise<Json>((resolve) => waiting.set(n, resolve)), 5000, method);
    },
  };
}

describe('JSON-RPC backpressure', () => {
  it(`${REQUESTS} unread SCardTransmit replies: the server stops reading; what it queues stays bounded`, async () => {
    const c = await connect();
    const hContext = (await c.call('SCardEstablishContext', { dwScope: 0 })).hContext as number;
    const con = await c.call('SCardConnect', { hContext, szReader: R0, dwShareMode: 2, dwPreferredProtocols: 3 });
    const hCard = con.hCard as number;
    const sample = await c.call('SCardTransmit', { hCard, pioSendPci: { dwProtocol: con.dwActiveProtocol }, pbSendBuffer: GET_CHALLENGE });
    expect((sample.pbRecvBuffer as string).slice(-4)).toBe('9000');
    expect(sample.pbRecvBuffer as string).toHaveLength(2 * 257);

    // Every request gets its answer: the challenge, or SERVER_BUSY for one sent past MAX_IN_FLIGHT running ones.
    const answered = new Set<number>();
    const wrong: unknown[] = [];
    c.ws.on('message', (data) => {
      const msg = JSON.parse(data.toString()) as { id: number; result?: { rv: number; pbRecvBuffer: string }; error?: { code: number } };
      if (msg.id < 1000) return;
      if ((msg.result?.rv === 0 && msg.result.pbRecvBuffer.length === 514) || msg.error?.code === SERVER_BUSY) answered.add(msg.id);
      else wrong.push(msg);
    });
    c.ws.pause(); // stop reading: replies pile up on the server's side of the socket
    for (let i = 0; i < REQUESTS; i++) {
      c.ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1000 + i, method: 'SCardTransmit', params: { hCard, pioSendPci: { dwProtocol: con.dwActiveProtocol }, pbSendBuffer: GET_CHALLENGE } }));
    }
    const srv = serverSocket();
    // Bound: the high-water mark, plus the replies of the requests already running when reading stopped, plus
    // those of the messages ws had already taken off the socket (one 64 KiB read of ~150-byte requests).
    const bound = SEND_HIGH_WATER + (MAX_IN_FLIGHT + Math.ceil(65536 / 150)) * 600;
    let peak = 0;
    await withTimeout((async () => {
      for (;;) {
        peak = Math.max(peak, srv.bufferedAmount);
        if (srv.isPaused || peak > 2 * bound) return;
        await new Promise((r) => setTimeout(r, 20));
      }
    })(), 30_000, 'the server pausing its reads (or its queue outgrowing the bound)');
    // Let whatever was already read finish, then look again.
    for (let i = 0; i < 10; i++) {
      await new Promise((r) => setTimeout(r, 50));
      peak = Math.max(peak, srv.bufferedAmount);
    }
    console.log(`server queued ${peak} bytes at peak (bound ${bound}); client still holds ${c.ws.bufferedAmount} unsent bytes`);
    expect(srv.isPaused).toBe(true);
    expect(peak).toBeLessThanOrEqual(bound);
    expect(answered.size).toBeLessThan(REQUESTS);

    c.ws.resume();
    await withTimeout((async () => {
      while (answered.size < REQUESTS) await new Promise((r) => setTimeout(r, 20));
    })(), 60_000, `all ${REQUESTS} replies after resuming (got ${answered.size})`);
    expect(wrong).toEqual([]);
    expect(srv.isPaused).toBe(false);
    c.ws.close();
  });
});
