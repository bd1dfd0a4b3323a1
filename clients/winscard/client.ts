// The winscard-style PC/SC API over JSON-RPC (the method table of docs/json-rpc.md). API layer only: it names the
// calls, converts hex and checks rv; RpcConnection matches replies, and RpcTransport carries the frames.
//
// Error convention (one rule, documented in docs/cli.md): every call whose rv is not SCARD_S_SUCCESS throws
// PcscError { rv, code: scardName(rv) }. Two queries are the exception because the "error" is their answer:
// isValidContext() resolves false for SCARD_E_INVALID_HANDLE, listReaders() resolves [] for
// SCARD_E_NO_READERS_AVAILABLE.

import type { PcscMethod, PcscParams, PcscResult } from '../../service/contract/json-rpc.js';
import {
  INFINITE, MAX_BUFFER_SIZE, MAX_BUFFER_SIZE_EXTENDED, SCARD, SCARD_PROTOCOL, SCARD_SCOPE,
} from '../../service/contract/pcsclite.js';
import { fromHex, toHex } from '../sdk/hex.js';
import { PcscError, WinscardSocketError } from './errors.js';
import { RpcConnection } from './rpc-connection.js';
import { openWebSocketTransport, type RpcTransport, type WebSocketFactory } from './transport.js';

export interface ReaderStateQuery {
  reader: string;
  /** SCARD_STATE_* bits the caller last saw (SCARD_STATE.UNAWARE to get the current state at once). */
  currentState: number;
}

export interface ReaderStateResult {
  reader: string;
  currentState: number;
  /** SCARD_STATE_* bits now; SCARD_STATE.CHANGED set when it differs from currentState. The high 16 bits hold the event counter (pcsc-lite). */
  eventState: number;
  atr: Uint8Array;
}

export interface CardStatus {
  readerName: string;
  /** READER_STATE bits (pcsc-lite pdwState). */
  state: number;
  protocol: number;
  atr: Uint8Array;
}

export interface WinscardConnectOptions {
  /** Service base URL (http:// or ws://); `/v1/pcsc` is appended. Default `http://127.0.0.1:8790`. */
  url?: string;
  token?: string;
  /** A custom socket factory (browsers with a special WebSocket, tests). */
  webSocketFactory?: WebSocketFactory;
  /** A ready transport; replaces the WebSocket entirely (tests use a mock). */
  transport?: RpcTransport;
}

/** Opens one PC/SC session (one WebSocket). Close it with `close()`; that releases every context and handle. */
export async function connectWinscard(opts: WinscardConnectOptions = {}): Promise<WinscardClient> {
  const transport = opts.transport ?? await openWebSocketTransport({
    url: pcscWebSocketUrl(opts.url ?? 'http://127.0.0.1:8790'),
    token: opts.token,
    factory: opts.webSocketFactory,
  });
  return new WinscardClient(transport);
}

/** `http://host:port` → `ws://host:port/v1/pcsc` (https → wss). */
export function pcscWebSocketUrl(base: string): string {
  const u = new URL(base);
  if (u.protocol === 'http:') u.protocol = 'ws:';
  else if (u.protocol === 'https:') u.protocol = 'wss:';
  u.pathname = u.pathname.replace(/\/+$/, '') + '/v1/pcsc';
  return u.toString();
}

export class WinscardClient {
  readonly #rpc: RpcConnection;

  constructor(transport: RpcTransport) {
    this.#rpc = new RpcConnection(transport);
  }

  get closed(): boolean {
    return this.#rpc.closed;
  }

  /** Closes the socket; the server releases this session's contexts, handles and transactions. */
  close(): Promise<void> {
    return this.#rpc.close();
  }

  async establishContext(scope: number = SCARD_SCOPE.SYSTEM): Promise<number> {
    const r = await this.#call('SCardEstablishContext', { dwScope: scope });
    return num(r, 'hContext');
  }

  async releaseContext(hContext: number): Promise<void> {
    await this.#call('SCardReleaseContext', { hContext });
  }

  /** Resolves false for SCARD_E_INVALID_HANDLE (the answer, not a failure); throws PcscError for anything else. */
  async isValidContext(hContext: number): Promise<boolean> {
    const r = await this.#raw('SCardIsValidContext', { hContext });
    if (r.rv === SCARD.S_SUCCESS) return true;
    if (r.rv === SCARD.E_INVALID_HANDLE) return false;
    throw new PcscError('SCardIsValidContext', r.rv);
  }

  /** Reader names; [] when there are none (SCARD_E_NO_READERS_AVAILABLE). */
  async listReaders(hContext: number, groups?: string[]): Promise<string[]> {
    const r = await this.#raw('SCardListReaders', groups ? { hContext, mszGroups: groups } : { hContext });
    if (r.rv === SCARD.E_NO_READERS_AVAILABLE) return [];
    if (r.rv !== SCARD.S_SUCCESS) throw new PcscError('SCardListReaders', r.rv);
    return strings(r.result, 'mszReaders');
  }

  async listReaderGroups(hContext: number): Promise<string[]> {
    return strings(await this.#call('SCardListReaderGroups', { hContext }), 'mszGroups');
  }

  /**
   * Blocks until a reader's state differs from `currentState`, or `timeout` ms pass (SCARD_E_TIMEOUT).
   * `signal` ends the wait by sending SCardCancel; the call then throws PcscError SCARD_E_CANCELLED.
   */
  async getStatusChange(hContext: number, states: ReaderStateQuery[], opts: { timeout?: number; signal?: AbortSignal } = {}): Promise<ReaderStateResult[]> {
    const method = 'SCardGetStatusChange';
    if (opts.signal?.aborted) throw new PcscError(method, SCARD.E_CANCELLED);
    const onAbort = () => {
      // Cancel is the PC/SC way to end another call's wait; its own failure changes nothing for the caller.
      this.cancel(hContext).catch(() => undefined);
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const r = await this.#call(method, {
        hContext,
        dwTimeout: opts.timeout ?? INFINITE,
        rgReaderStates: states.map((s) => ({ szReader: s.reader, dwCurrentState: s.currentState })),
      });
      const out: unknown = r.rgReaderStates;
      if (!Array.isArray(out)) throw protocolError(method, 'rgReaderStates');
      return out.map((s: Unchecked<PcscResult<typeof method>['rgReaderStates'][number]>) => ({
        reader: str(s, 'szReader'),
        currentState: num(s, 'dwCurrentState'),
        eventState: num(s, 'dwEventState'),
        atr: bytes(s, 'rgbAtr'),
      }));
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
    }
  }

  async cancel(hContext: number): Promise<void> {
    await this.#call('SCardCancel', { hContext });
  }

  async connect(hContext: number, reader: string, shareMode: number, preferredProtocols: number = SCARD_PROTOCOL.ANY): Promise<{ hCard: number; protocol: number }> {
    const r = await this.#call('SCardConnect', { hContext, szReader: reader, dwShareMode: shareMode, dwPreferredProtocols: preferredProtocols });
    return { hCard: num(r, 'hCard'), protocol: num(r, 'dwActiveProtocol') };
  }

  /** Resolves with the active protocol. */
  async reconnect(hCard: number, shareMode: number, preferredProtocols: number, initialization: number): Promise<number> {
    const r = await this.#call('SCardReconnect', { hCard, dwShareMode: shareMode, dwPreferredProtocols: preferredProtocols, dwInitialization: initialization });
    return num(r, 'dwActiveProtocol');
  }

  async disconnect(hCard: number, disposition: number): Promise<void> {
    await this.#call('SCardDisconnect', { hCard, dwDisposition: disposition });
  }

  async beginTransaction(hCard: number): Promise<void> {
    await this.#call('SCardBeginTransaction', { hCard });
  }

  async endTransaction(hCard: number, disposition: number): Promise<void> {
    await this.#call('SCardEndTransaction', { hCard, dwDisposition: disposition });
  }

  /**
   * Sends an APDU; resolves with the response (data + SW1 SW2). `recvLength` defaults to 65548.
   * The receive PCI is left out on purpose, as most PC/SC wrappers do: pcsc-lite fills pioRecvPci with the
   * protocol of the exchange, which the caller already passed in. `transmitWithPci` returns it for those who check.
   */
  async transmit(hCard: number, protocol: number, apdu: Uint8Array, opts: { recvLength?: number } = {}): Promise<Uint8Array> {
    return bytes(await this.#transmit(hCard, protocol, apdu, opts), 'pbRecvBuffer');
  }

  /** Like transmit, plus the protocol from the server's pioRecvPci (`recvProtocol`). */
  async transmitWithPci(hCard: number, protocol: number, apdu: Uint8Array, opts: { recvLength?: number } = {}): Promise<{ response: Uint8Array; recvProtocol: number }> {
    const r = await this.#transmit(hCard, protocol, apdu, opts);
    const pci = r.pioRecvPci;
    if (typeof pci !== 'object' || pci === null) throw protocolError('SCardTransmit', 'pioRecvPci');
    return { response: bytes(r, 'pbRecvBuffer'), recvProtocol: num(pci as Unchecked<PcscResult<'SCardTransmit'>['pioRecvPci']>, 'dwProtocol') };
  }

  #transmit(hCard: number, protocol: number, apdu: Uint8Array, opts: { recvLength?: number }): Promise<Unchecked<PcscResult<'SCardTransmit'>>> {
    return this.#call('SCardTransmit', {
      hCard, pioSendPci: { dwProtocol: protocol }, pbSendBuffer: toHex(apdu), cbRecvLength: opts.recvLength ?? MAX_BUFFER_SIZE_EXTENDED,
    });
  }

  async control(hCard: number, controlCode: number, data: Uint8Array = new Uint8Array(0), opts: { recvLength?: number } = {}): Promise<Uint8Array> {
    const r = await this.#call('SCardControl', {
      hCard, dwControlCode: controlCode, pbSendBuffer: toHex(data), cbRecvLength: opts.recvLength ?? MAX_BUFFER_SIZE_EXTENDED,
    });
    return bytes(r, 'pbRecvBuffer');
  }

  async getAttrib(hCard: number, attrId: number, opts: { length?: number } = {}): Promise<Uint8Array> {
    const r = await this.#call('SCardGetAttrib', { hCard, dwAttrId: attrId, cbAttrLen: opts.length ?? MAX_BUFFER_SIZE });
    return bytes(r, 'pbAttr');
  }

  async setAttrib(hCard: number, attrId: number, value: Uint8Array): Promise<void> {
    await this.#call('SCardSetAttrib', { hCard, dwAttrId: attrId, pbAttr: toHex(value) });
  }

  async status(hCard: number): Promise<CardStatus> {
    const r = await this.#call('SCardStatus', { hCard });
    return { readerName: str(r, 'szReaderName'), state: num(r, 'dwState'), protocol: num(r, 'dwProtocol'), atr: bytes(r, 'pbAtr') };
  }

  /** One call; resolves with its result when rv is success, throws PcscError otherwise. */
  async #call<M extends PcscMethod>(method: M, params: PcscParams<M>): Promise<Unchecked<PcscResult<M>>> {
    const r = await this.#raw(method, params);
    if (r.rv !== SCARD.S_SUCCESS) throw new PcscError(method, r.rv);
    return r.result;
  }

  async #raw<M extends PcscMethod>(method: M, params: PcscParams<M>): Promise<{ rv: number; result: Unchecked<PcscResult<M>> }> {
    const result: Unchecked<PcscResult<M>> = await this.#rpc.call(method, params);
    return { rv: num(result, 'rv') >>> 0, result };
  }
}

/** A result as it arrives: the contract's field names, each value still to be checked (the server is a peer). */
type Unchecked<R> = { readonly [K in keyof R]?: unknown };

function protocolError(method: string, field: string): WinscardSocketError {
  return new WinscardSocketError(`${method}: the server's result has no valid "${field}"`);
}

function num<R>(r: Unchecked<R>, field: keyof R & string): number {
  const v = r[field];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw protocolError('reply', field);
  return v;
}

function str<R>(r: Unchecked<R>, field: keyof R & string): string {
  const v = r[field];
  if (typeof v !== 'string') throw protocolError('reply', field);
  return v;
}

function strings<R>(r: Unchecked<R>, field: keyof R & string): string[] {
  const v = r[field];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw protocolError('reply', field);
  return v as string[];
}

function bytes<R>(r: Unchecked<R>, field: keyof R & string): Uint8Array {
  const v = r[field];
  if (v === undefined || v === null) return new Uint8Array(0);
  if (typeof v !== 'string') throw protocolError('reply', field);
  try {
    return fromHex(v);
  } catch (err) {
    throw new WinscardSocketError(`reply field "${field}" is not hex`, { cause: err });
  }
}
