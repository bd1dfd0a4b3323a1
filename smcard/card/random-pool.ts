// Card randomness (GET CHALLENGE, ...) drawn from node:crypto in blocks: one CSPRNG call per 4 KiB instead of
// one per command, which dominated a GET CHALLENGE round trip. Every byte is handed out once.

import { randomFillSync } from 'node:crypto';

const BLOCK = 4096;

/** Returns `(n) => n fresh random bytes` (a new array each time) backed by a private, refilled block. */
export function createRandomSource(): (length: number) => Uint8Array {
  const block = new Uint8Array(BLOCK);
  let used = BLOCK;
  return (length) => {
    if (!Number.isSafeInteger(length) || length < 0) throw new RangeError(`random length must be a non-negative integer, got ${length}`);
    if (length > BLOCK / 4) return randomFillSync(new Uint8Array(length));
    if (used + length > BLOCK) {
      randomFillSync(block);
      used = 0;
    }
    const out = block.slice(used, used + length);
    // Bytes already given out are wiped, so a later reader of the block (a heap dump) cannot recover them.
    block.fill(0, used, used + length);
    used += length;
    return out;
  };
}
