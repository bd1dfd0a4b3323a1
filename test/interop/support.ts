// Interop harness: the whole service with its pcsc-lite socket, tool gating (CI fails, local skips), bounded
// child-process helpers for the unmodified Debian PC/SC tools.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ServiceConfig } from '../../service/config/types.js';
import { startService, type RunningService, type StartOptions } from '../../service/service.js';

export const PYTHON = '/usr/bin/python3';

export interface Gate {
  /** Skip the suite (tool missing, not in CI). */
  skip: boolean;
  /** What is missing, naming the Debian package; null when all is there. */
  missing: string | null;
}

function onPath(bin: string): boolean {
  if (bin.startsWith('/')) {
    try {
      accessSync(bin, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  }
  return (process.env.PATH ?? '').split(':').some((dir) => {
    try {
      accessSync(path.join(dir, bin), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** Whether /usr/bin/python3 can import pyscard. Asked once per process: the suites share a test worker's modules. */
let pyscardImports: boolean | undefined;
function pyscardWorks(): boolean {
  pyscardImports ??= onPath(PYTHON) && spawnSync(PYTHON, ['-c', 'import smartcard.scard'], { timeout: 20_000 }).status === 0;
  return pyscardImports;
}

/**
 * Checks tools ([binary, Debian package] pairs; binary `pyscard` means "import smartcard" works under
 * /usr/bin/python3). Under CI=true a missing tool must FAIL the suite, so `skip` is false and the caller's
 * beforeAll throws `missing`; locally the suite is skipped with that message.
 */
export function gate(tools: [string, string][]): Gate {
  const absent: string[] = [];
  for (const [bin, pkg] of tools) {
    const ok = bin === 'pyscard' ? pyscardWorks() : onPath(bin);
    if (!ok) absent.push(`${bin} (install the Debian package ${pkg})`);
  }
  const missing = absent.length > 0 ? `missing ${absent.join(', ')}` : null;
  const ci = process.env.CI === 'true' || process.env.CI === '1';
  if (missing && !ci) console.warn(`[interop] skipped: ${missing}`);
  return { skip: missing !== null && !ci, missing };
}

export interface InteropService {
  service: RunningService;
  url: string;
  socketPath: string;
  /** Environment for a client: PCSCLITE_CSOCK_NAME points at our socket. */
  env: NodeJS.ProcessEnv;
  close(): Promise<void>;
}

/**
 * The service on a fresh data directory. `overrides` adjust the configuration; by default no start-up card readers
 * (`cardReaders`) are added, so the suites written for the two plain readers see exactly those.
 */
export async function startInteropService(overrides: Partial<ServiceConfig> = {}, options: StartOptions = {}): Promise<InteropService> {
  // A given dataDir is reused (a restart) and left in place by close().
  const dataDir = overrides.dataDir ?? (await mkdtemp(path.join(tmpdir(), 'vscr-iop-')));
  const socketPath = path.join(dataDir, 'pcscd.comm');
  const service = await startService({
    port: 0,
    dataDir,
    pcsc: true,
    pcscSocket: socketPath,
    logLevel: (process.env.VSCR_TEST_LOG_LEVEL as 'silent' | undefined) ?? 'silent',
    badRequestLogIntervalMs: 0,
    cardReaders: [],
    // The busy poll only saves wake-up latency (docs/pcsc.md), at up to 0.5 ms of CPU per message; the suite's
    // clients are slow processes, so it would spin for nothing. service/net/busy-poll.ts has its own tests.
    pcscBusyPollMicros: 0,
    ...overrides,
  }, options);
  return {
    service,
    url: service.url,
    socketPath,
    env: { ...process.env, PCSCLITE_CSOCK_NAME: socketPath, LC_ALL: 'C' },
    async close() {
      await service.close();
      if (overrides.dataDir === undefined) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** A REST call with a bounded wait; returns status and parsed JSON (or null for an empty body). */
export async function rest(base: string, method: string, route: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const res = await fetch(base + route, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as unknown) : null };
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion, killing it after timeoutMs (the test then fails on the code/output). */
export function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 30_000, input?: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    if (input !== undefined) child.stdin.end(input);
    else child.stdin.end();
  });
}

/**
 * A long-running tool (pcsc_scan runs forever) whose stdout we watch: `waitFor` resolves with the match once the
 * output after `from` matches, or rejects after timeoutMs with the output seen so far.
 */
export class Watched {
  output = '';
  private exited = false;
  private readonly listeners = new Set<() => void>();

  constructor(readonly child: ChildProcessWithoutNullStreams) {
    const feed = (d: Buffer) => {
      this.output += d.toString();
      for (const l of this.listeners) l();
    };
    child.stdout.on('data', feed);
    child.stderr.on('data', feed);
    child.on('exit', () => {
      this.exited = true;
      for (const l of this.listeners) l();
    });
  }

  static spawn(cmd: string, args: string[], env: NodeJS.ProcessEnv): Watched {
    return new Watched(spawn(cmd, args, { env }));
  }

  /** Current end of output: pass it as `from` to only match what comes after an action. */
  get mark(): number {
    return this.output.length;
  }

  waitFor(pattern: RegExp, from = 0, timeoutMs = 15_000): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const m = this.output.slice(from).match(pattern);
        if (m) {
          done();
          resolve(m);
          return true;
        }
        if (this.exited) {
          done();
          reject(new Error(`process exited before ${pattern}; output:\n${this.output.slice(-3000)}`));
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timeout waiting for ${pattern}; output:\n${this.output.slice(-3000)}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.listeners.delete(listener);
      };
      const listener = () => void check();
      if (!check()) this.listeners.add(listener);
    });
  }

  /** SIGTERM, then SIGKILL if it lingers; resolves when the process is gone (bounded). */
  async stop(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 3000);
    await gone;
    clearTimeout(timer);
  }
}

export const hexOf = (b: Uint8Array | Buffer): string => Buffer.from(b).toString('hex');
