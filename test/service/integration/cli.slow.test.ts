// The service's main as a user runs it, as real processes: on port 0 it announces its real address, serves, and
// exits 0 on SIGTERM after a graceful shutdown; a non-loopback host without a token exits 1 with a clear error; and
// `npm start` itself forwards SIGTERM to the service, which shuts down gracefully. The same parsing and refusals run
// in process in cli.test.ts and config.test.ts; `vscr serve` with Ctrl-C as a real process is in cli-serve.test.ts.

import { spawn, type ChildProcess } from 'node:child_process';
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

/** `service/main.ts` through tsx, or (`launcher`) bin/vscr-service.js as `npm start` runs it, from its cached bundle. */
function run(args: string[], env: Record<string, string> = {}, launcher = false): { child: ChildProcess; out: () => string; exited: Promise<number | null> } {
  const entry = launcher ? ['bin/vscr-service.js'] : ['--import', 'tsx', 'service/main.ts'];
  const child = spawn(process.execPath, [...entry, ...args], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr?.on('data', (d: Buffer) => { out += d.toString(); });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, out: () => out, exited };
}

async function listeningUrl(p: ReturnType<typeof run>): Promise<string> {
  return within((async () => {
    for (;;) {
      const m = /listening on (http:\/\/127\.0\.0\.1:(\d+))/.exec(p.out());
      if (m) return m[1];
      if (p.child.exitCode !== null) throw new Error(`exited early: ${p.out()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  })(), 60_000, 'the listening line');
}

describe('service CLI', () => {
  it('the npm start launcher runs the bundled service, and a TypeScript card module still loads', async () => {
    const p = run(['--port', '0', '--data-dir', path.join(dir, 'd4'), '--guest-memory', '64', '--no-pcsc', '--readers', '1', '--card-module', 'examples/counter-card.ts', '--card', 'module:counter-card'], {}, true);
    try {
      const url = await listeningUrl(p);
      const readers = (await (await fetch(`${url}/v1/readers`, { signal: AbortSignal.timeout(10_000) })).json()) as { readers: { cardPresent: boolean; profile: string | null }[] };
      expect(readers.readers.map((r) => [r.cardPresent, r.profile])).toEqual([[true, 'counter-card'], [true, 'piv'], [true, 'openpgp']]);
      p.child.kill('SIGTERM');
      expect(await within(p.exited, 20_000, 'exit after SIGTERM')).toBe(0);
    } finally {
      p.child.kill('SIGKILL');
    }
  });

  it('starts on port 0, logs the real address, serves, warns about the published key, stops on SIGTERM', async () => {
    const p = run(['--port', '0', '--host', '127.0.0.1', '--data-dir', path.join(dir, 'd1'), '--guest-memory', '64']);
    try {
      const url = await within((async () => {
        for (;;) {
          const m = /listening on (http:\/\/127\.0\.0\.1:(\d+))/.exec(p.out());
          if (m) return m[1];
          if (p.child.exitCode !== null) throw new Error(`exited early: ${p.out()}`);
          await new Promise((r) => setTimeout(r, 50));
        }
      })(), 45_000, 'the listening line');
      expect(url).not.toMatch(/:0$/);
      const health = await fetch(`${url}/health`, { signal: AbortSignal.timeout(10_000) });
      expect(health.status).toBe(200);
      const readers = (await (await fetch(`${url}/v1/readers`, { signal: AbortSignal.timeout(10_000) })).json()) as { readers: { name: string; cardPresent: boolean; profile: string | null }[] };
      // Out of the box: the default card, an empty reader, then the PIV and OpenPGP cards in readers of their own.
      expect(readers.readers.map((r) => [r.cardPresent, r.profile])).toEqual([[true, 'default'], [false, null], [true, 'piv'], [true, 'openpgp']]);
      expect(readers.readers.slice(2).map((r) => r.name)).toEqual(['vscr PIV Reader 02 00', 'vscr OpenPGP Reader 03 00']);
      expect(p.out()).toMatch(/published default \\"secret\\"/);
      expect(p.out()).toContain(path.join(dir, 'd1', 'pcscd.comm'));
      p.child.kill('SIGTERM');
      expect(await within(p.exited, 20_000, 'exit after SIGTERM')).toBe(0);
      expect(p.out()).toMatch(/"msg":"stopped"/);
    } finally {
      p.child.kill('SIGKILL');
    }
  });

  it('refuses a non-loopback host without a token', async () => {
    const p = run(['--host', '0.0.0.0', '--port', '0', '--data-dir', path.join(dir, 'd2')]);
    expect(await within(p.exited, 30_000, 'exit')).toBe(1);
    expect(p.out()).toMatch(/refusing to bind to non-loopback host 0\.0\.0\.0 without a token/);
  });

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
