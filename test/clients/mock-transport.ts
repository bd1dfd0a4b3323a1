// Test doubles for the client transports: an RpcTransport that records frames and lets a test answer them, and
// an HttpTransport that answers from a handler.
import type { RpcTransport } from '../../clients/winscard/transport.js';
import type { HttpRequest, HttpResponse, HttpTransport } from '../../clients/sdk/transport.js';

export interface SentFrame {
  id: number;
  method: string;
  params: Record<string, unknown>;
}

export class MockRpcTransport implements RpcTransport {
  readonly sent: SentFrame[] = [];
  readonly raw: string[] = [];
  closed = false;
  #onMessage: ((text: string) => void) | undefined;
  #onClose: ((error?: Error) => void) | undefined;
  #waiters: (() => void)[] = [];
  /** Answers frames as they arrive when set; return undefined to leave a frame pending. */
  auto: ((f: SentFrame) => Record<string, unknown> | undefined) | undefined;

  send(text: string): void {
    if (this.closed) throw new Error('closed');
    this.raw.push(text);
    const msg = JSON.parse(text) as { id: number; method: string; params: Record<string, unknown> };
    const frame = { id: msg.id, method: msg.method, params: msg.params };
    this.sent.push(frame);
    for (const w of this.#waiters.splice(0)) w();
    const result = this.auto?.(frame);
    if (result) queueMicrotask(() => this.reply(frame.id, result));
  }
  onMessage(handler: (text: string) => void): void {
    this.#onMessage = handler;
  }
  onClose(handler: (error?: Error) => void): void {
    this.#onClose = handler;
  }
  async close(): Promise<void> {
    this.closed = true;
    this.#onClose?.();
  }
  reply(id: number, result: Record<string, unknown>): void {
    this.#onMessage?.(JSON.stringify({ jsonrpc: '2.0', id, result }));
  }
  replyError(id: number | null, code: number, message: string): void {
    this.#onMessage?.(JSON.stringify({ jsonrpc: '2.0', id, error: { code, message } }));
  }
  deliver(text: string): void {
    this.#onMessage?.(text);
  }
  drop(error: Error): void {
    this.closed = true;
    this.#onClose?.(error);
  }
  /** Resolves once `count` frames were sent (bounded by the test timeout). */
  async waitForFrames(count: number): Promise<void> {
    while (this.sent.length < count) await new Promise<void>((r) => this.#waiters.push(r));
  }
}

export function mockHttp(handler: (req: HttpRequest) => Promise<{ status: number; body?: string | Uint8Array; contentType?: string }>): HttpTransport & { requests: HttpRequest[] } {
  const requests: HttpRequest[] = [];
  return {
    requests,
    async request(req: HttpRequest): Promise<HttpResponse> {
      requests.push(req);
      const r = await handler(req);
      const bytes = typeof r.body === 'string' ? new TextEncoder().encode(r.body) : (r.body ?? new Uint8Array(0));
      const headers = new Headers(r.contentType ? { 'content-type': r.contentType } : {});
      return {
        status: r.status,
        headers,
        body: new ReadableStream({ start(c) { if (bytes.length) c.enqueue(bytes); c.close(); } }),
        text: async () => new TextDecoder().decode(bytes),
        bytes: async () => bytes,
      };
    },
  };
}
