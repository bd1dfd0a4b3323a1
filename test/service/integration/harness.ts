// Test harness for the service suites: a real service on port 0 with a temp data dir, fetch helpers with
// bounded waits, a JSON-RPC WebSocket client and an SSE reader.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { startService, type RunningService, type ServiceConfig, type StartOptions } from '../../../service/service.js';

export interface TestService {
  service: RunningService;
  url: string;
  dataDir: string;
  close(): Promise<void>;
}

export async function startTestService(overrides: Partial<ServiceConfig> = {}, options: StartOptions = {}): Promise<TestService> {
  // Short prefix: the pcsc-lite socket lives in the data dir and UNIX socket paths are limited to 107 bytes.
  const dataDir = await mkdtemp(path.join(tmpdir(), 'vscr-svc-'));
  const service = await startService({
    port: 0,
    dataDir,
    logLevel: (process.env.VSCR_TEST_LOG_LEVEL as ServiceConfig['logLevel'] | undefined) ?? 'silent',
    pcsc: false,
    badRequestLogIntervalMs: 0,
    // No start-up card readers: the suites count and name the plain readers.
    cardReaders: [],
    // No busy poll: it buys latency with CPU the suite needs more (test/interop/support.ts says why).
    pcscBusyPollMicros: 0,
    devices: [{ keyString: 'secret', engine: 'native', guestMemoryMiB: 256, interruptMode: 'msi-multi' }],
    ...overrides,
  }, options);
  return {
    service,
    url: service.url,
    dataDir,
    async close() {
      await service.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

const TIMEOUT_MS = 20_000;

export async function http(base: string, route: string, init: RequestInit & { json?: unknown } = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  let body = init.body;
  if (init.json !== undefined) {
    headers.set('content-type', 'application/json');
    body = JSON.stringify(init.json);
  }
  return fetch(base + route, { ...init, headers, body, signal: init.signal ?? AbortSignal.timeout(TIMEOUT_MS) });
}

export async function json<T = Record<string, unknown>>(base: string, route: string, init: RequestInit & { json?: unknown } = {}): Promise<{ status: number; body: T; headers: Headers }> {
  const res = await http(base, route, init);
  const text = await res.text();
  let body: T;
  try {
    body = JSON.parse(text) as T;
  } catch {
    throw new Error(`${route}: not JSON (${res.status}): ${text.slice(0, 200)}`);
  }
  return { status: res.status, body, headers: res.headers };
}

export async function expectHealthy(base: string): Promise<void> {
  const res = await json<{ status: string }>(base, '/health');
  if (res.status !== 200 || res.body.status !== 'ok') throw new Error(`service unhealthy: ${res.status} ${JSON.stringify(res.body)}`);
}

/** Resolves `promise` or rejects after `ms` with `what` in the message: no wait in a test is unbounded. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
    }),
  ]);
}

export interface RpcResponse {
  jsonrpc: '2.0';
  id: number | string | null;
  result?: Record<string, unknown> & { rv: number };
  error?: { code: number; message: string; data?: unknown };
}

/** A JSON-RPC 2.0 client over /v1/pcsc: one connection = one PC/SC client session. */
export class RpcClient {
  private nextId = 1;
  private readonly pending = new Map<number | string, (r: RpcResponse) => void>();
  private readonly unmatched: RpcResponse[] = [];
  private unmatchedWaiter: ((r: RpcResponse) => void) | null = null;
  readonly ws: WebSocket;

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data)) as RpcResponse;
      const resolve = msg.id !== null && msg.id !== undefined ? this.pending.get(msg.id) : undefined;
      if (resolve !== undefined) {
        this.pending.delete(msg.id as number);
        resolve(msg);
      } else if (this.unmatchedWaiter !== null) {
        const w = this.unmatchedWaiter;
        this.unmatchedWaiter = null;
        w(msg);
      } else this.unmatched.push(msg);
    });
  }

  static async connect(base: string, headers: Record<string, string> = {}): Promise<RpcClient> {
    const ws = new WebSocket(`${base.replace(/^http/, 'ws')}/v1/pcsc`, { headers });
    await within(new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    }), TIMEOUT_MS, 'websocket open');
    return new RpcClient(ws);
  }

  call(method: string, params: Record<string, unknown> = {}, timeoutMs = TIMEOUT_MS): Promise<RpcResponse> {
    const id = this.nextId++;
    const done = new Promise<RpcResponse>((resolve) => this.pending.set(id, resolve));
    this.ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    return within(done, timeoutMs, `${method} answer`);
  }

  /** Calls and returns `result`, failing on a JSON-RPC error. */
  async result(method: string, params: Record<string, unknown> = {}, timeoutMs = TIMEOUT_MS): Promise<Record<string, unknown> & { rv: number }> {
    const r = await this.call(method, params, timeoutMs);
    if (r.result === undefined) throw new Error(`${method}: JSON-RPC error ${JSON.stringify(r.error)}`);
    return r.result;
  }

  /** Sends a raw frame and waits for the next answer whose id matches no pending call (e.g. id null). */
  sendRaw(frame: string, timeoutMs = TIMEOUT_MS): Promise<RpcResponse> {
    const queued = this.unmatched.shift();
    this.ws.send(frame);
    if (queued !== undefined) return Promise.resolve(queued);
    return within(new Promise<RpcResponse>((resolve) => { this.unmatchedWaiter = resolve; }), timeoutMs, 'answer to a raw frame');
  }

  /** A client that dies: the socket is destroyed without a close handshake. */
  kill(): void {
    this.ws.terminate();
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    const closed = new Promise<void>((resolve) => this.ws.once('close', () => resolve()));
    this.ws.close();
    await within(closed, 5000, 'websocket close').catch(() => this.ws.terminate());
  }
}

export interface SseEvent { event: string; data: Record<string, unknown> }

/** Reads /v1/events; `next(pred)` waits (bounded) for the first matching event not yet consumed. */
export async function openEvents(base: string, headers: Record<string, string> = {}): Promise<{ next(pred: (e: SseEvent) => boolean, ms?: number): Promise<SseEvent>; close(): void }> {
  const ac = new AbortController();
  const res = await fetch(`${base}/v1/events`, { headers, signal: ac.signal });
  if (res.status !== 200 || res.body === null) throw new Error(`events: ${res.status}`);
  const events: SseEvent[] = [];
  const waiters: { pred: (e: SseEvent) => boolean; resolve: (e: SseEvent) => void }[] = [];
  const deliver = (): void => {
    for (const w of [...waiters]) {
      const i = events.findIndex(w.pred);
      if (i >= 0) {
        const [e] = events.splice(i, 1);
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(e);
      }
    }
  };
  void (async () => {
    const decoder = new TextDecoder();
    let buf = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buf += decoder.decode(chunk, { stream: true });
        let idx: number;
        while ((idx = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, idx);
          buf = buf.slice(idx + 2);
          let event = 'message';
          let data = '';
          for (const line of block.split('\n')) {
            if (line.startsWith('event: ')) event = line.slice(7);
            else if (line.startsWith('data: ')) data += line.slice(6);
          }
          if (data !== '') events.push({ event, data: JSON.parse(data) as Record<string, unknown> });
        }
        deliver();
      }
    } catch {
      // aborted by close()
    }
  })();
  return {
    next(pred, ms = TIMEOUT_MS) {
      return within(new Promise<SseEvent>((resolve) => {
        waiters.push({ pred, resolve });
        deliver();
      }), ms, 'server-sent event');
    },
    close: () => ac.abort(),
  };
}

export const SHA256_123 = 'a665a45920422f9d417e4867efdc4fb8a04a1f3fff1fa07e998e86f7f7a27ae3';
export const AES_123 = '13933c64935f9001534e01365105aa56';
