// Context and card handles: random non-zero 31-bit values, unique across the process (docs/pcsclite-protocol.md §7 0x01/0x04).

import { randomInt } from 'node:crypto';

const inUse = new Set<number>();

/** A fresh handle; never 0, never one still in use anywhere in this process. */
export function allocateHandle(): number {
  for (;;) {
    const h = randomInt(1, 0x80000000);
    if (!inUse.has(h)) {
      inUse.add(h);
      return h;
    }
  }
}

export function releaseHandle(h: number): void {
  inUse.delete(h);
}
