// The seam between the SDK's API layer and the wire (undici's dispatch seam, docs/style.md §5): a Transport turns one
// HttpRequest into one HttpResponse. FetchTransport is the default; tests inject a mock.

import { VscrAbortedError, VscrUnreachableError } from './errors.js';

/** A request body: bytes, a web stream, or any async iterable of bytes (a Node Readable is one). */
export type BodySource = Uint8Array | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;

export interface HttpRequest {
  method: 'GET' | 'POST' | 'DELETE' | 'PUT';
  /** Path and query, starting with `/`. */
  path: string;
  headers: Record<string, string>;
  body?: BodySource | string | null;
  signal?: AbortSignal;
}

export interface HttpResponse {
  status: number;
  headers: { get(name: string): string | null };
  /** The body as a stream (null for 204 and HEAD). Consume it once: with this, `text()` or `bytes()`. */
  body: ReadableStream<Uint8Array> | null;
  text(): Promise<string>;
  bytes(): Promise<Uint8Array>;
}

export interface HttpTransport {
  /** Resolves with any HTTP status; rejects with VscrUnreachableError or VscrAbortedError only. */
  request(req: HttpRequest): Promise<HttpResponse>;
  /** Releases pooled connections, if any. */
  close?(): Promise<void>;
}

export interface FetchTransportOptions {
  /** Base URL, e.g. `http://127.0.0.1:8790`. */
  baseUrl: string;
  /** Defaults to the global fetch (Node 18+, browsers). */
  fetch?: typeof fetch;
}

/** The default transport: WHATWG fetch, streaming request bodies with `duplex: 'half'`. */
export class FetchTransport implements HttpTransport {
  readonly baseUrl: string;
  readonly #fetch: typeof fetch;

  constructor(opts: FetchTransportOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.#fetch = opts.fetch ?? globalThis.fetch.bind(globalThis);
  }

  async request(req: HttpRequest): Promise<HttpResponse> {
    const url = this.baseUrl + req.path;
    const body = toBodyInit(req.body);
    // Only stream bodies need duplex 'half' (fetch spec); undici rejects a stream body without it.
    const init: RequestInit & { duplex?: 'half' } = { method: req.method, headers: req.headers, signal: req.signal };
    if (body !== undefined) {
      init.body = body;
      if (body instanceof ReadableStream) init.duplex = 'half';
    }
    let res: Response;
    try {
      res = await this.#fetch(url, init);
    } catch (err) {
      if (req.signal?.aborted || isAbortError(err)) throw new VscrAbortedError(req.signal?.reason ?? err);
      throw new VscrUnreachableError(this.baseUrl, err);
    }
    return {
      status: res.status,
      headers: res.headers,
      body: res.body,
      text: () => res.text(),
      bytes: async () => new Uint8Array(await res.arrayBuffer()),
    };
  }
}

function isAbortError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { name?: unknown }).name === 'AbortError';
}

function toBodyInit(body: HttpRequest['body']): NonNullable<RequestInit['body']> | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string' || body instanceof Uint8Array) return body;
  if (body instanceof ReadableStream) return body;
  return iterableToStream(body);
}

/** Wraps an async iterable (e.g. a Node Readable) as a web ReadableStream, pulling one chunk per read. */
export function iterableToStream(source: AsyncIterable<Uint8Array>): ReadableStream<Uint8Array> {
  let iterator: AsyncIterator<Uint8Array> | undefined;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      iterator ??= source[Symbol.asyncIterator]();
      const { value, done } = await iterator.next();
      if (done) controller.close();
      // Node Readables may yield Buffers (a Uint8Array subclass) or strings in object mode; accept bytes only.
      else if (value instanceof Uint8Array) controller.enqueue(value);
      else controller.error(new TypeError('request body stream yielded a non-byte chunk'));
    },
    async cancel(reason) {
      await iterator?.return?.(reason);
    },
  });
}
