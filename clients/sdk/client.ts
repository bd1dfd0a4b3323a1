// The typed REST client: one method per route of the vscr service (docs/service.md "Routes"). API layer only; the wire is
// behind HttpTransport, so it runs in Node and in browsers and tests can inject a mock transport.

import {
  VscrAbortedError, VscrArgumentError, VscrClientClosedError, VscrHttpError, VscrProtocolError, type VscrErrorBody,
} from './errors.js';
import { concatBytes, fromHex } from './hex.js';
import { SseDecoder } from './sse.js';
import type { CardLoaded, RelayStatus, ScriptVerdict, TranscriptEntry, TranscriptFormat, TranscriptPage, TranscriptQuery } from './sim-types.js';
import { FetchTransport, type BodySource, type HttpRequest, type HttpResponse, type HttpTransport } from './transport.js';
import type {
  AddReaderOptions, DeviceFaultInfo, DeviceFaultRequest, DeviceInfo, DeviceStatus, FaultInfo, FaultRequest, Health, PinpadKeys, PinpadStatus, ReaderInfo, ReaderRef, TraceEntry, VscrEvent,
} from './types.js';

export const DEFAULT_URL = 'http://127.0.0.1:8790';

export interface VscrClientOptions {
  /** Service base URL; default `http://127.0.0.1:8790`. Ignored when `transport` is given. */
  url?: string;
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** Replaces the default fetch transport (tests, custom agents). */
  transport?: HttpTransport;
  /** A fetch implementation for the default transport. */
  fetch?: typeof fetch;
}

/** Input sent as JSON instead of raw bytes; the service decodes it (docs/service.md "Routes"). */
export interface DataInput {
  data: string;
  encoding?: 'hex' | 'base64' | 'utf8';
}

export interface CallOptions {
  signal?: AbortSignal;
}

/**
 * REST client for a vscr service. Every method rejects with a VscrError:
 * VscrHttpError (the service's error body), VscrUnreachableError, VscrAbortedError, VscrClientClosedError.
 */
export class VscrClient {
  readonly url: string;
  readonly #transport: HttpTransport;
  readonly #token: string | undefined;
  /** Controllers of requests whose bodies are still being read; close() aborts them. */
  readonly #inflight = new Set<AbortController>();
  #closed = false;

  constructor(opts: VscrClientOptions = {}) {
    this.url = (opts.url ?? DEFAULT_URL).replace(/\/+$/, '');
    this.#transport = opts.transport ?? new FetchTransport({ baseUrl: this.url, fetch: opts.fetch });
    this.#token = opts.token;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Aborts calls in flight (they fail with VscrClientClosedError) and refuses new ones. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const ac of this.#inflight) ac.abort(new VscrClientClosedError());
    this.#inflight.clear();
    await this.#transport.close?.();
  }

  // ---- health and crypto devices ----

  async health(opts?: CallOptions): Promise<Health> {
    return this.#json<Health>({ method: 'GET', path: '/health' }, opts);
  }

  /** `GET /metrics`: the Prometheus text exposition. */
  async metrics(opts?: CallOptions): Promise<string> {
    return this.#text({ method: 'GET', path: '/metrics', headers: { accept: 'text/plain' } }, opts);
  }

  /** `GET /docs/json`: the service's OpenAPI document. */
  async openApi(opts?: CallOptions): Promise<Record<string, unknown>> {
    return this.#json<Record<string, unknown>>({ method: 'GET', path: '/docs/json' }, opts);
  }

  async devices(opts?: CallOptions): Promise<DeviceInfo[]> {
    return (await this.#json<{ devices: DeviceInfo[] }>({ method: 'GET', path: '/v1/devices' }, opts)).devices;
  }

  async deviceStatus(device: number, opts?: CallOptions): Promise<DeviceStatus> {
    return this.#json<DeviceStatus>({ method: 'GET', path: `/v1/devices/${deviceId(device)}/status` }, opts);
  }

  /** Resets the device (the driver's RESET control) and returns the status after it. */
  async resetDevice(device: number, opts?: CallOptions): Promise<DeviceStatus> {
    return this.#json<DeviceStatus>({ method: 'POST', path: `/v1/devices/${deviceId(device)}/reset` }, opts);
  }

  /**
   * SHA-256 on the device. Bytes and streams go as the raw request body (streamed); a `{ data, encoding }`
   * object goes as JSON (the service decodes hex, base64 or utf8). Resolves with the lowercase hex digest.
   */
  async sha256(device: number, data: BodySource | DataInput, opts?: CallOptions): Promise<string> {
    const path = `/v1/devices/${deviceId(device)}/sha256`;
    const res = isDataInput(data)
      ? await this.#json<{ digest: string }>({ method: 'POST', path, json: data }, opts)
      : await this.#json<{ digest: string }>({ method: 'POST', path, headers: { 'content-type': 'application/octet-stream' }, body: data }, opts);
    return res.digest;
  }

  /** AES-256-CBC encrypt on the device (zero padding to 16, fixed IV: docs/crypto-device.md). Buffers the result. */
  async encrypt(device: number, data: BodySource | DataInput, opts?: CallOptions): Promise<Uint8Array> {
    if (isDataInput(data)) return this.#aesJson(device, 'encrypt', data, opts);
    return readAll(await this.encryptStream(device, data, opts));
  }

  async decrypt(device: number, data: BodySource | DataInput, opts?: CallOptions): Promise<Uint8Array> {
    if (isDataInput(data)) return this.#aesJson(device, 'decrypt', data, opts);
    return readAll(await this.decryptStream(device, data, opts));
  }

  /** Like encrypt, but resolves with the response body as a stream for large outputs. */
  async encryptStream(device: number, data: BodySource, opts?: CallOptions): Promise<ReadableStream<Uint8Array>> {
    return this.#aes(device, 'encrypt', data, opts);
  }

  async decryptStream(device: number, data: BodySource, opts?: CallOptions): Promise<ReadableStream<Uint8Array>> {
    return this.#aes(device, 'decrypt', data, opts);
  }

  // ---- readers and cards ----

  async readers(opts?: CallOptions): Promise<ReaderInfo[]> {
    return (await this.#json<{ readers: ReaderInfo[] }>({ method: 'GET', path: '/v1/readers' }, opts)).readers;
  }

  async addReader(options: AddReaderOptions = {}, opts?: CallOptions): Promise<ReaderInfo> {
    return (await this.#json<{ reader: ReaderInfo }>({ method: 'POST', path: '/v1/readers', json: options }, opts)).reader;
  }

  async removeReader(reader: ReaderRef, opts?: CallOptions): Promise<void> {
    const { res, release } = await this.#send({ method: 'DELETE', path: `/v1/readers/${readerRef(reader)}` }, opts);
    await res.body?.cancel().catch(() => undefined);
    release();
  }

  /**
   * Inserts a card (profile defaults to the service's `default`) whose crypto runs on `opts.device` (default 0);
   * 409 VSCR_ERR_CARD_PRESENT when occupied, 404 VSCR_ERR_UNKNOWN_DEVICE for a device the service lacks.
   */
  async insertCard(reader: ReaderRef, profile?: string, opts?: CallOptions & { device?: number }): Promise<ReaderInfo> {
    const json = { ...(profile === undefined ? {} : { profile }), ...(opts?.device === undefined ? {} : { device: opts.device }) };
    return (await this.#json<{ reader: ReaderInfo }>({ method: 'POST', path: `/v1/readers/${readerRef(reader)}/card`, json }, opts)).reader;
  }

  /** Removes the card; 409 VSCR_ERR_NO_CARD when the reader is empty. */
  async removeCard(reader: ReaderRef, opts?: CallOptions): Promise<ReaderInfo> {
    return (await this.#json<{ reader: ReaderInfo }>({ method: 'DELETE', path: `/v1/readers/${readerRef(reader)}/card` }, opts)).reader;
  }

  async trace(reader: ReaderRef, opts?: CallOptions): Promise<TraceEntry[]> {
    return (await this.#json<{ entries: TraceEntry[] }>({ method: 'GET', path: `/v1/readers/${readerRef(reader)}/trace` }, opts)).entries;
  }

  // ---- faults on demand (docs/faults.md) ----

  async armFault(reader: ReaderRef, fault: FaultRequest, opts?: CallOptions): Promise<FaultInfo> {
    return (await this.#json<{ fault: FaultInfo }>({ method: 'POST', path: `/v1/readers/${readerRef(reader)}/faults`, json: fault }, opts)).fault;
  }

  async faults(reader: ReaderRef, opts?: CallOptions): Promise<FaultInfo[]> {
    return (await this.#json<{ faults: FaultInfo[] }>({ method: 'GET', path: `/v1/readers/${readerRef(reader)}/faults` }, opts)).faults;
  }

  /** Clears one fault, or all of the reader's without `id`; returns how many were cleared. */
  async clearFaults(reader: ReaderRef, id?: number, opts?: CallOptions): Promise<number> {
    const path = `/v1/readers/${readerRef(reader)}/faults${id === undefined ? '' : `/${id}`}`;
    return (await this.#json<{ cleared: number }>({ method: 'DELETE', path }, opts)).cleared;
  }

  async armDeviceFault(device: number, fault: DeviceFaultRequest, opts?: CallOptions): Promise<DeviceFaultInfo> {
    return (await this.#json<{ fault: DeviceFaultInfo }>({ method: 'POST', path: `/v1/devices/${deviceId(device)}/faults`, json: fault }, opts)).fault;
  }

  async deviceFaults(device: number, opts?: CallOptions): Promise<DeviceFaultInfo[]> {
    return (await this.#json<{ faults: DeviceFaultInfo[] }>({ method: 'GET', path: `/v1/devices/${deviceId(device)}/faults` }, opts)).faults;
  }

  /** Clears one device fault, or all of the device's without `id` (ending a hang); returns how many were armed. */
  async clearDeviceFaults(device: number, id?: number, opts?: CallOptions): Promise<number> {
    const path = `/v1/devices/${deviceId(device)}/faults${id === undefined ? '' : `/${id}`}`;
    return (await this.#json<{ cleared: number }>({ method: 'DELETE', path }, opts)).cleared;
  }

  // ---- the keypad of a PIN-pad reader (docs/pinpad.md) ----

  /** The keypad state; with `waitPromptMs`, after waiting (up to 30 s) for the pad to ask for a PIN. */
  async pinpadStatus(reader: ReaderRef, waitPromptMs = 0, opts?: CallOptions): Promise<PinpadStatus> {
    const query = waitPromptMs > 0 ? `?waitPrompt=${Math.min(Math.trunc(waitPromptMs), 30_000)}` : '';
    return (await this.#json<{ pinpad: PinpadStatus }>({ method: 'GET', path: `/v1/readers/${readerRef(reader)}/pinpad${query}` }, opts)).pinpad;
  }

  /** Presses digits and/or a key; 409 VSCR_ERR_PINPAD_IDLE when the pad is not asking for a PIN. */
  async pinpadPress(reader: ReaderRef, keys: PinpadKeys, opts?: CallOptions): Promise<PinpadStatus> {
    return (await this.#json<{ pinpad: PinpadStatus }>({ method: 'POST', path: `/v1/readers/${readerRef(reader)}/pinpad`, json: keys }, opts)).pinpad;
  }

  /** Queues an entry for the next prompt: digits then OK, or `{ key: 'cancel' }`. */
  async pinpadQueue(reader: ReaderRef, entry: { digits?: string; key?: 'ok' | 'cancel' }, opts?: CallOptions): Promise<PinpadStatus> {
    return (await this.#json<{ pinpad: PinpadStatus }>({ method: 'POST', path: `/v1/readers/${readerRef(reader)}/pinpad/queue`, json: entry }, opts)).pinpad;
  }

  async pinpadClearQueue(reader: ReaderRef, opts?: CallOptions): Promise<PinpadStatus> {
    return (await this.#json<{ pinpad: PinpadStatus }>({ method: 'DELETE', path: `/v1/readers/${readerRef(reader)}/pinpad/queue` }, opts)).pinpad;
  }

  /** The trace as the debugger-log text. */
  async traceText(reader: ReaderRef, opts?: CallOptions): Promise<string> {
    return this.#text({ method: 'GET', path: `/v1/readers/${readerRef(reader)}/trace`, headers: { accept: 'text/plain' } }, opts);
  }

  // ---- simulation: transcripts, scripted and replayed cards, relays (docs/simulation.md) ----

  async transcript(reader: ReaderRef, query: TranscriptQuery = {}, opts?: CallOptions): Promise<TranscriptPage> {
    return this.#json<TranscriptPage>({ method: 'GET', path: `/v1/readers/${readerRef(reader)}/transcript${simQuery({ ...query })}` }, opts);
  }

  /** The transcript as scriptor-style text, a JSON Lines file, or a scriptor input script. */
  async transcriptAs(reader: ReaderRef, format: TranscriptFormat, query: TranscriptQuery = {}, opts?: CallOptions): Promise<string> {
    return this.#text({ method: 'GET', path: `/v1/readers/${readerRef(reader)}/transcript${simQuery({ ...query, format })}` }, opts);
  }

  async clearTranscript(reader: ReaderRef, opts?: CallOptions): Promise<void> {
    const { res, release } = await this.#send({ method: 'DELETE', path: `/v1/readers/${readerRef(reader)}/transcript` }, opts);
    release();
    await res.body?.cancel();
  }

  /** Follows the transcript live (SSE); `since` first replays the kept entries after that seq. */
  async *followTranscript(reader: ReaderRef, query: { since?: number } = {}, opts?: CallOptions): AsyncGenerator<TranscriptEntry, void, undefined> {
    const path = `/v1/readers/${readerRef(reader)}/transcript/events${simQuery({ ...query })}`;
    const { res, release } = await this.#send({ method: 'GET', path, headers: { accept: 'text/event-stream' } }, opts);
    try {
      if (!res.body) return;
      const decoder = new SseDecoder();
      const text = new TextDecoder();
      const stream = res.body.getReader();
      try {
        for (;;) {
          const chunk = await stream.read().catch((err: unknown) => { throw this.#mapAbort(err, opts?.signal); });
          if (chunk.done) return;
          for (const msg of decoder.push(text.decode(chunk.value, { stream: true }))) {
            if (msg.event !== 'entry') continue;
            try {
              yield JSON.parse(msg.data) as TranscriptEntry;
            } catch (err) {
              if (err instanceof SyntaxError) throw new VscrProtocolError(`transcript entry is not JSON: ${msg.data.slice(0, 80)}`, { cause: err });
              throw err;
            }
          }
        }
      } finally {
        stream.cancel().catch(() => undefined);
      }
    } finally {
      release();
    }
  }

  /** Inserts a scripted card; `script` is the YAML or JSON text. 400 VSCR_ERR_BAD_SCRIPT names line and field. */
  async loadScript(reader: ReaderRef, script: string, options: { replace?: boolean } = {}, opts?: CallOptions): Promise<CardLoaded> {
    const path = `/v1/readers/${readerRef(reader)}/script${simQuery({ replace: options.replace })}`;
    return this.#json<CardLoaded>({ method: 'POST', path, headers: { 'content-type': 'application/yaml' }, body: script }, opts);
  }

  async verdict(reader: ReaderRef, opts?: CallOptions): Promise<ScriptVerdict> {
    return (await this.#json<{ verdict: ScriptVerdict }>({ method: 'GET', path: `/v1/readers/${readerRef(reader)}/script/verdict` }, opts)).verdict;
  }

  /** Inserts a card replaying a JSON Lines transcript. */
  async replay(reader: ReaderRef, transcript: string, options: { mode?: 'ordered' | 'by-command'; session?: number; replace?: boolean } = {}, opts?: CallOptions): Promise<CardLoaded> {
    const path = `/v1/readers/${readerRef(reader)}/replay${simQuery({ ...options })}`;
    return this.#json<CardLoaded>({ method: 'POST', path, headers: { 'content-type': 'application/x-ndjson' }, body: transcript }, opts);
  }

  async startRelay(reader: ReaderRef, socket: string, options: { remoteReader?: string; replace?: boolean } = {}, opts?: CallOptions): Promise<{ reader: ReaderInfo; relay: RelayStatus }> {
    const json = { socket, ...(options.remoteReader !== undefined ? { reader: options.remoteReader } : {}) };
    return this.#json({ method: 'POST', path: `/v1/readers/${readerRef(reader)}/relay${simQuery({ replace: options.replace })}`, json }, opts);
  }

  async relayStatus(reader: ReaderRef, opts?: CallOptions): Promise<RelayStatus | null> {
    return (await this.#json<{ relay: RelayStatus | null }>({ method: 'GET', path: `/v1/readers/${readerRef(reader)}/relay` }, opts)).relay;
  }

  async stopRelay(reader: ReaderRef, opts?: CallOptions): Promise<void> {
    const { res, release } = await this.#send({ method: 'DELETE', path: `/v1/readers/${readerRef(reader)}/relay` }, opts);
    release();
    await res.body?.cancel();
  }

  /**
   * Live events from `GET /v1/events` as an async iterator. End it with `break`, the signal, or close().
   * The iterator ends normally when the service closes the stream.
   */
  async *events(opts?: CallOptions): AsyncGenerator<VscrEvent, void, undefined> {
    const local = new AbortController();
    const unlink = linkSignal(opts?.signal, local);
    let releaseEvents = () => undefined as void;
    try {
      const { res, release } = await this.#send({ method: 'GET', path: '/v1/events', headers: { accept: 'text/event-stream' } }, { signal: local.signal });
      releaseEvents = release;
      if (!res.body) return;
      const decoder = new SseDecoder();
      const text = new TextDecoder();
      const reader = res.body.getReader();
      try {
        for (;;) {
          const chunk = await reader.read().catch((err: unknown) => { throw this.#mapAbort(err, opts?.signal); });
          if (chunk.done) return;
          for (const msg of decoder.push(text.decode(chunk.value, { stream: true }))) {
            let data: VscrEvent['data'];
            try {
              data = JSON.parse(msg.data) as VscrEvent['data'];
            } catch (err) {
              throw new VscrProtocolError(`event data is not JSON: ${msg.data.slice(0, 80)}`, { cause: err });
            }
            yield { event: msg.event, data, ...(msg.id !== undefined ? { id: msg.id } : {}) };
          }
        }
      } finally {
        reader.cancel().catch(() => undefined);
      }
    } finally {
      unlink();
      local.abort();
      releaseEvents();
    }
  }

  // ---- internals ----

  async #aes(device: number, op: 'encrypt' | 'decrypt', data: BodySource, opts?: CallOptions): Promise<ReadableStream<Uint8Array>> {
    const { res, release } = await this.#send({
      method: 'POST', path: `/v1/devices/${deviceId(device)}/aes-cbc/${op}`,
      headers: { 'content-type': 'application/octet-stream', accept: 'application/octet-stream' }, body: data,
    }, opts);
    if (!res.body) {
      release();
      return new ReadableStream({ start: (c) => c.close() });
    }
    // The request stays abortable by close() until the caller has read the whole body.
    return res.body.pipeThrough(new TransformStream<Uint8Array, Uint8Array>({ flush: release }));
  }

  async #aesJson(device: number, op: 'encrypt' | 'decrypt', data: DataInput, opts?: CallOptions): Promise<Uint8Array> {
    const res = await this.#json<{ data: string }>({ method: 'POST', path: `/v1/devices/${deviceId(device)}/aes-cbc/${op}`, json: data }, opts);
    try {
      return fromHex(res.data);
    } catch (err) {
      throw new VscrProtocolError(`the ${op} result is not hex`, { cause: err });
    }
  }

  async #text(req: SdkRequest, opts?: CallOptions): Promise<string> {
    const { res, release } = await this.#send(req, opts);
    try {
      return await res.text().catch((err: unknown) => { throw this.#mapAbort(err, opts?.signal); });
    } finally {
      release();
    }
  }

  async #json<T>(req: SdkRequest, opts?: CallOptions): Promise<T> {
    const { res, release } = await this.#send({ ...req, headers: { accept: 'application/json', ...req.headers } }, opts);
    let text: string;
    try {
      text = await res.text().catch((err: unknown) => { throw this.#mapAbort(err, opts?.signal); });
    } finally {
      release();
    }
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      throw new VscrProtocolError(`expected JSON from ${req.method} ${req.path}, got: ${text.slice(0, 80)}`, { cause: err });
    }
  }

  /**
   * Sends one request; resolves with a 2xx response, throws the typed error otherwise. The caller calls `release`
   * once it has read the body: until then close() aborts the request.
   */
  async #send(req: SdkRequest, opts?: CallOptions): Promise<{ res: HttpResponse; release: () => void }> {
    if (this.#closed) throw new VscrClientClosedError();
    const headers: Record<string, string> = { ...req.headers };
    if (this.#token) headers.authorization = `Bearer ${this.#token}`;
    let body = req.body;
    if (req.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(req.json);
    }
    const controller = new AbortController();
    const unlink = linkSignal(opts?.signal, controller);
    this.#inflight.add(controller);
    const release = () => {
      unlink();
      this.#inflight.delete(controller);
    };
    let res: HttpResponse;
    try {
      res = await this.#transport.request({ method: req.method, path: req.path, headers, body, signal: controller.signal });
    } catch (err) {
      release();
      throw this.#mapAbort(err, opts?.signal);
    }
    if (res.status >= 200 && res.status < 300) return { res, release };
    try {
      throw await httpError(res);
    } finally {
      release();
    }
  }

  #mapAbort(err: unknown, userSignal: AbortSignal | undefined): unknown {
    if (this.#closed) return new VscrClientClosedError();
    if (userSignal?.aborted) return err instanceof VscrAbortedError ? err : new VscrAbortedError(userSignal.reason);
    return err;
  }
}

interface SdkRequest {
  method: HttpRequest['method'];
  path: string;
  headers?: Record<string, string>;
  body?: HttpRequest['body'];
  json?: unknown;
}

async function httpError(res: HttpResponse): Promise<VscrHttpError> {
  let text = '';
  try {
    text = await res.text();
  } catch {
    // The body is only a detail of the error; the status is the fact.
  }
  let body: VscrErrorBody | undefined;
  try {
    const parsed = JSON.parse(text) as Partial<VscrErrorBody>;
    if (parsed && typeof parsed.code === 'string') body = parsed as VscrErrorBody;
  } catch {
    // not JSON: keep the text as the message
  }
  return new VscrHttpError(res.status, body, text ? `HTTP ${res.status}: ${text.slice(0, 200)}` : undefined);
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  const reader = stream.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return concatBytes(chunks);
    chunks.push(value);
  }
}

function isDataInput(value: unknown): value is DataInput {
  return typeof value === 'object' && value !== null && !(value instanceof Uint8Array) && typeof (value as DataInput).data === 'string';
}

function deviceId(device: number): string {
  if (!Number.isInteger(device) || device < 0) throw new VscrArgumentError(`device must be a non-negative integer, got ${String(device)}`);
  return String(device);
}

/** `?a=1&b=x` from the defined values (empty string when none). */
function simQuery(values: Record<string, string | number | boolean | undefined>): string {
  const parts = Object.entries(values).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`);
  return parts.length ? `?${parts.join('&')}` : '';
}

function readerRef(reader: ReaderRef): string {
  if (typeof reader === 'number') {
    if (!Number.isInteger(reader) || reader < 0) throw new VscrArgumentError(`reader index must be a non-negative integer, got ${reader}`);
    return String(reader);
  }
  if (reader === '') throw new VscrArgumentError('reader name must not be empty');
  return encodeURIComponent(reader);
}

function linkSignal(from: AbortSignal | undefined, to: AbortController): () => void {
  if (!from) return () => undefined;
  if (from.aborted) {
    to.abort(from.reason);
    return () => undefined;
  }
  const onAbort = () => to.abort(from.reason);
  from.addEventListener('abort', onAbort, { once: true });
  return () => from.removeEventListener('abort', onAbort);
}

