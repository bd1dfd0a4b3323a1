// One WebSocket client of /v1/pcsc: one RmSession, requests handled concurrently (a blocked GetStatusChange
// never holds up the next request), responses matched by id, the session closed with the socket. Bounded: at
// most MAX_IN_FLIGHT requests run at once, and reading stops while unsent replies exceed SEND_HIGH_WATER.

import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import type { RawData, WebSocket } from 'ws';
import type { RmSession } from '../../rm/contract.js';
import type { BusyPoll } from '../../net/busy-poll.js';
import type { PcscMethod } from '../../contract/json-rpc.js';
import { scardName } from '../../contract/pcsclite.js';
import { InvalidParamsError, JsonRpcMethodError, JSONRPC_ERROR, ParamReader, errorResponse, parseFrame, resultResponse, type JsonRpcResponse, type ParsedItem } from './codec.js';
import { hasMethod, runMethod, type ExtraMethodHandler } from './methods.js';

/** WebSocket close code 1009 "message too big" (RFC 6455 §7.4.1). */
const CLOSE_TOO_BIG = 1009;
/** Requests one connection may have running at once (blocked GetStatusChange calls included). */
export const MAX_IN_FLIGHT = 256;
/**
 * Reply bytes handed to the socket but not yet written out, above which we stop reading from the client (as the
 * pcsc-lite socket does): a client that sends without reading its replies then blocks on its own send buffer
 * instead of growing ours. Reading resumes below SEND_LOW_WATER.
 */
export const SEND_HIGH_WATER = 256 * 1024;
export const SEND_LOW_WATER = 64 * 1024;
/** Calls that only wake or end others: always admitted, even at MAX_IN_FLIGHT, so a saturated client can unblock. */
const ALWAYS_ADMITTED: ReadonlySet<string> = new Set<PcscMethod>(['SCardCancel', 'SCardReleaseContext']);
/** Implementation-defined server error (JSON-RPC 2.0 §5.1 reserves -32000..-32099): too many requests in flight. */
export const SERVER_BUSY = -32000;

function rawLength(data: RawData): number {
  if (Array.isArray(data)) return data.reduce((n, b) => n + b.length, 0);
  return data instanceof ArrayBuffer ? data.byteLength : data.length;
}

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return data instanceof ArrayBuffer ? Buffer.from(data).toString('utf8') : data.toString('utf8');
}

export class JsonRpcConnection {
  private readonly closed = new AbortController();
  private badRequests = 0;
  private inFlight = 0;
  /** Bytes passed to socket.send() whose write callback has not run yet. */
  private unsent = 0;
  private readPaused = false;

  constructor(
    private readonly socket: WebSocket,
    private readonly session: RmSession,
    private readonly log: Logger,
    private readonly maxMessageBytes: number,
    private readonly busyPoll?: BusyPoll,
    /** Methods beyond winscard's (the `vscr.*` ones), by name. */
    private readonly extra: Readonly<Record<string, ExtraMethodHandler>> = {},
  ) {
    // Every blocked call (GetStatusChange, a waiting BEGIN) listens on this signal, up to MAX_IN_FLIGHT at once:
    // legitimate, so node's default of 10 listeners must not warn about a leak.
    setMaxListeners(MAX_IN_FLIGHT + 1, this.closed.signal);
    socket.on('message', (data) => this.onMessage(data));
    socket.on('close', () => void this.shutdown());
    socket.on('error', (err) => {
      this.log.info({ err }, 'websocket error');
      void this.shutdown();
    });
  }

  private onMessage(data: RawData): void {
    if (this.closed.signal.aborted) return;
    this.busyPoll?.extend();
    if (rawLength(data) > this.maxMessageBytes) {
      // Protocol-level abuse: answer once, then close (the only case that ends the connection).
      this.log.info({ bytes: rawLength(data) }, 'oversize JSON-RPC message: closing');
      this.send(errorResponse(null, JSONRPC_ERROR.INVALID_REQUEST, `Invalid Request: message larger than ${this.maxMessageBytes} bytes`));
      this.socket.close(CLOSE_TOO_BIG, 'message too big');
      void this.shutdown();
      return;
    }
    const frame = parseFrame(rawText(data));
    if (frame.kind === 'invalid') {
      this.noteBad(frame.response);
      this.send(frame.response);
    } else if (frame.kind === 'single') {
      void this.handle(frame.item).then((r) => r && this.send(r));
    } else {
      void Promise.all(frame.items.map((i) => this.handle(i))).then((rs) => {
        const out = rs.filter((r): r is JsonRpcResponse => r !== null);
        if (out.length) this.send(out);
      });
    }
  }

  /** One request → its response, or null for a notification. Never rejects. */
  private async handle(item: ParsedItem): Promise<JsonRpcResponse | null> {
    if (!item.ok) {
      this.noteBad(item.response);
      return item.response;
    }
    const { id, method, params } = item.request;
    const respond = (r: JsonRpcResponse): JsonRpcResponse | null => (id === undefined ? null : r);
    // A winscard call from the contract's table, or one of vscr's own methods given to this connection.
    const pcsc = hasMethod(method);
    const extra = !pcsc && Object.hasOwn(this.extra, method) ? this.extra[method] : undefined;
    if (!pcsc && extra === undefined) {
      const r = errorResponse(id ?? null, JSONRPC_ERROR.METHOD_NOT_FOUND, `Method not found: ${method}`);
      this.noteBad(r);
      return respond(r);
    }
    if (this.inFlight >= MAX_IN_FLIGHT && !ALWAYS_ADMITTED.has(method)) {
      this.log.info({ method, inFlight: this.inFlight }, 'too many requests in flight');
      return respond(errorResponse(id ?? null, SERVER_BUSY, `Server busy: more than ${MAX_IN_FLIGHT} requests in flight on this connection`));
    }
    this.inFlight++;
    try {
      const result = await (extra !== undefined
        ? extra(this.session, new ParamReader(params), this.closed.signal)
        : runMethod(method as PcscMethod, this.session, params, this.closed.signal)); // pcsc is true here
      // Guarded: the log object and the name lookup are not built on every call when debug is off.
      if (typeof result.rv === 'number' && result.rv !== 0 && this.log.isLevelEnabled('debug')) {
        this.log.debug({ method, rv: scardName(result.rv) }, 'PC/SC call failed');
      }
      return respond(resultResponse(id ?? null, result));
    } catch (err) {
      if (err instanceof InvalidParamsError) {
        const r = errorResponse(id ?? null, JSONRPC_ERROR.INVALID_PARAMS, err.message);
        this.noteBad(r);
        return respond(r);
      }
      if (err instanceof JsonRpcMethodError) {
        const r = errorResponse(id ?? null, err.code, err.message, err.data);
        this.noteBad(r);
        return respond(r);
      }
      this.log.error({ err, method }, 'JSON-RPC handler failed');
      return respond(errorResponse(id ?? null, JSONRPC_ERROR.INTERNAL_ERROR, 'Internal error'));
    } finally {
      this.inFlight--;
    }
  }

  /** Client mistakes: the first and every 100th at info (so a flood shows its rate), the rest at debug. */
  private noteBad(r: JsonRpcResponse): void {
    this.badRequests++;
    if (!('error' in r)) return;
    const level = this.badRequests === 1 || this.badRequests % 100 === 0 ? 'info' : 'debug';
    this.log[level]({ code: r.error.code, message: r.error.message, badRequests: this.badRequests }, 'bad JSON-RPC request');
  }

  private send(payload: JsonRpcResponse | JsonRpcResponse[]): void {
    if (this.socket.readyState !== this.socket.OPEN) return;
    this.busyPoll?.extend(); // the client's next request usually follows within microseconds
    const text = JSON.stringify(payload);
    // Byte length would cost a second pass; replies are ASCII JSON apart from reader names, so length is close.
    const bytes = text.length;
    this.unsent += bytes;
    this.socket.send(text, () => {
      this.unsent -= bytes;
      if (this.readPaused && this.unsent <= SEND_LOW_WATER) {
        this.readPaused = false;
        this.log.debug({ unsent: this.unsent }, 'client is reading again: resuming');
        if (this.socket.readyState === this.socket.OPEN) this.socket.resume();
      }
    });
    if (!this.readPaused && this.unsent > SEND_HIGH_WATER) {
      this.readPaused = true;
      this.log.info({ unsent: this.unsent, limit: SEND_HIGH_WATER }, 'client does not read its replies: reading paused');
      this.socket.pause();
    }
  }

  /** Reply bytes queued and not yet written to the network (for tests and diagnostics). */
  get unsentBytes(): number {
    return this.unsent;
  }

  private async shutdown(): Promise<void> {
    if (this.closed.signal.aborted) return;
    this.closed.abort();
    try {
      await this.session.close();
      this.log.debug('session closed');
    } catch (err) {
      this.log.error({ err }, 'closing the RM session failed');
    }
  }
}
