// copyBytes: a memcpy into (or out of) guest RAM that behaves exactly like Uint8Array.prototype.set, whichever
// copy it uses underneath (the relaxed V8 loop below 4 KiB, a native memcpy from 4 KiB up).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { copyBytes } from '../../../kernel/byte-copy.js';
import { primeAllocatorForDma } from '../../../crypto-device/device/allocator-tuning.js';
import { makeDevice } from './harness.js';

function pattern(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 131 + seed) & 0xff;
  return out;
}

describe('copyBytes', () => {
  it('matches Uint8Array.set for shared and plain targets and sources, any size and offset (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 70_000 }),
        fc.integer({ min: 0, max: 5000 }),
        fc.integer({ min: 0, max: 64 }),
        fc.boolean(),
        fc.boolean(),
        (n, at, viewOffset, sharedTarget, sharedSource) => {
          const size = at + n + 100;
          const backing = sharedTarget ? new SharedArrayBuffer(size + viewOffset) : new ArrayBuffer(size + viewOffset);
          const target = new Uint8Array(backing, viewOffset, size);
          target.fill(0xee);
          const expected = new Uint8Array(size).fill(0xee);
          const srcBacking = sharedSource ? new SharedArrayBuffer(n + 7) : new ArrayBuffer(n + 7);
          const source = new Uint8Array(srcBacking, 7, n);
          source.set(pattern(n, at));
          copyBytes(target, at, source);
          expected.set(source, at);
          expect(Buffer.from(target).equals(Buffer.from(expected))).toBe(true);
          // The bytes before the view's start in the backing store are untouched.
          expect(new Uint8Array(backing, 0, viewOffset).every((b) => b === 0)).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('refuses to run past the end of the target, like set', () => {
    const target = new Uint8Array(new SharedArrayBuffer(10_000));
    expect(() => copyBytes(target, 6000, new Uint8Array(5000))).toThrow(RangeError);
    expect(() => target.set(new Uint8Array(5000), 6000)).toThrow(RangeError);
    expect(() => copyBytes(target, -1, new Uint8Array(5000))).toThrow(RangeError);
    expect(target.every((b) => b === 0)).toBe(true);
  });
});

describe('primeAllocatorForDma', () => {
  it('does its work once per process: creating a device already did it', async () => {
    const dev = await makeDevice();
    try {
      expect(primeAllocatorForDma()).toBe(false);
    } finally {
      await dev.destroy();
    }
  });
});
