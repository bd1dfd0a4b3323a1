// Test support for the bounded fuzz suites: a seeded PRNG and mutations of valid frames (bit flips, byte
// replacements with boundary values, truncation, duplication, insertion, splicing two frames).

import { prng } from '../../kernel/prng.js';

export { prng };

const INTERESTING = [0x00, 0x01, 0x7f, 0x80, 0xff, 0xfe, 0x10, 0x20, 0x41];

/** One to four mutations of `frame`, optionally splicing in bytes of `other`. */
export function mutate(frame: Uint8Array, rand: () => number, other?: Uint8Array): Uint8Array {
  let out: Uint8Array = Uint8Array.from(frame);
  const int = (n: number): number => Math.floor(rand() * n);
  const rounds = 1 + int(4);
  for (let r = 0; r < rounds; r++) {
    const kind = int(8);
    const at = out.length === 0 ? 0 : int(out.length);
    if (kind === 0 && out.length > 0) out[at] ^= 1 << int(8);
    else if (kind === 1 && out.length > 0) out[at] = INTERESTING[int(INTERESTING.length)];
    else if (kind === 2 && out.length > 0) {
      // A 32-bit little-endian boundary value: lengths, handles and codes live in such words.
      const values = [0, 1, 0xffffffff, 0x7fffffff, 0x80000000, 0x10000, 0x10010, 264, 65548];
      const v = values[int(values.length)];
      for (let i = 0; i < 4 && at + i < out.length; i++) out[at + i] = (v >>> (8 * i)) & 0xff;
    } else if (kind === 3) out = out.slice(0, at);
    else if (kind === 4) out = concat(out.slice(0, at), out.slice(at, at + 1 + int(16)), out.slice(at));
    else if (kind === 5) out = concat(out.slice(0, at), Uint8Array.from({ length: 1 + int(8) }, () => int(256)), out.slice(at));
    else if (kind === 6 && other !== undefined && other.length > 0) {
      const from = int(other.length);
      out = concat(out.slice(0, at), other.slice(from, from + 1 + int(32)), out.slice(at + int(8)));
    } else if (out.length > 0) out = concat(out.slice(0, at), out.slice(at + 1));
  }
  return out;
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

/** Cases to run: FUZZ_CASES overrides the suite's default (kept small enough for `npm run test:slow`). */
export function caseCount(defaultCases: number): number {
  const n = Number(process.env.FUZZ_CASES);
  return Number.isInteger(n) && n > 0 ? n : defaultCases;
}

/** Seed: FUZZ_SEED, else a fixed one, so a failure reproduces. */
export function seed(): number {
  const n = Number(process.env.FUZZ_SEED);
  return Number.isInteger(n) ? n : 0x5eed;
}
