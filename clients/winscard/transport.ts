// The seam under the winscard client: a message transport carrying JSON-RPC text frames. The WebSocket
// implementation works with the browser's WebSocket or the `ws` package; tests inject a mock.

import { VscrHttpError } from '../sdk/errors.js';
import { WinscardSocketError } from './errors.js';

export interface RpcTransport {
  /** Sends one text frame. Throws WinscardSocketError when the transport is not open. */
  send(text: string): void;
  /** Registers the frame handler (one per transport). */
  onMessage(handler: (text: string) => void): void;
  /** Registers the close handler; called once, with an error when the close was not requested. */
  onClose(handler: (error?: Error) => void): void;
  close(): Promise<void>;
}

/** The subset of the WHATWG WebSocket both the browser and `ws` provide. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open' | 'close' | 'error' | 'message', listener: (event: { data?: unknown; code?: number; reason?: string; message?: string; error?: unknown }) => void): void;
}

export type WebSocketFactory = (url: string, headers: Record<string, string>) => WebSocketLike;

export interface WebSocketTransportOptions {
  /** ws:// or wss:// URL of `/v1/pcsc`. */
  url: string;
  /** Sent as a bearer token header (the `ws` package only; browsers cannot set WebSocket headers). */
  token?: string;
  /** Creates the socket; default: the global WebSocket, else the `ws` package. */
  factory?: WebSocketFactory;
}

const OPEN = 1;

/** Opens a WebSocket and resolves once it is open. */
export async function openWebSocketTransport(opts: WebSocketTransportOptions): Promise<RpcTransport> {
  const headers: Record<string, string> = opts.token ? { authorization: `Bearer ${opts.token}` } : {};
  const factory = opts.factory ?? (await defaultFactory());
  const socket = factory(opts.url, headers);
  await new Promise<void>((resolve, reject) => {
    let settled = false;
    socket.addEventListener('open', () => {
      settled = true;
      resolve();
    });
    const fail = (event: { message?: string; error?: unknown; code?: number; reason?: string }) => {
      if (settled) return;
      settled = true;
      const detail = event.message ?? (event.code !== undefined ? `closed with code ${event.code}` : 'error');
      // The service answered the upgrade with an HTTP error (401 without the token): that is not "unreachable".
      const status = /Unexpected server response: (\d{3})/.exec(detail)?.[1];
      if (status) {
        const hint = status === '401' ? 'pass the service token (--token / VSCR_TOKEN)' : 'check the URL and the service log';
        reject(new VscrHttpError(Number(status), undefined, `the PC/SC WebSocket at ${opts.url} was refused with HTTP ${status}; ${hint}`));
        return;
      }
      reject(new WinscardSocketError(`cannot open the PC/SC WebSocket at ${opts.url} (${detail}); is the vscr service running?`, { cause: event.error }));
    };
    socket.addEventListener('error', fail);
    socket.addEventListener('close', fail);
  });
  return new WebSocketTransport(socket);
}

class WebSocketTransport implements RpcTransport {
  readonly #socket: WebSocketLike;
  #closeRequested = false;
  #closed = false;
  #onClose: ((error?: Error) => void) | undefined;
  #closedPromise: Promise<void>;

  constructor(socket: WebSocketLike) {
    this.#socket = socket;
    let resolveClosed: () => void = () => undefined;
    this.#closedPromise = new Promise((resolve) => (resolveClosed = resolve));
    socket.addEventListener('close', (event) => {
      if (this.#closed) return;
      this.#closed = true;
      resolveClosed();
      this.#onClose?.(this.#closeRequested ? undefined : new WinscardSocketError(`the PC/SC WebSocket closed (code ${event.code ?? '?'})`));
    });
  }

  send(text: string): void {
    if (this.#closed || this.#socket.readyState !== OPEN) throw new WinscardSocketError('the PC/SC WebSocket is not open');
    this.#socket.send(text);
  }

  onMessage(handler: (text: string) => void): void {
    const decoder = new TextDecoder();
    this.#socket.addEventListener('message', (event) => {
      const data = event.data;
      if (typeof data === 'string') handler(data);
      // `ws` may hand text frames over as Buffer/ArrayBuffer; decode them as UTF-8.
      else if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) handler(decoder.decode(data as Uint8Array));
    });
  }

  onClose(handler: (error?: Error) => void): void {
    this.#onClose = handler;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closeRequested = true;
    this.#socket.close(1000, 'client closed');
    // Bounded: a peer that never answers the close handshake must not hang the caller.
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([this.#closedPromise, new Promise((r) => (timer = setTimeout(r, 2000)))]);
    clearTimeout(timer);
  }
}

async function defaultFactory(): Promise<WebSocketFactory> {
  const Global = (globalThis as { WebSocket?: new (url: string) => WebSocketLike }).WebSocket;
  // Prefer `ws` in Node even when a global WebSocket exists (Node 22), because only it can send the auth header.
  const isNode = typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === 'string';
  if (isNode || !Global) {
    const { WebSocket: Ws } = await import('ws');
    return (url, headers) => new Ws(url, { headers }) as unknown as WebSocketLike;
  }
  return (url) => new Global(url);
}
