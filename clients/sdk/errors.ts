// Typed errors of the REST SDK: one base class with a stable `code`, branded with Symbol.for so `isVscrError`
// works across duplicated copies of the package (the undici pattern, docs/style.md §5 and convention 14).

import type { RestError } from '../../service/contract/rest.js';

const BRAND = Symbol.for('vscr.error');

/** Base of every error the vscr clients throw on purpose. `code` is stable; messages may change. */
export class VscrError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'VscrError';
    this.code = code;
    Object.defineProperty(this, BRAND, { value: true });
  }
}

/** True for any VscrError, even one created by another copy of this module. */
export function isVscrError(value: unknown): value is VscrError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
}

/** The body shape the service sends with every 4xx/5xx (docs/errors.md), derived from its schema. */
export type VscrErrorBody = RestError;

/** The service answered with an HTTP error. `code` is the service's `VSCR_ERR_*` (or `VSCR_ERR_HTTP_<status>`). */
export class VscrHttpError extends VscrError {
  readonly status: number;
  readonly ntstatus: string | undefined;
  readonly scard: string | undefined;
  readonly body: VscrErrorBody | undefined;
  constructor(status: number, body: VscrErrorBody | undefined, fallbackMessage?: string) {
    const code = body?.code ?? `VSCR_ERR_HTTP_${status}`;
    super(code, body?.message ?? fallbackMessage ?? `HTTP ${status}`);
    this.name = 'VscrHttpError';
    this.status = status;
    this.ntstatus = body?.ntstatus;
    this.scard = body?.scard;
    this.body = body;
  }
}

/** No HTTP answer at all: connection refused, DNS failure, reset socket. */
export class VscrUnreachableError extends VscrError {
  readonly url: string;
  constructor(url: string, cause: unknown) {
    const detail = describeCause(cause);
    super('VSCR_ERR_UNREACHABLE', `cannot reach the vscr service at ${url}${detail ? ` (${detail})` : ''}; ` +
      'start it with `vscr serve` (or `npm start`) or point --url / VSCR_URL at a running one', { cause });
    this.name = 'VscrUnreachableError';
    this.url = url;
  }
}

/** The client was closed; every later call and every call still in flight fails with this. */
export class VscrClientClosedError extends VscrError {
  constructor() {
    super('VSCR_ERR_CLIENT_CLOSED', 'the client is closed');
    this.name = 'VscrClientClosedError';
  }
}

/** The caller's AbortSignal fired. */
export class VscrAbortedError extends VscrError {
  constructor(cause?: unknown) {
    super('VSCR_ERR_ABORTED', 'the request was aborted', { cause });
    this.name = 'VscrAbortedError';
  }
}

/** The service answered, but not with what the contract promises (wrong content type, malformed JSON). */
export class VscrProtocolError extends VscrError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('VSCR_ERR_PROTOCOL', message, options);
    this.name = 'VscrProtocolError';
  }
}

/** A bad argument given to the SDK itself (caught before any request is sent). */
export class VscrArgumentError extends VscrError {
  constructor(message: string) {
    super('VSCR_ERR_ARGUMENT', message);
    this.name = 'VscrArgumentError';
  }
}

function describeCause(cause: unknown): string {
  // fetch wraps the socket error: TypeError('fetch failed') with cause { code: 'ECONNREFUSED' }.
  // Report the innermost code (ECONNREFUSED) or, failing that, the innermost message ("bad port").
  let current: unknown = cause;
  let message = '';
  for (let depth = 0; depth < 4 && current; depth++) {
    const c = current as { code?: unknown; cause?: unknown; message?: unknown };
    if (typeof c.code === 'string') return c.code;
    if (typeof c.message === 'string' && c.message) message = c.message;
    current = c.cause;
  }
  return message;
}
