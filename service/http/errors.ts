// The one registry of REST error codes (every code is documented in docs/errors.md, checked by a test) and the
// single mapping from NTSTATUS (driver layers) to HTTP.

import createError, { type FastifyError } from '@fastify/error';
import { NTSTATUS, NtStatusError, type NtStatusName } from '../../kernel/ntstatus.js';

/** Extra fields the error handler copies into the JSON body. */
export interface VscrErrorFields {
  ntstatus?: string;
  scard?: string;
}

export const errors = {
  VSCR_ERR_BAD_JSON: createError('VSCR_ERR_BAD_JSON', 'the request body is not valid JSON: %s', 400),
  VSCR_ERR_VALIDATION: createError('VSCR_ERR_VALIDATION', 'the request does not match the schema: %s', 400),
  VSCR_ERR_BAD_HEX: createError('VSCR_ERR_BAD_HEX', '"%s" must be an even number of hex digits (0-9, a-f)', 400),
  VSCR_ERR_BAD_BASE64: createError('VSCR_ERR_BAD_BASE64', '"%s" must be standard or URL-safe base64', 400),
  VSCR_ERR_EMPTY_INPUT: createError('VSCR_ERR_EMPTY_INPUT', 'AES-CBC needs at least one byte of input (the device rejects an empty IN buffer)', 400),
  VSCR_ERR_BODY_INCOMPLETE: createError('VSCR_ERR_BODY_INCOMPLETE', 'the request body ended after %s of %s declared bytes; resend it whole', 400),
  VSCR_ERR_BAD_REQUEST: createError('VSCR_ERR_BAD_REQUEST', 'bad request: %s', 400),
  VSCR_ERR_BAD_URL: createError('VSCR_ERR_BAD_URL', 'the URL path is not valid percent-encoding (encode "%%" as %%25)', 400),
  VSCR_ERR_BAD_HTTP: createError('VSCR_ERR_BAD_HTTP', 'malformed HTTP request (%s); the connection is closed', 400),
  VSCR_ERR_REQUEST_TIMEOUT: createError('VSCR_ERR_REQUEST_TIMEOUT', 'the request did not arrive in full within %s ms; the connection is closed', 408),
  VSCR_ERR_URI_TOO_LONG: createError('VSCR_ERR_URI_TOO_LONG', 'a path parameter is longer than %s characters', 414),
  VSCR_ERR_HEADERS_TOO_LARGE: createError('VSCR_ERR_HEADERS_TOO_LARGE', 'the request line and headers are larger than the server accepts (16 KiB); the connection is closed', 431),
  VSCR_ERR_UNAUTHORIZED: createError('VSCR_ERR_UNAUTHORIZED', 'send "Authorization: Bearer <token>" with the token the service was started with', 401),
  VSCR_ERR_NOT_FOUND: createError('VSCR_ERR_NOT_FOUND', 'no route %s %s; see GET /docs for the API', 404),
  VSCR_ERR_UNKNOWN_DEVICE: createError('VSCR_ERR_UNKNOWN_DEVICE', 'no crypto device with id %s; GET /v1/devices lists them', 404),
  VSCR_ERR_UNKNOWN_READER: createError('VSCR_ERR_UNKNOWN_READER', 'no reader "%s" (use its index or exact name); GET /v1/readers lists them', 404),
  VSCR_ERR_NOT_ACCEPTABLE: createError('VSCR_ERR_NOT_ACCEPTABLE', 'cannot answer with %s; accept application/json or %s', 406),
  VSCR_ERR_UPGRADE_REQUIRED: createError('VSCR_ERR_UPGRADE_REQUIRED', '%s is a WebSocket endpoint; connect with a WebSocket client (Upgrade: websocket)', 426),
  VSCR_ERR_UNKNOWN_PROFILE: createError('VSCR_ERR_UNKNOWN_PROFILE', 'no card profile "%s"; known profiles: %s', 400),
  VSCR_ERR_CARD_PRESENT: createError('VSCR_ERR_CARD_PRESENT', 'reader %s already holds a card; remove it first (DELETE /v1/readers/:reader/card)', 409),
  VSCR_ERR_NO_CARD: createError('VSCR_ERR_NO_CARD', 'reader %s holds no card', 409),
  VSCR_ERR_BAD_SCRIPT: createError('VSCR_ERR_BAD_SCRIPT', 'the card script is not valid: %s', 400),
  VSCR_ERR_BAD_TRANSCRIPT: createError('VSCR_ERR_BAD_TRANSCRIPT', 'the transcript cannot be replayed: %s', 400),
  VSCR_ERR_NO_SCRIPT: createError('VSCR_ERR_NO_SCRIPT', 'reader %s has had no scripted or replayed card; load one with POST /v1/readers/:reader/script', 404),
  VSCR_ERR_RELAY_FAILED: createError('VSCR_ERR_RELAY_FAILED', 'the relay cannot reach the remote card: %s', 502),
  VSCR_ERR_TOO_MANY_STREAMS: createError('VSCR_ERR_TOO_MANY_STREAMS', 'at most %s transcript streams may be open at once; close one', 503),
  VSCR_ERR_NOT_PINPAD: createError('VSCR_ERR_NOT_PINPAD', 'reader %s has no PIN pad; add one with POST /v1/readers {"pinpad": true}', 409),
  VSCR_ERR_PINPAD_IDLE: createError('VSCR_ERR_PINPAD_IDLE', 'the PIN pad of reader %s is not asking for a PIN; queue one instead (POST /v1/readers/:reader/pinpad/queue)', 409),
  VSCR_ERR_BAD_FAULT: createError('VSCR_ERR_BAD_FAULT', 'the fault cannot be armed: %s', 400),
  VSCR_ERR_UNKNOWN_FAULT: createError('VSCR_ERR_UNKNOWN_FAULT', 'no fault %s armed on reader %s; GET /v1/readers/:reader/faults lists them', 404),
  VSCR_ERR_UNKNOWN_DEVICE_FAULT: createError('VSCR_ERR_UNKNOWN_DEVICE_FAULT', 'no fault %s armed on device %s; GET /v1/devices/:id/faults lists them', 404),
  VSCR_ERR_PINPAD_QUEUE_FULL: createError('VSCR_ERR_PINPAD_QUEUE_FULL', 'the PIN pad of reader %s already holds %s queued entries', 409),
  VSCR_ERR_TOO_MANY_READERS: createError('VSCR_ERR_TOO_MANY_READERS', 'the service already hosts %s readers, the most PC/SC clients can see; remove one first', 409),
  VSCR_ERR_BODY_TOO_LARGE: createError('VSCR_ERR_BODY_TOO_LARGE', 'the request body is larger than the limit of %s bytes for this content type', 413),
  VSCR_ERR_UNSUPPORTED_MEDIA_TYPE: createError('VSCR_ERR_UNSUPPORTED_MEDIA_TYPE', 'unsupported Content-Type %s; send application/json or application/octet-stream', 415),
  VSCR_ERR_DEVICE_BAD_REQUEST: createError('VSCR_ERR_DEVICE_BAD_REQUEST', 'the crypto driver rejected the request buffers (%s)', 400),
  VSCR_ERR_DEVICE_DATA_ERROR: createError('VSCR_ERR_DEVICE_DATA_ERROR', 'the crypto device reported an error (%s); reset it with POST /v1/devices/%s/reset', 502),
  VSCR_ERR_DEVICE_BUSY: createError('VSCR_ERR_DEVICE_BUSY', 'the crypto device is busy (%s); retry shortly', 503),
  VSCR_ERR_DEVICE_TIMEOUT: createError('VSCR_ERR_DEVICE_TIMEOUT', 'the crypto device did not complete the request in time (%s); the driver reset it, retry', 504),
  VSCR_ERR_DEVICE_CANCELLED: createError('VSCR_ERR_DEVICE_CANCELLED', 'the device operation was cancelled by a reset (%s); retry it', 503),
  VSCR_ERR_DEVICE_NO_MEMORY: createError('VSCR_ERR_DEVICE_NO_MEMORY', 'the device has no free guest memory for this request (%s); retry later or send less', 503),
  VSCR_ERR_DEVICE_FAILURE: createError('VSCR_ERR_DEVICE_FAILURE', 'the crypto driver failed the request (%s)', 500),
  VSCR_ERR_CARD_PROFILE: createError('VSCR_ERR_CARD_PROFILE', '%s', 500),
  VSCR_ERR_CARD_STATE: createError('VSCR_ERR_CARD_STATE', '%s', 500),
  VSCR_ERR_SHUTTING_DOWN: createError('VSCR_ERR_SHUTTING_DOWN', 'the service is shutting down', 503),
  VSCR_ERR_INTERNAL: createError('VSCR_ERR_INTERNAL', 'internal error (request %s); the service log has the details', 500),
} as const;

export type VscrErrorCode = keyof typeof errors;
export type VscrError = FastifyError & VscrErrorFields;

/** Which REST error each NTSTATUS becomes (docs/errors.md, "NTSTATUS mapping"). Unknown → VSCR_ERR_DEVICE_FAILURE. */
export const NTSTATUS_HTTP: Partial<Record<NtStatusName, VscrErrorCode>> = {
  STATUS_DEVICE_BUSY: 'VSCR_ERR_DEVICE_BUSY',
  STATUS_INVALID_USER_BUFFER: 'VSCR_ERR_DEVICE_BAD_REQUEST',
  STATUS_BUFFER_TOO_SMALL: 'VSCR_ERR_DEVICE_BAD_REQUEST',
  STATUS_INVALID_PARAMETER: 'VSCR_ERR_DEVICE_BAD_REQUEST',
  STATUS_ACCESS_VIOLATION: 'VSCR_ERR_DEVICE_BAD_REQUEST',
  STATUS_DEVICE_DATA_ERROR: 'VSCR_ERR_DEVICE_DATA_ERROR',
  STATUS_CANCELLED: 'VSCR_ERR_DEVICE_CANCELLED',
  STATUS_IO_TIMEOUT: 'VSCR_ERR_DEVICE_TIMEOUT',
  STATUS_INSUFFICIENT_RESOURCES: 'VSCR_ERR_DEVICE_NO_MEMORY',
};

/** Turns a driver NtStatusError into the REST error for device `deviceId`, keeping the NTSTATUS name. */
export function fromNtStatus(err: NtStatusError, deviceId: string | number): VscrError {
  const name = err.code;
  const code = NTSTATUS_HTTP[name as NtStatusName] ?? 'VSCR_ERR_DEVICE_FAILURE';
  const e: VscrError = code === 'VSCR_ERR_DEVICE_DATA_ERROR' ? new errors[code](name, String(deviceId)) : new errors[code](name);
  e.ntstatus = name;
  e.cause = err;
  return e;
}

/** Our own registry errors (built by createError, so they carry the status code). */
export function isRegistryError(err: unknown): err is VscrError {
  const e = err as { code?: unknown; statusCode?: unknown } | null;
  return err instanceof Error && typeof e?.code === 'string' && Object.hasOwn(errors, e.code) && typeof e.statusCode === 'number';
}

// Keep the table honest if a status is renamed in kernel/ntstatus.ts.
for (const name of Object.keys(NTSTATUS_HTTP)) if (!(name in NTSTATUS)) throw new Error(`NTSTATUS_HTTP names unknown status ${name}`);
