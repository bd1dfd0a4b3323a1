// Raw `application/octet-stream` bodies: the parser hands fastify the request stream untouched, and the route
// writes each chunk into a device UserBuffer as it arrives (ARCHITECTURE "Three flows" 1), never holding the
// whole body in JS when Content-Length is known.

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
 * Streams the body into a user buffer of `control`. Over `limit` bytes → 413 before a byte is read when the
 * length is declared, or as soon as the count passes the limit for chunked bodies.
 */
export async function readRawInto(request: FastifyRequest, stream: Readable, control: CryptoDeviceControl, limit: number): Promise<RawInput> {
  const declared = declaredLength(request);
  if (declared !== null && declared > limit) throw new errors.VSCR_ERR_BODY_TOO_LARGE(String(limit));
  if (declared === 0) return { buffer: null, length: 0, release: () => undefined };
  if (declared !== null) {
    const buffer = control.allocUserBuffer(declared);
    let offset = 0;
    try {
      await eachChunk(stream, (chunk) => {
        if (offset + chunk.length > declared) throw new errors.VSCR_ERR_BAD_REQUEST('the body is longer than its Content-Length');
        buffer.write(offset, chunk);
        offset += chunk.length;
      });
    } catch (err) {
      buffer.release();
      if (isRegistryError(err)) throw err;
      throw new errors.VSCR_ERR_BODY_INCOMPLETE(String(offset), String(declared));
    }
    if (offset !== declared) {
      buffer.release();
      throw new errors.VSCR_ERR_BODY_INCOMPLETE(String(offset), String(declared));
    }
    return { buffer, length: declared, release: () => buffer.release() };
  }
  // Chunked transfer: the size is unknown until the end, and a UserBuffer has a fixed length, so collect the
  // chunks (bounded by `limit`) and copy them in once.
  const chunks: Buffer[] = [];
  let total = 0;
  await eachChunk(stream, (chunk) => {
    total += chunk.length;
    if (total > limit) throw new errors.VSCR_ERR_BODY_TOO_LARGE(String(limit));
    chunks.push(chunk);
  });
  if (total === 0) return { buffer: null, length: 0, release: () => undefined };
  const buffer = control.allocUserBuffer(total);
  let offset = 0;
  for (const chunk of chunks) {
    buffer.write(offset, chunk);
    offset += chunk.length;
  }
  return { buffer, length: total, release: () => buffer.release() };
}
