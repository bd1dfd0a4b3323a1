// Test harness: a real service started in-process on port 0 with a temp data dir, the CLI run against it in
// process with injected stdio, and `node bin/vscr.js …` spawned where the real process matters, with bounded waits.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect } from 'vitest';
import type { Io } from '../../../clients/cli/context.js';
import { runCli as runCliEntry } from '../../../clients/cli/main.js';
import { startService, type RunningService } from '../../../service/service.js';

export const BIN = fileURLToPath(new URL('../../../bin/vscr.js', import.meta.url));

export interface TestService {
  service: RunningService;
  dataDir: string;
  stop(): Promise<void>;
}

export async function startTestService(extra: { token?: string } = {}): Promise<TestService> {
  const dataDir = await mkdtemp(join(tmpdir(), 'vscr-clients-'));
  const service = await startService({ port: 0, dataDir, logLevel: 'silent', pcsc: false, cardReaders: [], ...extra });
  return {
    service,
    dataDir,
    async stop() {
      await service.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** What useTestService gives a test file; read it only inside tests. */
export interface FileService {
  readonly service: RunningService;
  /** The environment that points a CLI run at `service` (VSCR_URL), for runCli, spawnCli and friends. */
  readonly env: NodeJS.ProcessEnv;
  /** A scratch directory for the file's tests, removed with the service. */
  readonly dir: string;
  /** The in-process CLI against `service`. */
  cli(args: string[]): Promise<{ code: number; out: string; err: string }>;
}

/** One service and one scratch directory for the whole file (made in beforeAll, removed in afterAll). */
export function useTestService(): FileService {
  let ts: TestService | undefined;
  let dir: string | undefined;
  beforeAll(async () => {
    ts = await startTestService();
    dir = await mkdtemp(join(tmpdir(), 'vscr-cli-test-'));
  });
  afterAll(async () => {
    await ts?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  const running = (): { ts: TestService; dir: string } => {
    if (!ts || !dir) throw new Error('the test service runs only inside the tests of its file');
    return { ts, dir };
  };
  return {
    get service() {
      return running().ts.service;
    },
    get env() {
      return cliEnv(running().ts.service.url);
    },
    get dir() {
      return running().dir;
    },
    cli: (args) => cliAgainst(running().ts.service.url)(args),
  };
}

/** The JSON Lines a `--json` command printed, parsed. */
export function jsonLines(stdout: string): Record<string, unknown>[] {
  return stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Environment for a CLI child: the service URL, no inherited VSCR_* settings. */
export function cliEnv(url: string | undefined, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('VSCR_')) env[k] = v;
  if (url) env.VSCR_URL = url;
  return { ...env, ...extra };
}

export function spawnCli(args: string[], env: NodeJS.ProcessEnv): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, [BIN, ...args], { env, stdio: 'pipe' });
}

/**
 * Runs the CLI in this process through its entry, with stdout, stderr, an empty stdin and `env` injected: the
 * same code as the binary without a Node start per call. The exit code through the binary and signals use
 * runCliProcess / spawnCli.
 */
export function runCli(args: string[], env: NodeJS.ProcessEnv, stdin = ''): Promise<CliResult> {
  return startCli(args, env, stdin).done;
}

/** The CLI in process against the service at `url`: `cli(args)` gives its exit code and output, as the suites check them. */
export function cliAgainst(url: string): (args: string[]) => Promise<{ code: number; out: string; err: string }> {
  return async (args) => {
    const r = await runCli(args, cliEnv(url));
    return { code: r.code ?? -1, out: r.stdout, err: r.stderr };
  };
}

/** runCli with its output also streamed as it comes, for commands a test talks to while they run (scan). */
export function startCli(args: string[], env: NodeJS.ProcessEnv, stdin = ''): { stdout: PassThrough; done: Promise<CliResult> } {
  let stdout = '';
  let stderr = '';
  const live = new PassThrough();
  const toStdout = (text: string) => {
    stdout += text;
    live.write(text);
  };
  const io: Io = {
    out: (line) => toStdout(line + '\n'),
    err: (line) => void (stderr += line + '\n'),
    write: toStdout,
    writeErr: (text) => void (stderr += text),
    stdin: Readable.from(stdin === '' ? [] : [Buffer.from(stdin)]),
    env,
  };
  const done = runCliEntry(args, io).then((code) => {
    live.end();
    return { code, signal: null, stdout, stderr };
  });
  return { stdout: live, done };
}

/** Runs the real binary to completion; kills it and fails after `timeoutMs`. */
export function runCliProcess(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 45_000): Promise<CliResult> {
  const child = spawnCli(args, env);
  child.stdin.end();
  return collect(child, timeoutMs, args);
}

export function collect(child: ChildProcessWithoutNullStreams, timeoutMs: number, args: string[] = []): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`vscr ${args.join(' ')} did not finish within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Resolves once `stream` has produced text matching `pattern`; rejects after `timeoutMs`. */
export function waitForOutput(stream: NodeJS.ReadableStream, pattern: RegExp, timeoutMs = 30_000): Promise<string> {
  let seen = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stream.off('data', onData);
      reject(new Error(`timed out waiting for ${pattern}; got: ${seen}`));
    }, timeoutMs);
    const onData = (d: Buffer) => {
      seen += d.toString();
      if (pattern.test(seen)) {
        clearTimeout(timer);
        stream.off('data', onData);
        resolve(seen);
      }
    };
    stream.on('data', onData);
  });
}

/**
 * Accumulates everything `stream` writes, so a test can wait for a line an action causes without a race: the
 * line may arrive before the action's own call returns. Each wait is bounded.
 */
export function watchOutput(stream: NodeJS.ReadableStream): { text(): string; waitFor(pattern: RegExp, timeoutMs?: number): Promise<void> } {
  let seen = '';
  const waiters = new Set<() => void>();
  stream.on('data', (d: Buffer) => {
    seen += d.toString();
    for (const w of [...waiters]) w();
  });
  return {
    text: () => seen,
    waitFor(pattern, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!pattern.test(seen)) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for ${pattern}; got: ${seen}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
  };
}

/** The original autotest's closing steps: reset, status and devices, each with its exact output. */
export async function expectResetStatusDevices(env: NodeJS.ProcessEnv): Promise<void> {
  const reset = await runCli(['reset'], env);
  expect([reset.code, reset.stdout]).toEqual([0, 'Reset done\n']);
  const status = await runCli(['status'], env);
  expect([status.code, status.stdout]).toEqual([0, 'State: ReadyState (0)\nError: no error (0)\n']);
  const devices = await runCli(['devices'], env);
  expect(devices.code).toBe(0);
  expect(devices.stdout).toMatch(/^0: PCI\\VEN_1111&DEV_2222&REV_00 .*State: ReadyState \(0\)/);
}
