// pcsc-lite socket benchmarks with pyscard as the client: APDU round trips per second and insert/remove →
// GetStatusChange latency through vscr, side by side with a real pcscd + vsmartcard vpcd + stand-in card.

import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startService, type RunningService } from '../../service/service.js';
import { startPcscLiteServer } from '../../service/pcsclite/index.js';
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
const GET_CHALLENGE = '0084000008';
/** Unmeasured insert/remove cycles before the notification samples. */
const NOTIFY_WARMUP = 20;
const SELECT_CRYPTO = '00a4040006f07673637201';
const PSO_HASH_ABC = '002a90800361626300';

function report(opts: Opts, name: string, value: number, unit: string, extra: Record<string, unknown> = {}): void {
  if (opts.json) console.log(JSON.stringify({ bench: 'pcsc', name, value: Number(value.toFixed(3)), unit, ...extra }));
  else {
    const tail = Object.keys(extra).length ? `  ${JSON.stringify(extra)}` : '';
    console.log(`pcsc     ${name.padEnd(46)} ${value.toFixed(2).padStart(12)} ${unit}${tail}`);
  }
}

function note(opts: Opts, name: string, message: string): void {
  if (opts.json) console.log(JSON.stringify({ bench: 'pcsc', name, skipped: message }));
  else console.log(`pcsc     ${name.padEnd(46)} skipped: ${message}`);
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A python helper whose JSON lines are delivered to `onLine`; resolves with all lines at exit. */
function python(args: string[], env: NodeJS.ProcessEnv, onLine?: (line: Record<string, unknown>) => void, timeoutMs = 180_000) {
  const child = spawn(PYTHON, [SCRIPT, ...args], { env });
  const lines: Record<string, unknown>[] = [];
  let pending = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.on('data', (d: Buffer) => {
    pending += d.toString();
    const parts = pending.split('\n');
    pending = parts.pop() ?? '';
    for (const part of parts.filter(Boolean)) {
      const line = JSON.parse(part) as Record<string, unknown>;
      lines.push(line);
      onLine?.(line);
    }
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const done = new Promise<Record<string, unknown>[]>((resolve, reject) =>
    child.on('close', (code) => {
      clearTimeout(killer);
      if (code === 0 || code === null) resolve(lines);
      else reject(new Error(`pcsc-bench.py ${args[0]} exited ${code}: ${stderr.slice(-2000)}`));
    }),
  );
  return { child, done };
}

async function apduRate(env: NodeJS.ProcessEnv, reader: string, count: number, apdu: string, setup: string[] = []): Promise<number> {
  const lines = await python(['apdu', reader, String(count), apdu, ...setup], env).done;
  const result = lines.find((l) => l.mode === 'apdu');
  if (!result) throw new Error(`no APDU result: ${JSON.stringify(lines)}`);
  return Number(result.rate);
}

/** The socket transport over a trivial in-memory resource manager: what libpcsclite + our daemon code can do. */
async function transportCeiling(dir: string, count: number): Promise<number> {
  const fake = new FakeRm(['Fake Reader 00 00']);
  fake.insert(0);
  const socketPath = path.join(dir, 'fake.comm');
  const server = await startPcscLiteServer({ rm: fake, socketPath });
  try {
    return await apduRate({ ...process.env, PCSCLITE_CSOCK_NAME: socketPath }, 'Fake Reader 00 00', count, GET_CHALLENGE);
  } finally {
    await server.close();
  }
}

/** The resource manager alone (no socket, no client library): what the transport adds is the difference. */
async function inProcessRate(svc: RunningService, count: number, apduHex: string): Promise<number> {
  const session = svc.rm.openSession('bench');
  try {
    const { hContext } = session.establishContext(0);
    const { rv, hCard } = await session.connect(hContext, 'vscr Virtual Reader 00 00', 2, 3);
    if (rv !== 0) throw new Error(`connect rv ${rv.toString(16)}`);
    const apdu = new Uint8Array(Buffer.from(apduHex, 'hex'));
    for (let i = 0; i < 200; i++) await session.transmit(hCard, 2, apdu, 65548);
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < count; i++) await session.transmit(hCard, 2, apdu, 65548);
    return count / (Number(process.hrtime.bigint() - t0) / 1e9);
  } finally {
    await session.close();
  }
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

async function benchVscr(opts: Opts): Promise<{ apdu: number; notifyP99: number } | null> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'vscr-pcscb-'));
  const socketPath = path.join(dataDir, 'pcscd.comm');
  const svc = await startService({ port: 0, dataDir, pcsc: true, pcscSocket: socketPath, logLevel: 'silent', badRequestLogIntervalMs: 0 });
  const env = { ...process.env, PCSCLITE_CSOCK_NAME: socketPath };
  try {
    const n = opts.quick ? 2000 : 20_000;
    const apdu = await apduRate(env, 'vscr Virtual Reader 00 00', n, GET_CHALLENGE);
    report(opts, 'vscr: GET CHALLENGE round trips (pyscard)', apdu, 'APDU/s', { count: n, target: '>= 5000' });
    report(opts, 'vscr: same APDU in-process, no socket (RM baseline)', await inProcessRate(svc, n, GET_CHALLENGE), 'APDU/s', { count: n });
    report(opts, 'vscr: transport ceiling (trivial in-memory RM)', await transportCeiling(dataDir, n), 'APDU/s', { count: n });
    const hash = await apduRate(env, 'vscr Virtual Reader 00 00', Math.floor(n / 4), PSO_HASH_ABC, [SELECT_CRYPTO]);
    report(opts, 'vscr: PSO:HASH via crypto device (pyscard)', hash, 'APDU/s', { count: Math.floor(n / 4) });
    const { insert, remove, raced } = await vscrNotify(svc, env, opts.quick ? 40 : 200);
    if (raced > 0) report(opts, 'vscr: samples dropped (client not yet waiting)', raced, 'samples');
    const all = [...insert, ...remove];
    report(opts, 'vscr: insert→notification p50', percentile(insert, 50), 'ms', { samples: insert.length });
    report(opts, 'vscr: insert→notification p99', percentile(insert, 99), 'ms', { samples: insert.length, target: '< 5' });
    report(opts, 'vscr: remove→notification p50', percentile(remove, 50), 'ms', { samples: remove.length });
    report(opts, 'vscr: remove→notification p99', percentile(remove, 99), 'ms', { samples: remove.length, target: '< 5' });
    return { apdu, notifyP99: percentile(all, 99) };
  } finally {
    await svc.close();
    await rm(dataDir, { recursive: true, force: true });
  }
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

async function benchPcscd(opts: Opts): Promise<{ apdu: number; notifyP50: number } | null> {
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
  let pcscd: ChildProcessWithoutNullStreams | null = null;
  let card: ReturnType<typeof python> | null = null;
  const env = { ...process.env, PCSCLITE_CSOCK_NAME: PCSCD_SOCKET };
  try {
    // Foreground, our reader.conf.d only; pcscd removes its socket and pid file when it exits.
    pcscd = spawn(PCSCD, ['--foreground', '--config', confDir, '--error'], { env: process.env });
    pcscd.stdout.resume();
    pcscd.stderr.resume();
    if (!(await waitFile(PCSCD_SOCKET, 10_000))) throw new Error('pcscd did not create its socket');

    let attached = false;
    card = python(['vicc', String(VPCD_PORT)], env, (l) => {
      if (l.vicc === 'attached') attached = true;
    });
    const deadline = Date.now() + 10_000;
    while (!attached && Date.now() < deadline) await sleep(20);
    // pcscd's 400 ms poll notices the card and publishes it; the python client retries "no card" meanwhile.
    const n = opts.quick ? 500 : 3000;
    const apdu = await apduRate(env, 'Virtual PCD 00 00', n, GET_CHALLENGE);
    report(opts, 'pcscd+vpcd: GET CHALLENGE round trips (pyscard)', apdu, 'APDU/s', { count: n, card: 'python vicc, TCP_QUICKACK+NODELAY' });
    await stop(card.child);
    card = null;

    const cycles = opts.quick ? 4 : 12;
    const lines = await python(['vicc-notify', 'Virtual PCD 00 01', String(cycles), String(VPCD_PORT + 1)], env).done;
    const insert = lines.filter((l) => l.inserting === true && l.rv === 0).map((l) => Number(l.ms));
    const remove = lines.filter((l) => l.inserting === false && l.rv === 0).map((l) => Number(l.ms));
    report(opts, 'pcscd+vpcd: insert→notification p50', percentile(insert, 50), 'ms', { samples: insert.length });
    report(opts, 'pcscd+vpcd: insert→notification p99', percentile(insert, 99), 'ms', { samples: insert.length });
    report(opts, 'pcscd+vpcd: remove→notification p50', percentile(remove, 50), 'ms', { samples: remove.length });
    report(opts, 'pcscd+vpcd: remove→notification p99', percentile(remove, 99), 'ms', { samples: remove.length });
    return { apdu, notifyP50: percentile([...insert, ...remove], 50) };
  } finally {
    if (card) await stop(card.child);
    await stop(pcscd);
    await rm(confDir, { recursive: true, force: true });
  }
}

export async function runBench(opts: Opts): Promise<void> {
  const missing = available();
  if (missing) {
    note(opts, 'all', missing);
    return;
  }
  const ours = await benchVscr(opts);
  const theirs = await benchPcscd(opts).catch((err: unknown) => {
    note(opts, 'pcscd+vpcd', `failed: ${err instanceof Error ? err.message : String(err)}`);
    return null;
  });
  if (ours && theirs) {
    report(opts, 'APDU/s ratio vscr / (pcscd+vpcd)', ours.apdu / theirs.apdu, 'x', { target: '>= 2' });
  }
  if (ours) {
    report(opts, 'targets met', Number(ours.apdu >= 5000 && ours.notifyP99 < 5 && (!theirs || ours.apdu >= 2 * theirs.apdu)), 'bool');
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
