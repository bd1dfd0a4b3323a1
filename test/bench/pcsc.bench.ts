// pcsc-lite socket benchmarks with pyscard as the client: APDU round trips per second and insert/remove →
// GetStatusChange latency through vscr, side by side with a real pcscd + vsmartcard vpcd + stand-in card.
// Both daemons run at once and their timed rounds alternate, so load on a shared machine hits both alike.

import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startService, type RunningService } from '../../service/service.js';
import { startPcscLiteServer } from '../../service/pcsclite/index.js';
import type { ResourceManagerApi } from '../../service/rm/contract.js';
import { createVirtualCard } from '../../smcard/card/index.js';
import { FakeRm } from '../service/pcsclite/fake-rm.js';

interface Opts {
  json: boolean;
  quick: boolean;
}

const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('./pcsc-bench.py', import.meta.url));
const PCSCD = '/usr/sbin/pcscd';
const VPCD_DRIVER = '/usr/lib/pcsc/drivers/serial/libifdvpcd.so';
/** pcscd 1.9.9 has no option for its socket path: it always serves the compiled default. */
const PCSCD_SOCKET = '/run/pcscd/pcscd.comm';
/** Private vpcd ports (0x9C7B, +1 for slot 1) so a packaged reader.conf on 0x8C7B cannot collide. */
const VPCD_PORT = 0x9c7b;
const VSCR_READER = 'vscr Virtual Reader 00 00';
const VPCD_READER = 'Virtual PCD 00 00';
const GET_CHALLENGE = '0084000008';
/** Unmeasured insert/remove cycles before the notification samples. */
const NOTIFY_WARMUP = 20;
const SELECT_CRYPTO = '00a4040006f07673637201';
const PSO_HASH_ABC = '002a90800361626300';

type Line = Record<string, unknown>;

function report(opts: Opts, name: string, value: number, unit: string, extra: Record<string, unknown> = {}): void {
  if (opts.json) console.log(JSON.stringify({ bench: 'pcsc', name, value: Number(value.toFixed(3)), unit, ...extra }));
  else {
    const tail = Object.keys(extra).length ? `  ${JSON.stringify(extra)}` : '';
    console.log(`pcsc     ${name.padEnd(50)} ${value.toFixed(2).padStart(10)} ${unit}${tail}`);
  }
}

function note(opts: Opts, name: string, message: string): void {
  if (opts.json) console.log(JSON.stringify({ bench: 'pcsc', name, skipped: message }));
  else console.log(`pcsc     ${name.padEnd(50)} skipped: ${message}`);
}

/** Nearest-rank percentile (p99 of 200 samples is the 198th smallest, not the maximum). */
function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

const round1 = (x: number): number => Math.round(x * 10) / 10;
const round2 = (x: number): number => Math.round(x * 100) / 100;

/** Median and range of per-round rates, for the report's `spread`. */
function spread(values: number[]): { median: number; spread: { min: number; max: number; rounds: number[] } } {
  return {
    median: percentile(values, 50),
    spread: { min: round1(Math.min(...values)), max: round1(Math.max(...values)), rounds: values.map(round1) },
  };
}

function latencyFields(values: number[]): Record<string, number> {
  const r3 = (x: number): number => Math.round(x * 1000) / 1000;
  return { samples: values.length, p50: r3(percentile(values, 50)), p90: r3(percentile(values, 90)), max: r3(Math.max(...values)) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A python helper whose JSON lines are delivered to `onLine`; resolves with all lines at exit. */
function python(args: string[], env: NodeJS.ProcessEnv, onLine?: (line: Line) => void, timeoutMs = 300_000) {
  const child = spawn(PYTHON, [SCRIPT, ...args], { env });
  const lines: Line[] = [];
  let pending = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  // A client that died is reported through `done`; writing to its stdin must not crash the bench.
  child.stdin.on('error', () => undefined);
  child.stdout.on('data', (d: Buffer) => {
    pending += d.toString();
    const parts = pending.split('\n');
    pending = parts.pop() ?? '';
    for (const part of parts.filter(Boolean)) {
      const line = JSON.parse(part) as Line;
      lines.push(line);
      onLine?.(line);
    }
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const done = new Promise<Line[]>((resolve, reject) =>
    child.on('close', (code) => {
      clearTimeout(killer);
      if (code === 0 || code === null) resolve(lines);
      else reject(new Error(`pcsc-bench.py ${args[0]} exited ${code}: ${stderr.slice(-2000)}`));
    }),
  );
  return { child, done };
}

/** One pyscard client kept connected and warmed up; each round() times `count` SCardTransmit calls. */
class RoundClient {
  private waiter: ((line: Line) => void) | null = null;
  /** Set once the python process has exited: later waits end at once. */
  private ended: string | null = null;
  private readonly proc: ReturnType<typeof python>;

  private constructor(env: NodeJS.ProcessEnv, reader: string, count: number, apdu: string, setup: string[]) {
    this.proc = python(['apdu-rounds', reader, String(count), apdu, ...setup], env, (line) => {
      const w = this.waiter;
      this.waiter = null;
      w?.(line);
    });
    // A failing client ends the wait at once instead of at the timeout.
    this.proc.done.then(
      () => this.end('the client exited'),
      (err: unknown) => this.end(err instanceof Error ? err.message : String(err)),
    );
  }

  static async start(env: NodeJS.ProcessEnv, reader: string, count: number, apdu: string, setup: string[] = []): Promise<RoundClient> {
    const client = new RoundClient(env, reader, count, apdu, setup);
    const first = await client.next(120_000);
    if (first.ready !== true) {
      await client.close();
      throw new Error(`pyscard client for ${reader}: ${JSON.stringify(first)}`);
    }
    return client;
  }

  private end(reason: string): void {
    this.ended = reason;
    const w = this.waiter;
    this.waiter = null;
    w?.({ error: reason });
  }

  private next(timeoutMs: number): Promise<Line> {
    if (this.ended !== null) return Promise.resolve({ error: this.ended });
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        resolve({ error: `no answer within ${timeoutMs} ms` });
      }, timeoutMs);
      this.waiter = (line) => {
        clearTimeout(timer);
        resolve(line);
      };
    });
  }

  async round(): Promise<number> {
    const answer = this.next(120_000);
    if (this.ended === null) this.proc.child.stdin.write('go\n');
    const line = await answer;
    if (line.mode !== 'apdu') throw new Error(`APDU round failed: ${JSON.stringify(line)}`);
    return Number(line.rate);
  }

  async close(): Promise<void> {
    if (!this.proc.child.stdin.destroyed) this.proc.child.stdin.end();
    await this.proc.done.catch(() => undefined);
  }
}

/** Timed rounds on a single client (one warm-up round first, not counted). */
async function rounds(client: RoundClient, n: number, cpu?: number[]): Promise<number[]> {
  await client.round();
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(await timedRound(client, cpu));
  return out;
}

/**
 * One round; with `cpu`, also pushes this process's CPU time during it (ms). The service runs in this process
 * and the pyscard client in another, so that is the service's cost (device worker and busy polling included).
 */
async function timedRound(client: RoundClient, cpu?: number[]): Promise<number> {
  const before = process.cpuUsage();
  const rate = await client.round();
  const used = process.cpuUsage(before);
  cpu?.push((used.user + used.system) / 1000);
  return rate;
}

/** The resource manager alone (no socket, no client library): what the transport adds is the difference. */
async function inProcessRates(svc: RunningService, count: number, n: number): Promise<number[]> {
  const session = svc.rm.openSession('bench');
  try {
    const { hContext } = session.establishContext(0);
    const { rv, hCard } = await session.connect(hContext, VSCR_READER, 2, 3);
    if (rv !== 0) throw new Error(`connect rv ${rv.toString(16)}`);
    const apdu = new Uint8Array(Buffer.from(GET_CHALLENGE, 'hex'));
    for (let i = 0; i < 3000; i++) await session.transmit(hCard, 2, apdu, 65548);
    const out: number[] = [];
    for (let r = 0; r < n; r++) {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < count; i++) await session.transmit(hCard, 2, apdu, 65548);
      out.push(count / (Number(process.hrtime.bigint() - t0) / 1e9));
    }
    return out;
  } finally {
    await session.close();
  }
}

/** GET CHALLENGE rounds through a second pcsc-lite server of our own at `socketPath`, over `resourceManager`. */
async function roundsThroughOwnServer(
  resourceManager: ResourceManagerApi,
  socketPath: string,
  reader: string,
  count: number,
  n: number,
  busyPollMicros?: number,
): Promise<number[]> {
  const server = await startPcscLiteServer({ rm: resourceManager, socketPath, busyPollMicros });
  try {
    const client = await RoundClient.start({ ...process.env, PCSCLITE_CSOCK_NAME: socketPath }, reader, count, GET_CHALLENGE);
    try {
      return await rounds(client, n);
    } finally {
      await client.close();
    }
  } finally {
    await server.close();
  }
}

/** The socket transport over a trivial in-memory resource manager: what libpcsclite + our daemon code can do. */
function transportCeiling(dir: string, count: number, n: number): Promise<number[]> {
  const fake = new FakeRm(['Fake Reader 00 00']);
  fake.insert(0);
  return roundsThroughOwnServer(fake, path.join(dir, 'fake.comm'), 'Fake Reader 00 00', count, n);
}

/** The same resource manager behind a second socket with busy polling off: what the default 500 µs poll buys. */
function withoutBusyPoll(svc: RunningService, dir: string, count: number, n: number): Promise<number[]> {
  return roundsThroughOwnServer(svc.rm, path.join(dir, 'nopoll.comm'), VSCR_READER, count, n, 0);
}

/** Through vscr: python waits in GetStatusChange; we insert/remove in-process and time with the same clock. */
async function vscrNotify(svc: RunningService, env: NodeJS.ProcessEnv, count: number): Promise<{ insert: number[]; remove: number[]; raced: number }> {
  const reader = svc.bus.readers()[1];
  const insert: number[] = [];
  const remove: number[] = [];
  const t0s = new Map<number, bigint>();
  let raced = 0;
  const card = await createVirtualCard({ profile: 'default', cardId: 'bench-notify', dataDir: svc.config.dataDir });
  const run = python(['notify', 'vscr Virtual Reader 01 00', String(count + NOTIFY_WARMUP)], env, (line) => {
    if (typeof line.ready === 'number') {
      const i = line.ready;
      // Give python time to block inside SCardGetStatusChange, then change the slot.
      void sleep(15).then(() => {
        t0s.set(i, process.hrtime.bigint());
        if (reader.card === null) reader.insertCard(card);
        else reader.removeCard();
      });
    } else if (typeof line.woken === 'number') {
      if (line.woken < NOTIFY_WARMUP) return; // first cycles warm the JIT on both paths
      const t0 = t0s.get(line.woken);
      if (t0 === undefined || line.rv !== 0) return;
      // Python was descheduled and only started waiting after the change: not a notification latency.
      if (BigInt(line.called as number) > t0) {
        raced++;
        return;
      }
      const ms = Number(BigInt(line.t as number) - t0) / 1e6;
      ((Number(line.state) & 0x20) !== 0 ? insert : remove).push(ms);
    }
  });
  await run.done;
  if (reader.card !== null) reader.removeCard();
  return { insert, remove, raced };
}

function available(): string | null {
  if (!existsSync(PYTHON) || spawnSync(PYTHON, ['-c', 'import smartcard.scard'], { timeout: 20_000 }).status !== 0) {
    return 'install python3-pyscard';
  }
  return null;
}

async function waitFile(file: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (existsSync(file)) return true;
    await sleep(50);
  }
  return false;
}

async function stop(child: ChildProcessWithoutNullStreams | null): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 5000);
  await gone;
  clearTimeout(t);
}

/** A private pcscd with one vpcd reader pair, and a stand-in card attached to slot 0. */
interface Pcscd {
  env: NodeJS.ProcessEnv;
  /** Detaches the slot-0 card (the notification test uses slot 1). */
  detachCard(): Promise<void>;
  close(): Promise<void>;
}

async function startPcscd(opts: Opts): Promise<Pcscd | null> {
  if (!existsSync(PCSCD) || !existsSync(VPCD_DRIVER)) {
    note(opts, 'pcscd+vpcd', 'install pcscd vsmartcard-vpcd');
    return null;
  }
  if (existsSync(PCSCD_SOCKET)) {
    note(opts, 'pcscd+vpcd', `${PCSCD_SOCKET} exists (a system pcscd?); stop it to compare`);
    return null;
  }
  const confDir = await mkdtemp(path.join(tmpdir(), 'vscr-vpcd-'));
  await writeFile(
    path.join(confDir, 'vpcd'),
    `FRIENDLYNAME "Virtual PCD"\nDEVICENAME /dev/null:0x${VPCD_PORT.toString(16)}\nLIBPATH ${VPCD_DRIVER}\nCHANNELID 0x${VPCD_PORT.toString(16)}\n`,
  );
  const env = { ...process.env, PCSCLITE_CSOCK_NAME: PCSCD_SOCKET };
  // Foreground, our reader.conf.d only; pcscd removes its socket and pid file when it exits.
  const pcscd = spawn(PCSCD, ['--foreground', '--config', confDir, '--error'], { env: process.env });
  pcscd.stdout.resume();
  pcscd.stderr.resume();
  let card: ReturnType<typeof python> | null = null;
  const close = async (): Promise<void> => {
    if (card) await stop(card.child);
    card = null;
    await stop(pcscd);
    await rm(confDir, { recursive: true, force: true });
  };
  try {
    if (!(await waitFile(PCSCD_SOCKET, 10_000))) throw new Error('pcscd did not create its socket');
    let attached = false;
    card = python(['vicc', String(VPCD_PORT)], env, (l) => {
      if (l.vicc === 'attached') attached = true;
    });
    const deadline = Date.now() + 10_000;
    while (!attached && Date.now() < deadline) await sleep(20);
    if (!attached) throw new Error('the stand-in card did not attach to vpcd');
    // pcscd's 400 ms poll notices the card; the python client retries "no card" meanwhile.
    return {
      env,
      detachCard: async () => {
        if (card) await stop(card.child);
        card = null;
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

async function pcscdNotify(opts: Opts, env: NodeJS.ProcessEnv): Promise<void> {
  const cycles = opts.quick ? 4 : 12;
  const lines = await python(['vicc-notify', 'Virtual PCD 00 01', String(cycles), String(VPCD_PORT + 1)], env).done;
  const insert = lines.filter((l) => l.inserting === true && l.rv === 0).map((l) => Number(l.ms));
  const remove = lines.filter((l) => l.inserting === false && l.rv === 0).map((l) => Number(l.ms));
  report(opts, 'pcscd+vpcd: insert→notification p99', percentile(insert, 99), 'ms', latencyFields(insert));
  report(opts, 'pcscd+vpcd: remove→notification p99', percentile(remove, 99), 'ms', latencyFields(remove));
}

export async function runBench(opts: Opts): Promise<void> {
  const missing = available();
  if (missing) {
    note(opts, 'all', missing);
    return;
  }
  const count = opts.quick ? 2000 : 10_000;
  const nRounds = opts.quick ? 3 : 7;
  const dataDir = await mkdtemp(path.join(tmpdir(), 'vscr-pcscb-'));
  const socketPath = path.join(dataDir, 'pcscd.comm');
  const svc = await startService({ port: 0, dataDir, pcsc: true, pcscSocket: socketPath, logLevel: 'silent', badRequestLogIntervalMs: 0, cardReaders: [] });
  const env = { ...process.env, PCSCLITE_CSOCK_NAME: socketPath };
  let pcscd: Pcscd | null = null;
  const clients: RoundClient[] = [];
  try {
    pcscd = await startPcscd(opts).catch((err: unknown) => {
      note(opts, 'pcscd+vpcd', `failed: ${err instanceof Error ? err.message : String(err)}`);
      return null;
    });
    const ours = await RoundClient.start(env, VSCR_READER, count, GET_CHALLENGE);
    clients.push(ours);
    const theirs = pcscd
      ? await RoundClient.start(pcscd.env, VPCD_READER, count, GET_CHALLENGE).catch((err: unknown) => {
          note(opts, 'pcscd+vpcd', `client failed: ${err instanceof Error ? err.message : String(err)}`);
          return null;
        })
      : null;
    if (theirs) clients.push(theirs);

    // One uncounted round each, then alternating timed rounds (the order flips every round).
    await ours.round();
    if (theirs) await theirs.round();
    const vscrRates: number[] = [];
    const vscrCpu: number[] = [];
    const pcscdRates: number[] = [];
    for (let r = 0; r < nRounds; r++) {
      if (theirs && r % 2 === 1) pcscdRates.push(await theirs.round());
      vscrRates.push(await timedRound(ours, vscrCpu));
      if (theirs && r % 2 === 0) pcscdRates.push(await theirs.round());
    }
    const v = spread(vscrRates);
    const perThousand = (cpuMs: number[]): number => round1((percentile(cpuMs, 50) / count) * 1000);
    report(opts, 'vscr: GET CHALLENGE round trips (pyscard), median', v.median, 'APDU/s', { count, spread: v.spread, target: '>= 5000', cpuMsPer1000: perThousand(vscrCpu) });
    let ratio: number | null = null;
    if (theirs) {
      const p = spread(pcscdRates);
      report(opts, 'pcscd+vpcd: GET CHALLENGE round trips, median', p.median, 'APDU/s', { count, spread: p.spread, card: 'python vicc, TCP_QUICKACK+NODELAY' });
      ratio = v.median / p.median;
      const paired = vscrRates.map((x, i) => x / pcscdRates[i]);
      report(opts, 'APDU/s ratio vscr / (pcscd+vpcd), medians', ratio, 'x', {
        target: '>= 2',
        spread: { min: round2(Math.min(...paired)), max: round2(Math.max(...paired)), perRound: paired.map(round2) },
      });
    }
    for (const c of clients.splice(0)) await c.close();

    // Where the time goes (informative): the resource manager in-process, the socket over a trivial RM.
    const inProc = spread(await inProcessRates(svc, count, nRounds));
    report(opts, 'vscr: same APDU in-process, no socket (RM+stack)', inProc.median, 'APDU/s', { count, spread: inProc.spread });
    const ceiling = spread(await transportCeiling(dataDir, count, opts.quick ? 2 : 3));
    report(opts, 'vscr: transport ceiling (trivial in-memory RM)', ceiling.median, 'APDU/s', { count, spread: ceiling.spread });
    const noPoll = spread(await withoutBusyPoll(svc, dataDir, count, opts.quick ? 2 : 3));
    report(opts, 'vscr: same, busy poll off (pcscBusyPollMicros 0)', noPoll.median, 'APDU/s', { count, spread: noPoll.spread });
    // PSO:HASH goes card → crypto applet → the device's driver and worker thread. Its rounds alternate with GET
    // CHALLENGE rounds on a second client of the same service, so each ratio compares two rounds taken under the
    // same load (on a shared machine the load moves between the rounds above and these).
    const hashCount = Math.floor(count / 4);
    const hashClient = await RoundClient.start(env, VSCR_READER, hashCount, PSO_HASH_ABC, [SELECT_CRYPTO]);
    clients.push(hashClient);
    const pairedClient = await RoundClient.start(env, VSCR_READER, hashCount, GET_CHALLENGE);
    clients.push(pairedClient);
    await hashClient.round();
    await pairedClient.round();
    const hashRates: number[] = [];
    const hashCpu: number[] = [];
    const pairedRates: number[] = [];
    const pairedCpu: number[] = [];
    for (let r = 0; r < (opts.quick ? 3 : 5); r++) {
      // The order flips every round, as above.
      if (r % 2 === 1) pairedRates.push(await timedRound(pairedClient, pairedCpu));
      hashRates.push(await timedRound(hashClient, hashCpu));
      if (r % 2 === 0) pairedRates.push(await timedRound(pairedClient, pairedCpu));
    }
    const hash = spread(hashRates);
    const paired = spread(pairedRates);
    const pairRatios = hashRates.map((x, i) => x / pairedRates[i]);
    const cpuPer1000 = (cpuMs: number[]): number => round1((percentile(cpuMs, 50) / hashCount) * 1000);
    report(opts, 'vscr: PSO:HASH via crypto device (pyscard) vs GET CHALLENGE', hash.median, 'APDU/s', {
      count: hashCount,
      spread: hash.spread,
      baseline: round1(paired.median),
      baselineSpread: paired.spread,
      ratio: round2(percentile(pairRatios, 50)),
      ratioPerRound: pairRatios.map(round2),
      target: '>= 0.8',
      cpuMsPer1000: cpuPer1000(hashCpu),
      baselineCpuMsPer1000: cpuPer1000(pairedCpu),
    });
    for (const c of clients.splice(0)) await c.close();

    const { insert, remove, raced } = await vscrNotify(svc, env, opts.quick ? 60 : 400);
    if (raced > 0) report(opts, 'vscr: samples dropped (client not yet waiting)', raced, 'samples');
    const all = [...insert, ...remove];
    // The target (p99 < 5 ms) is set on insertion; removal and both together are shown for completeness.
    const notifyP99 = percentile(insert, 99);
    report(opts, 'vscr: insert→notification p99', notifyP99, 'ms', { ...latencyFields(insert), target: '< 5' });
    report(opts, 'vscr: remove→notification p99', percentile(remove, 99), 'ms', latencyFields(remove));
    report(opts, 'vscr: any change→notification p99', percentile(all, 99), 'ms', latencyFields(all));

    if (pcscd) {
      await pcscd.detachCard();
      await pcscdNotify(opts, pcscd.env).catch((err: unknown) => note(opts, 'pcscd+vpcd notify', `failed: ${err instanceof Error ? err.message : String(err)}`));
    }
    report(opts, 'targets met', Number(v.median >= 5000 && notifyP99 < 5 && (ratio === null || ratio >= 2)), 'bool', {
      apdu: v.median >= 5000,
      ratio: ratio === null ? 'not measured' : ratio >= 2,
      notifyP99: notifyP99 < 5,
    });
  } finally {
    for (const c of clients) await c.close();
    if (pcscd) await pcscd.close();
    await svc.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

// Allow `tsx test/bench/pcsc.bench.ts [--quick] [--json]` on its own.
if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const args = process.argv.slice(2);
  runBench({ json: args.includes('--json'), quick: args.includes('--quick') }).catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
