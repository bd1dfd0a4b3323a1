// A small free list of large METHOD_BUFFERED system buffers, so a TRANSMIT asking for a 64 KiB reply does not
// allocate (and make the garbage collector reclaim) 64 KiB per IRP. Every buffer handed out is all zeroes.

/** Below this size a fresh allocation is cheaper than pooling (V8 allocates small typed arrays quickly). */
export const POOLED_MIN_BYTES = 4096;
/** Free buffers kept per exact size: one per concurrent IOCTL on a reader is typical. */
const MAX_FREE_PER_SIZE = 4;
/** Distinct sizes remembered; the oldest size is dropped first (callers use a handful of fixed sizes). */
const MAX_SIZES = 8;

const free = new Map<number, Uint8Array[]>();

/** A zero-filled buffer of exactly `size` bytes, reused when one of that size was given back. */
export function acquireSystemBuffer(size: number): Uint8Array {
  if (size < POOLED_MIN_BYTES) return new Uint8Array(size);
  return free.get(size)?.pop() ?? new Uint8Array(size);
}

/**
 * Gives a buffer from acquireSystemBuffer back; the caller must not touch it afterwards. It is zeroed here (a
 * memset, several times cheaper than a fresh 64 KiB allocation and its collection), so nothing one IRP wrote can
 * show through in another. Zeroing later, off the request's path, measured slower: it costs a loop turn per IRP.
 */
export function releaseSystemBuffer(buffer: Uint8Array): void {
  const size = buffer.length;
  if (size < POOLED_MIN_BYTES || buffer.byteOffset !== 0 || buffer.buffer.byteLength !== size) return;
  let list = free.get(size);
  if (list === undefined) {
    if (free.size >= MAX_SIZES) free.delete(free.keys().next().value as number);
    list = [];
    free.set(size, list);
  }
  if (list.length >= MAX_FREE_PER_SIZE || list.includes(buffer)) return;
  buffer.fill(0);
  list.push(buffer);
}

/** Buffers currently held for reuse (tests and diagnostics). */
export function pooledSystemBuffers(): number {
  let n = 0;
  for (const list of free.values()) n += list.length;
  return n;
}
