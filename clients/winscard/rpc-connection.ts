// Request/response matching over an RpcTransport: ids, pending calls, and the closed state. One connection is
// one server-side PC/SC session, so closing it releases every context and handle (docs/json-rpc.md).

import { decodeReply, encodeRequest, type JsonRpcFailure, type JsonRpcParams } from './codec.js';
import { JsonRpcError, WinscardClosedError, WinscardSocketError } from './errors.js';
import type { RpcTransport } from './transport.js';

interface Pending {
  method: string;
  resolve(result: Record<string, unknown>): void;
  reject(error: Error): void;
}

export class RpcConnection {
  readonly #transport: RpcTransport;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  /** Set once closed; later calls fail with it. */
  #closedWith: Error | undefined;

  constructor(transport: RpcTransport) {
    this.#transport = transport;
    transport.onMessage((text) => this.#onMessage(text));
    transport.onClose((error) => this.#fail(error ?? new WinscardClosedError()));
  }

  get closed(): boolean {
    return this.#closedWith !== undefined;
  }

  /** Sends one request and resolves with its `result` object. */
  call(method: string, params: JsonRpcParams): Promise<Record<string, unknown>> {
    if (this.#closedWith) return Promise.reject(this.#closedWith);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { method, resolve, reject });
      try {
        this.#transport.send(encodeRequest(id, method, params));
      } catch (err) {
        this.#pending.delete(id);
        reject(err instanceof Error ? err : new WinscardSocketError(String(err)));
      }
    });
  }

  async close(): Promise<void> {
    if (this.#closedWith) return;
    this.#fail(new WinscardClosedError());
    await this.#transport.close();
  }

  #onMessage(text: string): void {
    let reply;
    try {
      reply = decodeReply(text);
    } catch (err) {
      // A frame we cannot read means the peer does not speak the contract; nothing after it can be trusted.
      this.#fail(new WinscardSocketError(`bad frame from the server: ${(err as Error).message}`, { cause: err }));
      void this.#transport.close();
      return;
    }
    if (reply.kind === 'notification') return; // none are defined by the contract; tolerate future ones
    if (reply.id === null) {
      // An error for a request the server could not even parse; it cannot be matched, so it ends the session.
      const e = reply as JsonRpcFailure;
      this.#fail(new JsonRpcError('(unknown)', e.code, e.message, e.data));
      void this.#transport.close();
      return;
    }
    const pending = this.#pending.get(reply.id);
    if (!pending) return; // a reply to a call already failed by close(): ignore
    this.#pending.delete(reply.id);
    if (reply.kind === 'error') pending.reject(new JsonRpcError(pending.method, reply.code, reply.message, reply.data));
    else pending.resolve(reply.result);
  }

  #fail(error: Error): void {
    if (this.#closedWith) return;
    this.#closedWith = error;
    for (const p of this.#pending.values()) p.reject(error);
    this.#pending.clear();
  }
}
