// Test harness: a real service started in-process on port 0 with a temp data dir, and `node bin/vscr.js …`
// spawned against it with bounded waits.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startService, type RunningService } from '../../service/service.js';

export const BIN = fileURLToPath(new URL('../../bin/vscr.js', import.meta.url));

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

/** Runs the CLI to completion; kills it and fails after `timeoutMs`. */
export function runCli(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 45_000): Promise<CliResult> {
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
