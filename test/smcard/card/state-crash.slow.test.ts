// The card-state writer killed (SIGKILL) at random points, 50 times: the file is always a whole generation —
// the last acknowledged one or the one being written — never torn, never older than an acknowledged write.

import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CardStateStore } from '../../../smcard/card/state-store.js';
import { stateFor } from '../../support/state-writer.js';

const WRITER = fileURLToPath(new URL('../../support/state-writer.ts', import.meta.url));
const ROUNDS = 50;

/** xorshift32, so a failing run can be repeated with the same kill points. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'vscr-crash-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs the writer from `start`, kills it `killAfterMs` after it starts writing; resolves with the last ack. */
function killedWriter(file: string, start: number, killAfterMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WRITER, file, String(start)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let timer: NodeJS.Timeout | undefined;
    const guard = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (timer === undefined && out.includes('started\n')) timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(guard);
      if (signal !== 'SIGKILL') return reject(new Error(`writer exited ${code}/${signal}: ${err}`));
      // Only complete lines count: the kill may cut the last one.
      const acks = [...out.matchAll(/^ack (\d+)$/gm)].map((m) => Number(m[1]));
      resolve(acks.length > 0 ? acks[acks.length - 1] : start - 1);
    });
  });
}

describe('card state survives a killed writer', () => {
  it(`${ROUNDS} kills at random points: always a whole generation, never older than the last acknowledged`, async () => {
    const file = path.join(dir, 'cards', 'crash.json');
    const store = new CardStateStore(file);
    const random = rng(Number(process.env.VSCR_CRASH_SEED ?? 20261206));
    let next = 0;
    let lastAck = -1;
    const killedMidWrite: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const ack = await killedWriter(file, next, Math.floor(random() * 40));
      if (ack >= 0) lastAck = Math.max(lastAck, ack);
      const state = (await store.load()) as { generation: number; filler: string; tail: number } | null;
      if (lastAck < 0) {
        // Killed before the first write finished: no file, or the first generation whole.
        if (state !== null) expect(JSON.stringify(state)).toBe(stateFor(state.generation));
        continue;
      }
      expect(state, `round ${round}`).not.toBeNull();
      const g = state!.generation;
      // Whole: the content is exactly what that generation wrote (a torn file would not parse or not match).
      expect(JSON.stringify(state)).toBe(stateFor(g));
      // Durable: an acknowledged write is never lost; at most the one in flight got through unacknowledged.
      expect(g === lastAck || g === lastAck + 1, `round ${round}: generation ${g}, last ack ${lastAck}`).toBe(true);
      if (g === lastAck + 1) killedMidWrite.push(round);
      lastAck = g;
      next = g + 1;
    }
    // Left-over temp files are the writer's only debris; the store never reads them.
    const debris = (await readdir(path.dirname(file))).filter((f) => f.endsWith('.tmp'));
    expect(debris.every((f) => f.startsWith('crash.json.'))).toBe(true);
    expect(lastAck).toBeGreaterThan(0);
  }, 600_000);
});
