// Cards written in TypeScript: the example counter card is loaded by path (config cardModules), inserted at
// start-up and over REST, and answers APDUs through the reader stack; broken modules are refused clearly.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../../clients/cli/main.js';
import { startService, type RunningService } from '../../../service/service.js';
import { CardModuleError, loadCardModule } from '../../../smcard/sim/card-module.js';

const EXAMPLE = fileURLToPath(new URL('../../../examples/counter-card.ts', import.meta.url));
let svc: RunningService;
let dir: string;

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  try {
    return { code: await runCli([...args, '--url', svc.url]), out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'vscr-module-'));
  svc = await startService({ port: 0, dataDir: dir, logLevel: 'silent', pcsc: false, cardModules: [EXAMPLE], defaultCard: 'module:counter-card' });
});
afterAll(async () => {
  await svc?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('card modules', () => {
  it('the example counter card is in reader 0 from start-up and counts', async () => {
    const readers = svc.readers.list();
    expect(readers[0]).toMatchObject({ cardPresent: true, profile: 'counter-card' });
    const r = await cli('apdu', '0', '80 12 00 00', '00 A4 04 00 06 F0 76 73 63 72 02', '80 10 00 00', '80 10 00 05', '80 12 00 00', '--json');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('6985'); // GET before SELECT
    expect(r.out).toContain('000000019000');
    expect(r.out).toContain('000000069000');
  });

  it('is inserted over REST by name; an unknown name lists the loaded ones', async () => {
    const ok = await svc.app.inject({ method: 'POST', url: '/v1/readers/1/module', payload: { name: 'module:counter-card' } });
    expect(ok.statusCode, ok.body).toBe(201);
    // TS 3B, T0 85 (TD1, 5 historical bytes), TD1 01 (T=1), "count", TCK E7 (XOR of T0..historical).
    expect(ok.json()).toMatchObject({ reader: { cardPresent: true, profile: 'counter-card', atr: '3b8501636f756e74e7' } });
    const bad = await svc.app.inject({ method: 'POST', url: '/v1/readers/1/module?replace=true', payload: { name: 'module:nope' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'VSCR_ERR_UNKNOWN_PROFILE', message: 'no card profile "module:nope"; known profiles: module:counter-card' });
  });

  it('refuses modules without a card class, or with an incomplete one, naming what is missing', async () => {
    const noClass = path.join(dir, 'no-class.mjs');
    await writeFile(noClass, 'export const x = 1;\n');
    await expect(loadCardModule(noClass)).rejects.toThrow(new CardModuleError(noClass, 'must export a card class as default or as `Card`'));
    const partial = path.join(dir, 'partial.mjs');
    await writeFile(partial, 'export class Card { atr = Uint8Array.of(0x3b, 0x00); supportedProtocols = 1; profile = "p"; powered = false; async coldReset() {} }\n');
    await expect(loadCardModule(partial)).rejects.toThrow('card module ' + partial + ': `warmReset()` is missing (see smcard/card/contract.ts)');
    await expect(loadCardModule(path.join(dir, 'absent.ts'))).rejects.toThrow(/cannot be imported/);
  });
});

describe('OpenAPI', () => {
  it('documents every simulation route', async () => {
    const doc = (await svc.app.inject({ method: 'GET', url: '/docs/json' })).json<{ paths: Record<string, Record<string, unknown>> }>();
    const routes = Object.entries(doc.paths).flatMap(([p, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${p}`));
    for (const r of [
      'GET /v1/readers/{reader}/transcript',
      'DELETE /v1/readers/{reader}/transcript',
      'GET /v1/readers/{reader}/transcript/events',
      'POST /v1/readers/{reader}/script',
      'GET /v1/readers/{reader}/script/verdict',
      'POST /v1/readers/{reader}/replay',
      'POST /v1/readers/{reader}/module',
      'POST /v1/readers/{reader}/relay',
      'GET /v1/readers/{reader}/relay',
      'DELETE /v1/readers/{reader}/relay',
    ]) expect(routes).toContain(r);
  });
});
