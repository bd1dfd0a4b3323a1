// Raw `application/octet-stream` bodies: the parser hands fastify the request stream untouched, and the route
// writes each chunk into a device UserBuffer as it arrives (ARCHITECTURE "Three flows" 1), never holding the
// whole body in JS (chunked bodies grow in guest memory, never in a JS array).

import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { CryptoDeviceControl, UserBuffer } from '../../crypto-device/lib/contract.js';
import { errors, isRegistryError } from './errors.js';

export const OCTET_STREAM = 'application/octet-stream';

/** Registers the pass-through parser in the calling (encapsulated) context only. */
export function addRawStreamParser(app: FastifyInstance): void {
  app.addContentTypeParser(OCTET_STREAM, (_request, payload, done) => done(null, payload));
}

export function isRawBody(body: unknown): body is Readable {
  return typeof body === 'object' && body !== null && typeof (body as Readable).pipe === 'function' && typeof (body as Readable)[Symbol.asyncIterator] === 'function';
}

/** The body in guest memory; `release` gives its pages back (idempotent). */
export interface RawInput {
  /** A user buffer holding exactly `length` bytes, or null for an empty body. */
  buffer: UserBuffer | null;
  length: number;
  release(): void;
}

function declaredLength(request: FastifyRequest): number | null {
  const raw = request.headers['content-length'];
  if (raw === undefined) return null;
  if (!/^\d+$/.test(raw)) throw new errors.VSCR_ERR_BAD_REQUEST('Content-Length is not a number');
  return Number(raw);
}

/**
 * Feeds each chunk to `onChunk` until the body ends. If `onChunk` throws, reading stops (the stream is paused,
 * not destroyed: destroying a request destroys its socket, and the error answer could never be sent).
 */
function eachChunk(stream: Readable, onChunk: (chunk: Buffer) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      stream.off('close', onClose);
    };
    const onData = (chunk: Buffer): void => {
      try {
        onChunk(chunk);
      } catch (err) {
        cleanup();
        stream.pause();
        reject(err as Error);
      }
    };
    const onEnd = (): void => {
      cleanup();
      resolve();
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    // A client that disconnects mid-body: 'close' without 'end'.
    const onClose = (): void => {
      cleanup();
      reject(new Error('request closed before the body ended'));
    };
    stream.on('data', onData);
    stream.once('end', onEnd);
    stream.once('error', onError);
    stream.once('close', onClose);
  });
}

/**
 * A user buffer whose pages need not be zeroed because the caller overwrites every byte: skipping the zeroing
 * saves a full pass over 16 MiB bodies (about a tenth of the request time).
 */
function allocOverwritten(control: CryptoDeviceControl, length: number): UserBuffer {
  return control.allocUserBuffer(length, { zero: false });
}

/** First capacity for a body of unknown length; doubled as it fills (amortised: every byte moves at most ~twice). */
const CHUNKED_FIRST_CAPACITY = 256 * 1024;
/** First capacity for a body with a Content-Length: what a declaration alone may make us reserve. */
export const DECLARED_FIRST_CAPACITY = 1024 * 1024;
/** Guest-to-guest copies go through a JS scratch slice this big, so JS memory stays small for any body. */
const COPY_SLICE_BYTES = 1024 * 1024;

/** Copies the first `length` bytes of `from` into `to` through a bounded scratch slice. */
function copyBetween(from: UserBuffer, to: UserBuffer, length: number): void {
  for (let pos = 0; pos < length; pos += COPY_SLICE_BYTES) {
    to.write(pos, from.read(pos, Math.min(COPY_SLICE_BYTES, length - pos)));
  }
}

/**
 * Grows a user buffer as bytes arrive and never reserves guest memory for bytes that have not come: a
 * client that declares 256 MiB and then stalls holds `first` bytes, not 256 MiB. The buffer starts at
 * `first`, grows ×`factor` (capped at `cap`), and the bytes move to the next buffer through a bounded slice.
 * With a declared length `cap` is that length, so the last growth lands on it exactly and no final copy is
 * needed; chunked bodies get one final move into a buffer of the exact length.
 */
async function readGrowingInto(
  stream: Readable,
  control: CryptoDeviceControl,
  o: { first: number; factor: number; cap: number; onOverflow: (total: number) => Error },
): Promise<{ buffer: UserBuffer | null; total: number }> {
  let buffer: UserBuffer | null = null;
  let total = 0;
  try {
    await eachChunk(stream, (chunk) => {
      if (chunk.length === 0) return;
      const needed = total + chunk.length;
      if (needed > o.cap) throw o.onOverflow(needed);
      if (buffer === null || needed > buffer.length) {
        let capacity = Math.max(buffer === null ? Math.min(o.first, o.cap) : buffer.length * o.factor, 1);
        while (capacity < needed) capacity *= o.factor;
        const grown = allocOverwritten(control, Math.min(capacity, o.cap));
        if (buffer !== null) {
          copyBetween(buffer, grown, total);
          buffer.release();
        }
        buffer = grown;
      }
      buffer.write(total, chunk);
      total = needed;
    });
  } catch (err) {
    (buffer as UserBuffer | null)?.release();
    throw Object.assign(err as Error, { bytesRead: total });
  }
  return { buffer, total };
}

/**
 * Chunked transfer (no Content-Length): the size is unknown until the end, so the chunks go into a buffer that
 * doubles (capped at `limit`); at the end the bytes move once into a buffer of the exact length the device
 * request needs. JS never holds more than one socket chunk plus one copy slice, and guest memory never more
 * than about twice `limit`.
 */
async function readChunkedInto(stream: Readable, control: CryptoDeviceControl, limit: number): Promise<RawInput> {
  let read: { buffer: UserBuffer | null; total: number };
  try {
    read = await readGrowingInto(stream, control, {
      first: CHUNKED_FIRST_CAPACITY,
      factor: 2,
      cap: limit,
      onOverflow: () => new errors.VSCR_ERR_BODY_TOO_LARGE(String(limit)),
    });
  } catch (err) {
    // A client that goes away mid-body is the client's mistake, not a service fault.
    if (isRegistryError(err)) throw err;
    throw new errors.VSCR_ERR_BAD_REQUEST(`the chunked body was cut off after ${(err as { bytesRead?: number }).bytesRead ?? 0} bytes (client aborted or a bad chunk)`);
  }
  const { buffer: filled, total } = read;
  if (filled === null || total === 0) {
    filled?.release();
    return { buffer: null, length: 0, release: () => undefined };
  }
  if (filled.length === total) return { buffer: filled, length: total, release: () => filled.release() };
  let exact: UserBuffer;
  try {
    exact = allocOverwritten(control, total);
    copyBetween(filled, exact, total);
  } finally {
    filled.release();
  }
  return { buffer: exact, length: total, release: () => exact.release() };
}

/**
 * Streams the body into a user buffer of `control`. Over `limit` bytes → 413 before a byte is read when the
 * length is declared, or as soon as the count passes the limit for chunked bodies. Guest memory is reserved as
 * bytes arrive, for declared lengths too.
 */
export async function readRawInto(request: FastifyRequest, stream: Readable, control: CryptoDeviceControl, limit: number): Promise<RawInput> {
  const declared = declaredLength(request);
  if (declared !== null && declared > limit) throw new errors.VSCR_ERR_BODY_TOO_LARGE(String(limit));
  if (declared === 0) return { buffer: null, length: 0, release: () => undefined };
  if (declared === null) return readChunkedInto(stream, control, limit);
  // Reserved as the bytes arrive (×4 from 1 MiB, so a 16 MiB body moves 5 MiB extra), never up front:
  // a declared length costs the client nothing to send, guest memory is shared by every request.
  let result: { buffer: UserBuffer | null; total: number };
  try {
    result = await readGrowingInto(stream, control, {
      first: DECLARED_FIRST_CAPACITY,
      factor: 4,
      cap: declared,
      onOverflow: () => new errors.VSCR_ERR_BAD_REQUEST('the body is longer than its Content-Length'),
    });
  } catch (err) {
    if (isRegistryError(err)) throw err;
    throw new errors.VSCR_ERR_BODY_INCOMPLETE(String((err as { bytesRead?: number }).bytesRead ?? 0), String(declared));
  }
  const { buffer, total } = result;
  if (buffer === null || total !== declared) {
    buffer?.release();
    throw new errors.VSCR_ERR_BODY_INCOMPLETE(String(total), String(declared));
  }
  return { buffer, length: declared, release: () => buffer.release() };
}
