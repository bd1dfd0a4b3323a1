// mulberry32: a small seedable PRNG. Faults use it to pick which commands they hit, and the fuzz and soak runs to
// choose their inputs, so the same seed gives the same run. Not for anything secret (cards use node:crypto).

export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
