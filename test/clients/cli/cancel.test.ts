// Ctrl-C during an in-place encrypt, against a stand-in service that never answers the AES request: the CLI aborts
// the request, sends the device reset (as the original console's key press did), exits 130, and leaves the input
// file untouched with no temporary file behind.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliEnv, collect, spawnCli } from './harness.js';

let dir: string;
let server: Server;
let url: string;
const seen: string[] = [];
let onAesRequest: (() => void) | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vscr-cancel-'));
  server = createServer((req: IncomingMessage, res) => {
    seen.push(`${req.method} ${req.url}`);
    if (req.url === '/v1/devices/0/reset') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ state: 0, stateName: 'ReadyState', errorCode: 0, errorName: 'no error' }));
      return;
    }
    // The AES request: take the body, never answer (a device operation that runs until cancelled).
    req.resume();
    onAesRequest?.();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('Ctrl-C during encrypt', () => {
  it('resets the device, exits 130, and leaves the file as it was', async () => {
    const file = join(dir, 'keep.txt');
    const content = 'do not touch\n'.repeat(1000);
    await writeFile(file, content);
    const aesStarted = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the AES request never arrived')), 30_000);
      onAesRequest = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    const child = spawnCli(['encrypt', file], cliEnv(url));
    child.stdin.end();
    const done = collect(child, 45_000, ['encrypt']);
    await aesStarted;
    child.kill('SIGINT');
    const r = await done;
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toMatch(/Cancelled: resetting the device\.\.\.\nReset done\n/);
    expect(r.stdout).toBe('');
    expect(seen).toEqual(['POST /v1/devices/0/aes-cbc/encrypt', 'POST /v1/devices/0/reset']);
    expect(await readFile(file, 'utf8')).toBe(content);
    expect(await readdir(dir)).toEqual(['keep.txt']);
  });
});
