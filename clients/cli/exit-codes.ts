// The CLI's exit codes (docs/cli.md, "Exit codes") and the one function that maps a thrown error to a code and a
// message that says what to do next.

import { isVscrError, VscrHttpError } from '../sdk/errors.js';
import { PcscError } from '../winscard/errors.js';

/** The next step for the PC/SC outcomes a CLI user can fix; the others speak for themselves. */
const PCSC_HINTS: Record<string, string> = {
  SCARD_E_NO_SMARTCARD: 'insert a card with `vscr insert <reader>`',
  SCARD_W_REMOVED_CARD: 'the card was removed; insert it again with `vscr insert <reader>`',
  SCARD_E_UNKNOWN_READER: '`vscr readers` lists the reader names',
  SCARD_E_READER_UNAVAILABLE: '`vscr readers` shows why the reader is not available',
  SCARD_E_SHARING_VIOLATION: 'another client holds the card exclusively; wait for it or end it',
  SCARD_E_NO_READERS_AVAILABLE: 'start the service with --readers <n>, or add a reader with POST /v1/readers',
};

export const EXIT = {
  OK: 0,
  /** A local failure: a file that cannot be read or written, a file that is not in the expected format. */
  LOCAL_ERROR: 1,
  USAGE: 2,
  UNREACHABLE: 3,
  /** The service answered with an error: device, card, reader or PC/SC failure, unknown ids, bad auth. */
  SERVICE_ERROR: 4,
  /** `vscr script verdict`: the scripted or replayed card saw a mismatch or has unused rules. */
  VERDICT_FAILED: 5,
  CANCELLED: 130,
} as const;

/** Wrong arguments detected by a command after commander parsed them (bad hex, unknown reader syntax). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A local file problem (exit 1). */
export class LocalError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LocalError';
  }
}

/** The user cancelled (Ctrl-C); the command already cleaned up. */
export class CancelledError extends Error {
  constructor(message = 'cancelled') {
    super(message);
    this.name = 'CancelledError';
  }
}

/** A script verdict that did not pass (exit 5); the verdict itself was already printed. */
export class VerdictFailedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VerdictFailedError';
  }
}

export function exitCodeFor(err: unknown): number {
  if (err instanceof UsageError) return EXIT.USAGE;
  if (err instanceof VerdictFailedError) return EXIT.VERDICT_FAILED;
  if (err instanceof CancelledError) return EXIT.CANCELLED;
  if (err instanceof LocalError) return EXIT.LOCAL_ERROR;
  if (isVscrError(err)) {
    if (err.code === 'VSCR_ERR_UNREACHABLE' || err.code === 'VSCR_ERR_SOCKET') return EXIT.UNREACHABLE;
    if (err.code === 'VSCR_ERR_ABORTED') return EXIT.CANCELLED;
    if (err.code === 'VSCR_ERR_ARGUMENT') return EXIT.USAGE;
    return EXIT.SERVICE_ERROR;
  }
  // Anything else comes from this machine: fs errors (ENOENT, EACCES…), the service's config errors under `serve`.
  return EXIT.LOCAL_ERROR;
}

/** One or two lines for stderr. */
export function describeError(err: unknown): string {
  if (err instanceof VscrHttpError) {
    const extra = [err.ntstatus, err.scard].filter(Boolean).join(', ');
    let hint = '';
    if (err.status === 401) hint = '\nhint: pass the service token with --token or VSCR_TOKEN';
    return `error: ${err.message} [${err.code}${extra ? `, ${extra}` : ''}, HTTP ${err.status}]${hint}`;
  }
  if (err instanceof PcscError && PCSC_HINTS[err.code]) return `error: ${err.message}\nhint: ${PCSC_HINTS[err.code]}`;
  if (isVscrError(err)) return `error: ${err.message} [${err.code}]`;
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    const path = (err as { path?: unknown }).path;
    if (code === 'ENOENT' && typeof path === 'string') return `error: no such file: ${path}`;
    if (code === 'EACCES' && typeof path === 'string') return `error: permission denied: ${path}`;
    return `error: ${err.message}`;
  }
  return `error: ${String(err)}`;
}
