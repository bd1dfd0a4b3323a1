// The card's block-buffered CSPRNG source (smcard/card/random-pool.ts): exact lengths, fresh arrays, no byte
// handed out twice across a refill, large requests served directly, and bad lengths refused.

import { describe, expect, it } from 'vitest';
import { createRandomSource } from '../../../smcard/card/random-pool.js';

describe('createRandomSource', () => {
  it('returns independent arrays of exactly the requested length across block refills', () => {
    const random = createRandomSource();
    const seen = new Set<string>();
    let total = 0;
    // 8-byte challenges: 2000 of them cross several 4 KiB refills.
    for (let i = 0; i < 2000; i++) {
      const r = random(8);
      expect(r).toBeInstanceOf(Uint8Array);
      expect(r.length).toBe(8);
      expect(r.byteOffset).toBe(0);
      seen.add(Buffer.from(r).toString('hex'));
      total += r.length;
    }
    // 2^64 possibilities: a repeat means bytes were handed out twice.
    expect(seen.size).toBe(2000);
    expect(total).toBe(16000);
    // Each result owns its memory: writing to one cannot change another (or the block behind them).
    const a = random(16);
    const b = random(16);
    expect(a.buffer).not.toBe(b.buffer);
    const before = b.slice();
    a.fill(0xff);
    expect(b).toEqual(before);
  });

  it('serves odd, zero and large lengths', () => {
    const random = createRandomSource();
    expect(random(0).length).toBe(0);
    expect(random(4095).length).toBe(4095);
    expect(random(1).length).toBe(1);
    const big = random(65536);
    expect(big.length).toBe(65536);
    expect(big.some((x) => x !== 0)).toBe(true);
  });

  it('refuses negative or fractional lengths', () => {
    const random = createRandomSource();
    expect(() => random(-1)).toThrow(RangeError);
    expect(() => random(1.5)).toThrow(RangeError);
  });
});
