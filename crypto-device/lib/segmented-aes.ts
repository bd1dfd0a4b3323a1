// AES-CBC of a Uint8Array through guest memory in segments, so copying one segment in or out overlaps the device
// working on another (docs/crypto-device.md "The Uint8Array API: segmented AES").
//
// Each segment is one device request, and the device starts every request from its fixed IV. CBC is rebuilt
// across segment boundaries by the library, which makes the result byte-identical to one request over the whole
// input:
// - encrypt: C_k = E(P_k ⊕ C_{k−1}); the device computes E(X ⊕ IV), so the segment's first block is fed as
//   X = P_k ⊕ C_{k−1} ⊕ IV, patched into guest memory once the previous segment has produced C_{k−1};
// - decrypt: P_k = D(C_k) ⊕ C_{k−1}; the device gives D(C_k) ⊕ IV for the first block, so the library XORs
//   IV ⊕ C_{k−1} into it (C_{k−1} is input, known up front).
// Only the last segment is partial; it is zero-padded in guest memory to a whole block, as the device would pad.

import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { MappedUserBuffer, UserAddressSpace } from '../../kernel/user-address-space.js';
import { aesOutputSize } from './contract.js';

const BLOCK = 16;
/** The page size of the result's memory (what a first touch faults in). */
const PAGE = 4096;

const EMPTY: Uint8Array = new Uint8Array(0);

/**
 * The result array. Every byte is overwritten, so no zero fill: at 1 MiB a calloc'd `new Uint8Array(n)` made the
 * copy-out about three times slower than the decryption before it. A plain Uint8Array view (not the Buffer
 * itself) keeps the contract's return type exact; allocUnsafeSlow never hands out pool memory.
 */
function allocResult(length: number): Uint8Array {
  return new Uint8Array(Buffer.allocUnsafeSlow(length).buffer, 0, length);
}

/** What a segmented call needs from the library: guest memory, one device request, and the between-segments check. */
export interface SegmentIo {
  readonly space: UserAddressSpace;
  /** One in-place device request over [address, address + inSize), writing outSize bytes. Rejects on failure. */
  request(address: bigint, inSize: number, outSize: number): Promise<void>;
  /** Called before every segment after the first: throws when the call must end there (a reset since it began). */
  checkpoint(): void;
}

/**
 * Encrypts or decrypts `data` in segments of `segmentBytes` (a positive multiple of 16) with at most two guest
 * buffers; returns roundup16(n) bytes. One segment (n ≤ segmentBytes) is one request, exactly as without segments.
 */
export async function segmentedAesCbc(
  io: SegmentIo,
  direction: 'encrypt' | 'decrypt',
  data: Uint8Array,
  segmentBytes: number,
  iv: Uint8Array,
): Promise<Uint8Array> {
  const n = data.length;
  const total = aesOutputSize(n);
  const count = Math.ceil(n / segmentBytes);
  if (count === 1) {
    const buffer = io.space.allocBuffer(total, { zero: false });
    try {
      buffer.write(0, data);
      if (total > n) buffer.write(n, new Uint8Array(total - n));
      await io.request(buffer.address, n, total);
      return buffer.readInto(0, allocResult(total));
    } finally {
      buffer.release();
    }
  }
  /** Allocated while the first segment runs: a large allocation can set off a garbage collection (~2-5 ms at 64 MiB). */
  let out: Uint8Array = EMPTY;

  const buffers: MappedUserBuffer[] = [];
  /**
   * Decrypt: the last input block of segment j in slot j % 3, taken when the segment is loaded (what the device
   * saw), for segment j + 1's fix-up. Three slots: segment j + 2 is loaded before segment j + 1 is unloaded.
   */
  const lastInput = [new Uint8Array(BLOCK), new Uint8Array(BLOCK), new Uint8Array(BLOCK)];
  const start = (k: number): number => k * segmentBytes;
  /** Bytes segment k occupies in guest memory and in the result: the last one is rounded up to a block. */
  const span = (k: number): number => (k === count - 1 ? total - start(k) : segmentBytes);

  const load = (k: number): void => {
    const buffer = buffers[k & 1];
    const from = start(k);
    const to = Math.min(n, from + segmentBytes);
    buffer.write(0, data.subarray(from, to));
    if (k === count - 1 && total > n) buffer.write(to - from, new Uint8Array(total - n));
    if (direction === 'decrypt' && k < count - 1) lastInput[k % 3].set(data.subarray(to - BLOCK, to));
  };

  const unload = (k: number): void => {
    const at = start(k);
    buffers[k & 1].readInto(0, out.subarray(at, at + span(k)));
    if (direction === 'decrypt' && k > 0) {
      const previous = lastInput[(k - 1) % 3];
      for (let i = 0; i < BLOCK; i++) out[at + i] ^= iv[i] ^ previous[i];
    }
  };

  /** Encrypt: turns segment k's first block P_k into P_k ⊕ C_{k−1} ⊕ IV, C_{k−1} ending segment k−1's output. */
  const chain = (k: number): void => {
    const previous = buffers[(k - 1) & 1].read(segmentBytes - BLOCK, BLOCK);
    const first = buffers[k & 1].read(0, BLOCK);
    for (let i = 0; i < BLOCK; i++) first[i] ^= previous[i] ^ iv[i];
    buffers[k & 1].write(0, first);
  };

  // The last segment's copy-out overlaps nothing, and a large fresh result faults its pages in on first touch:
  // ~10 µs per 4 KiB page on a VM, and the tail of a large allocation rarely gets huge pages. So the result's last
  // segmentBytes are touched ahead, a share at each step while the device works. Those bytes belong to the last
  // two segments, which are copied out only after every touch.
  const touchFrom = Math.max(0, total - segmentBytes);
  const touchShare = Math.ceil((total - touchFrom) / (count - 1) / PAGE) * PAGE;
  let touched = touchFrom;
  const touchAhead = (): void => {
    const end = Math.min(total, touched + touchShare);
    for (let i = touched; i < end; i += PAGE) out[i] = 0;
    touched = end;
  };

  try {
    // One at a time: if the second allocation fails, the first is already in the list the finally releases.
    buffers.push(io.space.allocBuffer(segmentBytes, { zero: false }));
    // The second buffer holds the odd segments; with two segments in all, only the (shorter) last one.
    buffers.push(io.space.allocBuffer(count > 2 ? segmentBytes : span(1), { zero: false }));
    load(0);
    for (let k = 0; k < count; k++) {
      if (k > 0) {
        io.checkpoint();
        if (direction === 'encrypt') chain(k);
      }
      const running = io.request(buffers[k & 1].address, span(k), span(k));
      running.catch(() => undefined); // awaited below; a failure must not count as unhandled meanwhile
      // One event-loop turn: the driver rings the doorbell in microtasks, so after it the device works on segment k
      // while this thread copies the previous segment out and the next one in, into the buffer just freed.
      await yieldToLoop();
      if (k === 0) out = allocResult(total);
      if (k > 0) unload(k - 1);
      if (k + 1 < count) {
        load(k + 1);
        touchAhead();
      }
      await running;
    }
    unload(count - 1);
    return out;
  } finally {
    for (const buffer of buffers) buffer.release();
  }
}
