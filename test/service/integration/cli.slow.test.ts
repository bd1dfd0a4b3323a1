// `npm start` itself: npm forwards SIGTERM to the service it started, which shuts down gracefully.

import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { within } from './harness.js';

const root = path.resolve(import.meta.dirname, '../../..');
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'vscr-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('service CLI', () => {
  it('`npm start` itself: SIGTERM to the npm process reaches the service, which shuts down gracefully', async () => {
    // `npm start &` then `kill $!` signals npm, not the service. npm forwards the signal to its child only, so the
    // start script must exec the service rather than leave a shell or a tsx wrapper in between.
    const child = spawn('npm', ['start', '--', '--port', '0', '--data-dir', path.join(dir, 'd3'), '--guest-memory', '64', '--readers', '0', '--no-card'], {
      cwd: root,
      env: { ...process.env, npm_config_loglevel: 'silent' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout?.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr?.on('data', (d: Buffer) => { out += d.toString(); });
    try {
      const url = await within((async () => {
        for (;;) {
          const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
          if (m) return m[1];
          if (child.exitCode !== null) throw new Error(`exited early: ${out}`);
          await new Promise((r) => setTimeout(r, 50));
        }
      })(), 45_000, 'the listening line');
      expect((await fetch(`${url}/health`, { signal: AbortSignal.timeout(10_000) })).status).toBe(200);
      child.kill('SIGTERM');
      await within((async () => {
        while (!/"msg":"stopped"/.test(out)) await new Promise((r) => setTimeout(r, 50));
      })(), 20_000, 'the service\'s "stopped" line');
      // Nothing is left listening: an orphaned service would still answer.
      await within((async () => {
        for (;;) {
          const alive = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) }).then(() => true, () => false);
          if (!alive) return;
          await new Promise((r) => setTimeout(r, 100));
        }
      })(), 10_000, 'the port to close');
    } finally {
      child.kill('SIGKILL');
    }
  });

});
