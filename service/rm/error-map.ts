// The one boundary where driver NTSTATUS becomes a PC/SC result (docs/smclib.md §5.6, docs/pcsclite-protocol.md §7
// driver-error rows), plus pcsc_stringify_error-style text for SCARD_* values.

import { NTSTATUS, formatNtStatus, type NtStatus } from '../../kernel/ntstatus.js';
import { SCARD, scardName, type ScardCode } from '../contract/pcsclite.js';

/** What the RM was doing when the driver answered: the same NTSTATUS means different things per call. */
export type DriverOperation = 'power' | 'protocol' | 'transmit' | 'control' | 'attrib' | 'eject' | 'generic';

/**
 * NTSTATUS of a completed IRP → SCARD_* for the application. Exhaustive over the statuses the reader
 * stack produces; anything else is SCARD_E_NOT_TRANSACTED, as pcscd does for unknown IFD codes.
 */
export function ntStatusToScard(status: NtStatus, op: DriverOperation = 'generic'): ScardCode {
  switch (status >>> 0) {
    case NTSTATUS.STATUS_SUCCESS:
      return SCARD.S_SUCCESS;
    case NTSTATUS.STATUS_NO_MEDIA:
      return SCARD.E_NO_SMARTCARD;
    case NTSTATUS.STATUS_DEVICE_REMOVED:
    case NTSTATUS.STATUS_NO_SUCH_DEVICE:
    case NTSTATUS.STATUS_DEVICE_NOT_CONNECTED:
    case NTSTATUS.STATUS_DELETE_PENDING:
      return SCARD.E_READER_UNAVAILABLE;
    case NTSTATUS.STATUS_UNRECOGNIZED_MEDIA:
      return SCARD.W_UNRESPONSIVE_CARD;
    case NTSTATUS.STATUS_BUFFER_TOO_SMALL:
    case NTSTATUS.STATUS_BUFFER_OVERFLOW:
      return SCARD.E_INSUFFICIENT_BUFFER;
    case NTSTATUS.STATUS_NOT_SUPPORTED:
    case NTSTATUS.STATUS_INVALID_DEVICE_REQUEST:
      if (op === 'protocol') return SCARD.E_PROTO_MISMATCH;
      if (op === 'control' || op === 'attrib') return SCARD.E_UNSUPPORTED_FEATURE;
      if (op === 'eject') return SCARD.E_CANT_DISPOSE;
      return SCARD.E_NOT_TRANSACTED;
    case NTSTATUS.STATUS_INVALID_DEVICE_STATE:
      // POWER/SET_PROTOCOL refusing the card's state means the card does not answer as it should.
      return op === 'power' || op === 'protocol' ? SCARD.W_UNRESPONSIVE_CARD : SCARD.E_NOT_TRANSACTED;
    case NTSTATUS.STATUS_INVALID_PARAMETER:
      return op === 'control' ? controlStatusToScard(status) : SCARD.E_NOT_TRANSACTED;
    case NTSTATUS.STATUS_CANCELLED:
      return SCARD.E_CANCELLED;
    case NTSTATUS.STATUS_INSUFFICIENT_RESOURCES:
      return SCARD.E_NO_MEMORY;
    default:
      return SCARD.E_NOT_TRANSACTED;
  }
}

/**
 * SCardControl's driver failures, as pcscd's IFDControl maps its driver's answers: only five outcomes exist
 * there. Reader gone → E_READER_UNAVAILABLE; the driver does not take the code (not supported, not a request
 * it knows, or a parameter it refuses) → E_UNSUPPORTED_FEATURE; buffer too small → E_INSUFFICIENT_BUFFER;
 * anything else → E_NOT_TRANSACTED.
 */
export function controlStatusToScard(status: NtStatus): ScardCode {
  switch (status >>> 0) {
    case NTSTATUS.STATUS_SUCCESS:
      return SCARD.S_SUCCESS;
    case NTSTATUS.STATUS_DEVICE_REMOVED:
    case NTSTATUS.STATUS_NO_SUCH_DEVICE:
    case NTSTATUS.STATUS_DEVICE_NOT_CONNECTED:
    case NTSTATUS.STATUS_DELETE_PENDING:
      return SCARD.E_READER_UNAVAILABLE;
    case NTSTATUS.STATUS_NOT_SUPPORTED:
    case NTSTATUS.STATUS_INVALID_DEVICE_REQUEST:
    case NTSTATUS.STATUS_INVALID_PARAMETER:
      return SCARD.E_UNSUPPORTED_FEATURE;
    case NTSTATUS.STATUS_BUFFER_TOO_SMALL:
    case NTSTATUS.STATUS_BUFFER_OVERFLOW:
      return SCARD.E_INSUFFICIENT_BUFFER;
    default:
      return SCARD.E_NOT_TRANSACTED;
  }
}

const MESSAGES: Record<number, string> = {
  [SCARD.S_SUCCESS]: 'The call succeeded.',
  [SCARD.F_INTERNAL_ERROR]: 'An internal consistency check failed.',
  [SCARD.E_CANCELLED]: 'The action was cancelled by SCardCancel.',
  [SCARD.E_INVALID_HANDLE]: 'The context or card handle is not valid.',
  [SCARD.E_INVALID_PARAMETER]: 'A parameter could not be interpreted.',
  [SCARD.E_NO_MEMORY]: 'Not enough memory, or too many handles.',
  [SCARD.E_INSUFFICIENT_BUFFER]: 'The receive buffer is too small for the data.',
  [SCARD.E_UNKNOWN_READER]: 'The reader name is not known.',
  [SCARD.E_TIMEOUT]: 'The timeout expired before anything changed.',
  [SCARD.E_SHARING_VIOLATION]: 'Another connection holds the card (exclusive use or a transaction).',
  [SCARD.E_NO_SMARTCARD]: 'No card is in the reader.',
  [SCARD.E_CANT_DISPOSE]: 'The reader cannot perform the requested disposition.',
  [SCARD.E_PROTO_MISMATCH]: 'The requested protocols are not available on the card or connection.',
  [SCARD.E_INVALID_VALUE]: 'A value (scope, share mode, disposition) is out of range.',
  [SCARD.E_NOT_TRANSACTED]: 'The reader or card did not complete the operation.',
  [SCARD.E_READER_UNAVAILABLE]: 'The reader is gone or not working.',
  [SCARD.E_UNSUPPORTED_FEATURE]: 'The reader does not support this control code or attribute.',
  [SCARD.E_NO_READERS_AVAILABLE]: 'No readers are available.',
  [SCARD.E_NO_SERVICE]: 'The resource manager is not running.',
  [SCARD.E_SERVICE_STOPPED]: 'The resource manager has stopped.',
  [SCARD.W_UNRESPONSIVE_CARD]: 'The card does not answer the reset.',
  [SCARD.W_UNPOWERED_CARD]: 'The card could not be powered.',
  [SCARD.W_RESET_CARD]: 'The card was reset by another connection; reconnect.',
  [SCARD.W_REMOVED_CARD]: 'The card was removed; reconnect.',
};

/** `No card is in the reader. (SCARD_E_NO_SMARTCARD 0x8010000C)`. */
export function stringifyError(rv: number): string {
  const hex = `0x${(rv >>> 0).toString(16).toUpperCase().padStart(8, '0')}`;
  return `${MESSAGES[rv >>> 0] ?? 'Unknown result.'} (${scardName(rv)} ${hex})`;
}

/** `STATUS_NO_MEDIA (0xC0000178) -> SCARD_E_NO_SMARTCARD`, for debug logs. */
export function describeMapping(status: NtStatus, op: DriverOperation = 'generic'): string {
  return `${formatNtStatus(status)} -> ${scardName(ntStatusToScard(status, op))}`;
}
