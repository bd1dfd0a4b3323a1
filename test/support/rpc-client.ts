// Test support: a fastify app with the JSON-RPC plugin on port 0 over the real stack, and a small `ws` client
// that matches responses by id, sends raw frames and reports the close code. Every wait is bounded.

import Fastify, { type FastifyInstance } from 'fastify';
import WebSocket from 'ws';
import { jsonRpcPcscPlugin } from '../../service/rpc/json-rpc/index.js';
import { makeStack, withTimeout, type Stack } from './rm-stack.js';

export interface RpcServer {
  app: FastifyInstance;
  url: string;
  stack: Stack;
  close(): Promise<void>;
}

export async function startRpcServer(
  opts: Parameters<typeof makeStack>[0] & { registerWebsocket?: boolean; busyPollMicros?: number } = {},
): Promise<RpcServer> {
  const stack = await makeStack(opts);
  const app = Fastify({ logger: false });
  if (opts.registerWebsocket) await app.register((await import('@fastify/websocket')).default);
  await app.register(jsonRpcPcscPlugin, { rm: stack.rm, busyPollMicros: opts.busyPollMicros });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    app,
    url: `ws://127.0.0.1:${port}/v1/pcsc`,
    stack,
    async close() {
      await app.close();
      await stack.close();
    },
  };
}

type Json = Record<string, unknown>;

export class RpcClient {
  private nextId = 1;
  private readonly waiting = new Map<unknown, { resolve: (msg: Json) => void; reject: (err: Error) => void }>();
  private readonly unmatched: unknown[] = [];
  private readonly unmatchedWaiters: ((m: unknown) => void)[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const msg: unknown = JSON.parse(data.toString());
      const id = !Array.isArray(msg) && typeof msg === 'object' && msg !== null ? (msg as Json).id : undefined;
      const w = id !== undefined && id !== null ? this.waiting.get(id) : undefined;
      if (w) {
        this.waiting.delete(id);
        w.resolve(msg as Json);
      } else {
        const next = this.unmatchedWaiters.shift();
        if (next) next(msg);
        else this.unmatched.push(msg);
      }
    });
    this.closed = new Promise((resolve) =>
      ws.on('close', (code, reason) => {
        // Requests still unanswered never will be.
        for (const w of this.waiting.values()) w.reject(new Error('socket closed'));
        this.waiting.clear();
        resolve({ code, reason: reason.toString() });
      }),
    );
  }

  static async connect(url: string): Promise<RpcClient> {
    const ws = new WebSocket(url);
    await withTimeout(new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    }), 5000, 'websocket open');
    return new RpcClient(ws);
  }

  /** The full JSON-RPC response object for one request. */
  request(method: string, params?: unknown, ms = 5000): Promise<Json> {
    const id = this.nextId++;
    const p = new Promise<Json>((resolve, reject) => this.waiting.set(id, { resolve, reject }));
    this.ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    return withTimeout(p, ms, `${method} response`);
  }

  /** The `result` of a request (fails the test on a JSON-RPC error). */
  async call(method: string, params?: unknown, ms = 5000): Promise<Json> {
    const r = await this.request(method, params, ms);
    if (!('result' in r)) throw new Error(`${method} failed: ${JSON.stringify(r)}`);
    return r.result as Json;
  }

  /** Send a raw frame and wait for the next message that no pending request claims (e.g. an error with id null). */
  raw(frame: string | Buffer, ms = 5000): Promise<unknown> {
    this.ws.send(frame);
    return this.nextUnmatched(ms);
  }

  nextUnmatched(ms = 5000): Promise<unknown> {
    const queued = this.unmatched.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return withTimeout(new Promise((resolve) => this.unmatchedWaiters.push(resolve)), ms, 'an unsolicited message');
  }

  close(): Promise<{ code: number; reason: string }> {
    this.ws.close();
    return withTimeout(this.closed, 5000, 'websocket close');
  }
}
