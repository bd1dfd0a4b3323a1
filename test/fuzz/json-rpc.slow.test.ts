// Bounded fuzz of JSON-RPC over WebSocket (/v1/pcsc): valid requests of a real session are mutated as text
// (bytes flipped, cut, spliced) and as JSON (params replaced with other types and boundary values), and sent
// to a server on the real reader stack. Counts cases, crashes (an "Internal error" answer, an error logged,
// an uncaught exception) and hangs (a request on a fresh connection not answered within 5 s).

import Fastify, { type FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { jsonRpcPcscPlugin } from '../../service/rpc/json-rpc/index.js';
import { makeStack, withTimeout, type Stack } from '../support/rm-stack.js';
import { caseCount, mutate, prng, seed } from './mutator.js';

const R0 = 'vscr Virtual Reader 00 00';
const CASES = caseCount(3000);
const PER_CONNECTION = 50;

let stack: Stack;
let app: FastifyInstance;
let url: string;
const errors: string[] = [];

beforeAll(async () => {
  stack = await makeStack({ readers: [{}, {}], cardsIn: [0] });
  app = Fastify({ logger: false });
  const logger = pino({ level: 'error' }, { write: (line: string) => void errors.push(line) });
  await app.register(jsonRpcPcscPlugin, { rm: stack.rm, logger });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  url = `ws://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/v1/pcsc`;
});
afterAll(async () => {
  await app?.close();
  await stack?.close();
});

type Json = Record<string, unknown>;

async function open(): Promise<{ ws: WebSocket; call(method: string, params: Json): Promise<Json>; messages: Json[] }> {
  const ws = new WebSocket(url);
  await withTimeout(new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject)), 5000, 'open');
  const messages: Json[] = [];
  const waiting = new Map<unknown, (m: Json) => void>();
  let id = 0;
  ws.on('message', (data) => {
    const msg = JSON.parse(data.toString()) as Json | Json[];
    for (const m of Array.isArray(msg) ? msg : [msg]) {
      messages.push(m);
      waiting.get(m.id)?.(m);
    }
  });
  return {
    ws,
    messages,
    call(method, params) {
      const n = `ok-${++id}`;
      ws.send(JSON.stringify({ jsonrpc: '2.0', id: n, method, params }));
      return withTimeout(new Promise<Json>((resolve) => waiting.set(n, resolve)), 5000, method);
    },
  };
}

/** A valid request of the session with real handles, as an object (for structural mutation). */
function requests(hContext: number, hCard: number): Json[] {
  const r = (method: string, params: Json): Json => ({ jsonrpc: '2.0', id: 1, method, params });
  return [
    r('SCardIsValidContext', { hContext }),
    r('SCardListReaders', { hContext }),
    r('SCardGetStatusChange', { hContext, dwTimeout: 0, rgReaderStates: [{ szReader: R0, dwCurrentState: 0 }] }),
    r('SCardConnect', { hContext, szReader: R0, dwShareMode: 2, dwPreferredProtocols: 3 }),
    r('SCardTransmit', { hCard, pioSendPci: { dwProtocol: 2 }, pbSendBuffer: '00a4040006f076736372010000' }),
    r('SCardStatus', { hCard }),
    r('SCardControl', { hCard, dwControlCode: 0x42000d48, pbSendBuffer: '' }),
    r('SCardGetAttrib', { hCard, dwAttrId: 0x00090303 }),
    r('SCardBeginTransaction', { hCard }),
    r('SCardEndTransaction', { hCard, dwDisposition: 0 }),
    r('SCardReconnect', { hCard, dwShareMode: 2, dwPreferredProtocols: 3, dwInitialization: 0 }),
    r('SCardCancel', { hContext }),
  ];
}

const ODD_VALUES: unknown[] = [null, true, -1, 0, 1.5, 2 ** 32, 2 ** 53, -(2 ** 31), 'x', '', 'zz', '0'.repeat(70_000), [], {}, [1, 2], { a: 1 }, '__proto__'];

/** Replaces one field somewhere in the request with an odd value, or deletes it. */
function mutateStructure(req: Json, rand: () => number): Json {
  const copy = JSON.parse(JSON.stringify(req)) as Json;
  const paths: [Json | unknown[], string | number][] = [];
  const walk = (o: unknown): void => {
    if (Array.isArray(o)) o.forEach((v, i) => { paths.push([o, i]); walk(v); });
    else if (o !== null && typeof o === 'object') for (const k of Object.keys(o)) { paths.push([o as Json, k]); walk((o as Json)[k]); }
  };
  walk(copy);
  const [holder, key] = paths[Math.floor(rand() * paths.length)];
  if (rand() < 0.15 && !Array.isArray(holder)) delete (holder as Json)[key as string];
  else (holder as Record<string | number, unknown>)[key] = ODD_VALUES[Math.floor(rand() * ODD_VALUES.length)];
  return copy;
}

describe('JSON-RPC fuzz', () => {
  it(`${CASES} mutated requests: no crash, no hang`, async () => {
    const rand = prng(seed());
    const uncaught: unknown[] = [];
    const onUncaught = (err: unknown): void => void uncaught.push(err);
    process.on('uncaughtException', onUncaught);
    let cases = 0;
    let hangs = 0;
    let internal = 0;
    try {
      while (cases < CASES && hangs === 0) {
        const c = await open();
        const hContext = (await c.call('SCardEstablishContext', { dwScope: 2 })).result as Json;
        const con = (await c.call('SCardConnect', { hContext: hContext.hContext, szReader: R0, dwShareMode: 2, dwPreferredProtocols: 3 })).result as Json;
        const valid = requests(hContext.hContext as number, con.hCard as number);
        for (let i = 0; i < PER_CONNECTION && cases < CASES; i++, cases++) {
          const req = valid[Math.floor(rand() * valid.length)];
          if (rand() < 0.5) c.ws.send(JSON.stringify(mutateStructure(req, rand)));
          else {
            const text = Buffer.from(JSON.stringify(req));
            const other = Buffer.from(JSON.stringify(valid[Math.floor(rand() * valid.length)]));
            c.ws.send(Buffer.from(mutate(text, rand, other)).toString('latin1'));
          }
        }
        // The connection still answers after its share of garbage (or it was closed for an oversize message).
        if (c.ws.readyState === WebSocket.OPEN) {
          const ok = await c.call('SCardIsValidContext', { hContext: hContext.hContext }).then(() => true, () => false);
          if (!ok && c.ws.readyState === WebSocket.OPEN) hangs++;
        }
        internal += c.messages.filter((m) => (m.error as { code?: number } | undefined)?.code === -32603).length;
        c.ws.terminate();
        // And a fresh connection is served.
        const fresh = await open();
        const served = await fresh.call('SCardEstablishContext', { dwScope: 2 }).then(() => true, () => false);
        fresh.ws.terminate();
        if (!served) hangs++;
      }
    } finally {
      process.off('uncaughtException', onUncaught);
    }
    const crashes = errors.length + uncaught.length + internal;
    console.log(`JSON-RPC fuzz: seed ${seed()}, ${cases} cases, ${crashes} crashes, ${hangs} hangs`);
    expect(errors).toEqual([]);
    expect(uncaught).toEqual([]);
    expect(internal).toBe(0);
    expect(hangs).toBe(0);
    expect(cases).toBe(CASES);
  });
});
