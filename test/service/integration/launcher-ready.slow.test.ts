// `npm start`'s launcher (bin/vscr-service.js, the cached bundle) as a real process: the moment its "listening"
// line is printed, every front door answers at once — REST, /docs (swagger), the panel and its vendored files,
// JSON-RPC over WebSocket and the pcsc-lite socket, with the start-up cards inserted. Start-up loads the HTTP
// app's modules and makes the cards while the device worker boots; none of that may finish after the line.

import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WireClient } from '../pcsclite/wire-client.js';
import { http, json, RpcClient, within } from './harness.js';

const root = path.resolve(import.meta.dirname, '../../..');
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'vscr-ready-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Listening { url: string; pcscSocket: string }

describe('npm start launcher', () => {
  it('serves every route, /docs, the panel, JSON-RPC and the pcsc-lite socket as soon as it logs "listening"', async () => {
    const child = spawn(process.execPath, ['bin/vscr-service.js', '--port', '0', '--data-dir', dir, '--guest-memory', '64'], {
      cwd: root,
      env: { ...process.env, VSCR_LOG_FORMAT: 'json' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      // Resolved from the data handler itself, so the requests below leave at the moment the line arrives.
      const listening = await within(new Promise<Listening>((resolve, reject) => {
        let pending = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          pending += d.toString();
          for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
            const line = pending.slice(0, nl);
            pending = pending.slice(nl + 1);
            if (line.includes('"msg":"listening on ')) resolve(JSON.parse(line) as Listening);
          }
        });
        child.once('exit', (code) => reject(new Error(`exited ${code} before listening: ${out}`)));
      }), 60_000, 'the listening line');
      const base = listening.url;

      const [readers, docsJson, docs, panel, uplot, rpcReaders, pcsc] = await Promise.all([
        json<{ readers: { name: string; cardPresent: boolean; profile: string | null }[] }>(base, '/v1/readers'),
        json<{ openapi: string; paths: Record<string, unknown> }>(base, '/docs/json'),
        http(base, '/docs'),
        http(base, '/'),
        http(base, '/panel/vendor/uplot/uPlot.min.css'),
        (async () => {
          const c = await RpcClient.connect(base);
          try {
            const { hContext } = await c.result('SCardEstablishContext', { dwScope: 2 });
            return await c.result('SCardListReaders', { hContext });
          } finally {
            await c.close();
          }
        })(),
        (async () => {
          const c = await WireClient.open(listening.pcscSocket);
          try {
            const hContext = await c.context();
            const connected = await c.connect(hContext, 'vscr PIV Reader 02 00');
            const select = await c.transmit(connected.hCard, Buffer.from('00a404000ba000000308000010000100', 'hex'));
            return { connectRv: connected.rv, transmitRv: select.rv, sw: Buffer.from(select.data.subarray(-2)).toString('hex') };
          } finally {
            c.destroy();
          }
        })(),
      ]);

      expect(readers.status).toBe(200);
      expect(readers.body.readers.map((r) => [r.name, r.cardPresent, r.profile])).toEqual([
        ['vscr Virtual Reader 00 00', true, 'default'],
        ['vscr Virtual Reader 01 00', false, null],
        ['vscr PIV Reader 02 00', true, 'piv'],
        ['vscr OpenPGP Reader 03 00', true, 'openpgp'],
      ]);
      expect(docsJson.status).toBe(200);
      expect(docsJson.body.openapi).toBe('3.0.3');
      expect(Object.keys(docsJson.body.paths)).toEqual(expect.arrayContaining(['/v1/readers', '/v1/devices/{id}/sha256', '/health']));
      expect([docs.status, docs.headers.get('content-type')]).toEqual([200, 'text/html; charset=utf-8']);
      expect([panel.status, panel.headers.get('content-type')]).toEqual([200, 'text/html; charset=utf-8']);
      expect(await panel.text()).toContain('/panel/vendor/uplot/uPlot.min.css');
      expect([uplot.status, uplot.headers.get('content-type')]).toEqual([200, 'text/css; charset=utf-8']);
      expect(rpcReaders).toEqual({ rv: 0, mszReaders: readers.body.readers.map((r) => r.name) });
      expect(pcsc).toEqual({ connectRv: 0, transmitRv: 0, sw: '9000' });

      child.kill('SIGTERM');
      expect(await within(exited, 20_000, 'exit after SIGTERM')).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
