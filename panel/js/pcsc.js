// @ts-check
// A JSON-RPC 2.0 PC/SC client over the /v1/pcsc WebSocket (one socket = one PC/SC client). Browsers cannot
// set headers on a WebSocket, so the token goes as ?access_token= (the service redacts it from its logs).

import { getToken } from './api.js';

const CALL_TIMEOUT_MS = 20_000;

/** pcsc-lite return codes the console names; others are shown in hex. */
const RV_NAMES = /** @type {Record<number, string>} */ ({
  0: 'SCARD_S_SUCCESS',
  0x80100003: 'SCARD_E_INVALID_HANDLE',
  0x80100009: 'SCARD_E_UNKNOWN_READER',
  0x8010000b: 'SCARD_E_SHARING_VIOLATION',
  0x8010000c: 'SCARD_E_NO_SMARTCARD',
  0x8010000f: 'SCARD_E_PROTO_MISMATCH',
  0x80100017: 'SCARD_E_READER_UNAVAILABLE',
  0x80100066: 'SCARD_W_UNRESPONSIVE_CARD',
  0x80100068: 'SCARD_W_RESET_CARD',
  0x80100069: 'SCARD_W_REMOVED_CARD',
});

/** @param {number} rv */
export function rvName(rv) {
  return RV_NAMES[rv] ?? `0x${(rv >>> 0).toString(16).padStart(8, '0')}`;
}

export class PcscError extends Error {
  /** @param {string} method @param {number} rv */
  constructor(method, rv) {
    super(`${method}: ${rvName(rv)}`);
    this.rv = rv;
  }
}

export class PcscClient {
  /** @param {WebSocket} ws */
  constructor(ws) {
    this.ws = ws;
    this.nextId = 1;
    /** @type {Map<number, { resolve: (r: any) => void, reject: (e: Error) => void }>} */
    this.pending = new Map();
    ws.addEventListener('message', (e) => {
      const msg = JSON.parse(String(e.data));
      const waiter = this.pending.get(msg.id);
      if (waiter === undefined) return;
      this.pending.delete(msg.id);
      if (msg.error !== undefined) waiter.reject(new Error(`JSON-RPC error ${msg.error.code}: ${msg.error.message}`));
      else waiter.resolve(msg.result);
    });
    ws.addEventListener('close', () => {
      for (const w of this.pending.values()) w.reject(new Error('the PC/SC connection closed'));
      this.pending.clear();
    });
  }

  /** @returns {Promise<PcscClient>} */
  static connect() {
    const url = new URL('/v1/pcsc', location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    const token = getToken();
    if (token !== null) url.searchParams.set('access_token', token);
    const ws = new WebSocket(url);
    return new Promise((resolve, reject) => {
      ws.addEventListener('open', () => resolve(new PcscClient(ws)), { once: true });
      ws.addEventListener('error', () => reject(new Error('could not open the PC/SC WebSocket')), { once: true });
    });
  }

  get open() {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /**
   * Calls a winscard method; resolves its result when rv is SCARD_S_SUCCESS, else throws PcscError.
   * @param {string} method
   * @param {Record<string, unknown>} params
   * @returns {Promise<any>} the method's documented result object
   */
  call(method, params) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${method}: no answer in ${CALL_TIMEOUT_MS / 1000} s`));
      }, CALL_TIMEOUT_MS);
      this.pending.set(id, {
        resolve: (r) => {
          clearTimeout(timer);
          if (r.rv === 0) resolve(r);
          else reject(new PcscError(method, r.rv));
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    });
  }

  close() {
    this.ws.close();
  }
}
