// Typed errors of the winscard-style client. PC/SC outcomes become PcscError (rv + SCARD_* name); transport and
// protocol faults have their own classes. All extend VscrError, so `code` is stable and `isVscrError` works.

import { VscrError } from '../sdk/errors.js';
import { scardName } from '../../service/contract/pcsclite.js';

/** A PC/SC call returned rv != SCARD_S_SUCCESS. `code` is the pcsc-lite name, e.g. `SCARD_E_NO_SMARTCARD`. */
export class PcscError extends VscrError {
  readonly rv: number;
  readonly method: string;
  constructor(method: string, rv: number) {
    const name = scardName(rv);
    super(name, `${method} failed: ${name} (0x${(rv >>> 0).toString(16).toUpperCase().padStart(8, '0')})`);
    this.name = 'PcscError';
    this.rv = rv >>> 0;
    this.method = method;
  }
}

/** The server answered with a JSON-RPC `error` (a malformed request: -32700, -32600, -32601, -32602). */
export class JsonRpcError extends VscrError {
  readonly rpcCode: number;
  readonly data: unknown;
  constructor(method: string, rpcCode: number, message: string, data?: unknown) {
    super('VSCR_ERR_JSONRPC', `${method}: JSON-RPC error ${rpcCode}: ${message}`);
    this.name = 'JsonRpcError';
    this.rpcCode = rpcCode;
    this.data = data;
  }
}

/** The client was closed by its owner; calls in flight and later calls fail with this. */
export class WinscardClosedError extends VscrError {
  constructor() {
    super('VSCR_ERR_CLIENT_CLOSED', 'the winscard client is closed');
    this.name = 'WinscardClosedError';
  }
}

/** The WebSocket failed to open or dropped; the session (every context and handle) is gone. */
export class WinscardSocketError extends VscrError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('VSCR_ERR_SOCKET', message, options);
    this.name = 'WinscardSocketError';
  }
}
