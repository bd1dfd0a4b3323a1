// Child process for the crash test: writes card-state generations through CardStateStore as fast as it can,
// printing "ack <n>" once write n has resolved, until it is killed.

import { CardStateStore } from '../../smcard/card/state-store.js';

/** A generation's content: large enough that a write takes several file-system blocks, and self-checking. */
export function stateFor(generation: number): string {
  const filler = String(generation).padStart(8, '0').repeat(8192); // 64 KiB
  return JSON.stringify({ generation, filler, tail: generation });
}

async function main(): Promise<void> {
  const [file, startText] = process.argv.slice(2);
  const store = new CardStateStore(file);
  // The store writes only a file it owns; the killed writer before this one left its lock behind, which a dead
  // pid does not keep.
  await store.claim();
  process.stdout.write('started\n');
  for (let n = Number(startText); ; n++) {
    await store.write(stateFor(n));
    process.stdout.write(`ack ${n}\n`);
  }
}

if (process.argv[1]?.endsWith('state-writer.ts')) void main();
