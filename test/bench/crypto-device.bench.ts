// Crypto device benchmark: MB/s of the raw engine vs the full path (control library → driver → DMA → worker)
// for SHA-256 and AES-CBC at 4 KiB, 1 MiB and 64 MiB, on both engines; plus host event-loop delay while a
// 64 MiB request runs. MB = 10^6 bytes.

import { createHash } from 'node:crypto';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { EngineName } from '../../crypto-device/device/contract.js';
import { getEngine } from '../../crypto-device/engines/index.js';
import { CryptoDeviceHost, type CryptoDeviceCtrl } from '../../crypto-device/index.js';

interface Opts {
  json: boolean;
  quick: boolean;
}

type Op = 'sha256' | 'aes-cbc-encrypt' | 'aes-cbc-decrypt';

const KiB = 1024;
const MiB = 1024 * KiB;
const SIZES = [4 * KiB, 1 * MiB, 64 * MiB];
const OPS: Op[] = ['sha256', 'aes-cbc-encrypt', 'aes-cbc-decrypt'];
const KEY_STRING = 'secret';
const IV = Uint8Array.from(Buffer.from('32ad5cdf529aae2be15c7e2ea19e5163', 'hex'));

/** Bytes to push through each measurement; the pure-JS engine gets far fewer (it runs at tens of MB/s). */
function budget(engine: EngineName, quick: boolean): number {
  const base = engine === 'native' ? 512 * MiB : 16 * MiB;
  return quick ? base / 4 : base;
}

interface Plan {
  iters: number;
  rounds: number;
  warmup: boolean;
}

function plan(size: number, engine: EngineName, quick: boolean): Plan {
  const iters = Math.max(1, Math.min(engine === 'native' ? 4000 : 500, Math.floor(budget(engine, quick) / size)));
  if (engine === 'noble') return { iters, rounds: 1, warmup: size < 64 * MiB };
  return { iters: Math.max(2, iters), rounds: size >= 64 * MiB ? 2 : 3, warmup: true };
}

/**
 * Best-of-`rounds` MB/s of `iters` back-to-back runs of each function. Rounds are interleaved (raw, path,
 * buffer, raw, path, …) so a burst of load from other processes hurts every variant alike, not just one.
 */
async function measureAll(size: number, p: Plan, fns: ReadonlyArray<() => unknown>): Promise<number[]> {
  if (p.warmup) for (const fn of fns) await fn();
  const best = fns.map(() => 0);
  for (let r = 0; r < p.rounds; r++) {
    for (let k = 0; k < fns.length; k++) {
      const start = performance.now();
      for (let i = 0; i < p.iters; i++) await fns[k]();
      const seconds = (performance.now() - start) / 1000;
      best[k] = Math.max(best[k], (size * p.iters) / seconds / 1e6);
    }
  }
  return best;
}

function line(opts: Opts, record: Record<string, unknown>, human: string): void {
  console.log(opts.json ? JSON.stringify(record) : human);
}

function fmt(n: number): string {
  return n.toFixed(1).padStart(9);
}

export async function runBench(opts: Opts): Promise<void> {
  // VSCR_BENCH_ENGINES=noble (comma list) narrows the run while investigating one engine.
  const engines = (process.env.VSCR_BENCH_ENGINES?.split(',') ?? ['native', 'noble']) as EngineName[];
  if (!opts.json) {
    console.log('crypto-device: MB/s (10^6 B/s); raw = engine alone; path = Uint8Array API (copies in/out);');
    console.log('               buffer = UserBuffer API in place (how REST streams bodies); ratio = path/raw');
    console.log(`${'engine'.padEnd(7)} ${'op'.padEnd(16)} ${'bytes'.padStart(9)} ${'raw'.padStart(9)} ${'path'.padStart(9)} ${'ratio'.padStart(6)} ${'buffer'.padStart(9)} ${'ratio'.padStart(6)}`);
  }
  for (const engineName of engines) {
    const host = new CryptoDeviceHost();
    try {
      await host.addDevice({ keyString: KEY_STRING, engine: engineName, guestMemoryBytes: 512 * MiB, interruptMode: 'msi-multi' });
      const ctrl = await host.open(0);
      const engine = getEngine(engineName);
      const key = createHash('sha256').update(KEY_STRING).digest();
      const aes = engine.aesCbc(key, IV);
      for (const size of SIZES) {
        const data = new Uint8Array(size).fill(0x5a);
        const p = plan(size, engineName, opts.quick);
        const buffer = ctrl.allocUserBuffer(size);
        buffer.write(0, data);
        for (const op of OPS) {
          const [raw, path, inPlace] = await measureAll(size, p, [
            () => (op === 'sha256' ? engine.sha256(data) : op === 'aes-cbc-encrypt' ? aes.encrypt(data) : aes.decrypt(data)),
            () => (op === 'sha256' ? ctrl.sha256(data) : op === 'aes-cbc-encrypt' ? ctrl.aesCbcEncrypt(data) : ctrl.aesCbcDecrypt(data)),
            () =>
              op === 'sha256'
                ? ctrl.sha256(buffer)
                : op === 'aes-cbc-encrypt'
                  ? ctrl.aesCbcEncryptBuffer(buffer, buffer)
                  : ctrl.aesCbcDecryptBuffer(buffer, buffer),
          ]);
          const ratio = path / raw;
          const bufferRatio = inPlace / raw;
          line(
            opts,
            {
              bench: 'crypto-device',
              engine: engineName,
              op,
              bytes: size,
              rawMBps: round(raw),
              pathMBps: round(path),
              ratio: round(ratio, 3),
              bufferPathMBps: round(inPlace),
              bufferRatio: round(bufferRatio, 3),
            },
            `${engineName.padEnd(7)} ${op.padEnd(16)} ${String(size).padStart(9)} ${fmt(raw)} ${fmt(path)} ${ratio.toFixed(2).padStart(6)} ${fmt(inPlace)} ${bufferRatio.toFixed(2).padStart(6)}`,
          );
        }
        buffer.release();
      }
      if (engineName === 'native') await eventLoop(opts, ctrl);
      await ctrl.close();
    } finally {
      await host.shutdown();
    }
  }
}

/** Event-loop delay percentiles (ms) while `work` runs, with a 1 ms ticker keeping the loop sampled. */
async function loopDelay(work: () => Promise<void>): Promise<{ p99Ms: number; maxMs: number }> {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  const ticker = setInterval(() => undefined, 1);
  histogram.enable();
  try {
    await work();
  } finally {
    histogram.disable();
    clearInterval(ticker);
  }
  return { p99Ms: histogram.percentile(99) / 1e6, maxMs: histogram.max / 1e6 };
}

/**
 * p99 of the host event-loop delay while 64 MiB requests run (Uint8Array API, copies included), next to the
 * same measurement with no request at all: on a loaded machine the idle figure shows the scheduler's share.
 */
async function eventLoop(opts: Opts, ctrl: CryptoDeviceCtrl): Promise<void> {
  const data = new Uint8Array(64 * MiB).fill(0x33);
  await ctrl.aesCbcEncrypt(data); // warm-up
  const rounds = opts.quick ? 2 : 4;
  const busy = await loopDelay(async () => {
    for (let i = 0; i < rounds; i++) {
      await ctrl.aesCbcEncrypt(data);
      await ctrl.sha256(data);
    }
  });
  const idle = await loopDelay(() => new Promise((r) => setTimeout(r, 1000)));
  line(
    opts,
    {
      bench: 'eventLoop',
      p99Ms: round(busy.p99Ms, 3),
      maxMs: round(busy.maxMs, 3),
      idleP99Ms: round(idle.p99Ms, 3),
      while: '64 MiB aesCbcEncrypt + sha256 (native, Uint8Array API)',
    },
    `eventLoop p99 ${busy.p99Ms.toFixed(2)} ms (max ${busy.maxMs.toFixed(2)}) while 64 MiB requests run; idle p99 ${idle.p99Ms.toFixed(2)} ms (target p99 < 10 ms)`,
  );
}

function round(n: number, digits = 1): number {
  return Number(n.toFixed(digits));
}
