// `vscr serve` starts the service exactly as `npm start` does: the service's own flags pass through, client
// commands reach it, and Ctrl-C shuts it down gracefully.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliEnv, collect, runCli, spawnCli, watchOutput } from './harness.js';

let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'vscr-serve-'));
});
afterAll(async () => {
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('vscr serve', () => {
  it('runs the service with the service\'s flags until Ctrl-C', async () => {
    const child = spawnCli(['serve', '--port', '0', '--data-dir', dataDir, '--no-pcsc', '--devices', '2', '--readers', '3', '--log-level', 'info'], cliEnv(undefined));
    child.stdin.end();
    const out = watchOutput(child.stdout);
    const done = collect(child, 90_000, ['serve']);
    try {
      await out.waitFor(/listening on http:\/\/127\.0\.0\.1:\d+/, 60_000);
      const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out.text())![1];
      const env = cliEnv(url);
      const devices = await runCli(['devices', '--json'], env);
      expect(devices.code, devices.stderr).toBe(0);
      expect((JSON.parse(devices.stdout) as { devices: unknown[] }).devices).toHaveLength(2);
      const readers = await runCli(['readers', '--json'], env);
      // --readers 3 plain readers, then the PIV and OpenPGP cards' own readers (cardReaders default).
      expect((JSON.parse(readers.stdout) as { readers: { name: string }[] }).readers.map((r) => r.name.replace(/ \d\d 00$/, ''))).toEqual(['vscr Virtual Reader', 'vscr Virtual Reader', 'vscr Virtual Reader', 'vscr PIV Reader', 'vscr OpenPGP Reader']);
      const status = await runCli(['status'], env);
      expect(status.stdout).toBe('State: ReadyState (0)\nError: no error (0)\n');
    } finally {
      child.kill('SIGINT');
    }
    const r = await done;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/shutting down gracefully/);
  }, 150_000);

  it('rejects a bad service flag as a usage error (exit 2)', async () => {
    const r = await runCli(['serve', '--port', 'x'], cliEnv(undefined));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--port must be an integer/);
    expect(r.stdout).toBe('');
  });
});
