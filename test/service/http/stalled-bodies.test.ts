// Stalled and trickling raw bodies: a declared Content-Length reserves guest memory only as bytes arrive, so
// uploads that stall cannot starve other requests; a body that does not arrive in full in time gets 408.

import { createHash, randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, startTestService, within, type TestService } from '../integration/harness.js';

const MiB = 1024 * 1024;

/** A raw HTTP client: sends the head and `first` body bytes, then whatever the test writes; collects the reply. */
async function openUpload(base: string, declared: number, first: Buffer): Promise<{ socket: Socket; reply: () => string; closed: Promise<void> }> {
  const url = new URL(base);
  const socket = connect(Number(url.port), url.hostname);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let text = '';
  socket.on('data', (c: Buffer) => { text += c.toString('latin1'); });
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.write(`POST /v1/devices/0/sha256 HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nAccept: application/json\r\nContent-Length: ${declared}\r\n\r\n`);
  socket.write(first);
  return { socket, reply: () => text, closed };
}

function postRaw(base: string, body: Buffer): Promise<{ status: number; body: Record<string, string> }> {
  return json(base, '/v1/devices/0/sha256', { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body });
}

describe('stalled uploads', () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService({ readers: 0, defaultCard: null, devices: [{ keyString: 'secret', engine: 'native', guestMemoryMiB: 64, interruptMode: 'msi', maxRequestMiB: 32 }] });
  });
  afterAll(async () => {
    await svc?.close();
  });

  it('15 uploads declaring 32 MiB of a 64 MiB guest and stalling: others still get memory for a full 32 MiB body', async () => {
    const stalled = await Promise.all(Array.from({ length: 15 }, () => openUpload(svc.url, 32 * MiB, Buffer.alloc(100, 1))));
    try {
      // Each stalled request has reached its handler once the server answers requests sent after them.
      for (let i = 0; i < 3; i++) expect((await json(svc.url, '/health')).status).toBe(200);
      const big = randomBytes(32 * MiB);
      const r = await postRaw(svc.url, big);
      expect(r.status).toBe(200);
      expect(r.body.digest).toBe(createHash('sha256').update(big).digest('hex'));
      const small = await postRaw(svc.url, Buffer.from('abc'));
      expect(small.body.digest).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
      // No stalled upload was refused either: they are all still waiting for their bytes.
      expect(stalled.map((s) => s.reply())).toEqual(stalled.map(() => ''));
    } finally {
      for (const s of stalled) s.socket.destroy();
    }
  });
});

describe('trickling bodies', () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService({ readers: 0, defaultCard: null, httpRequestTimeoutMs: 600, devices: [{ keyString: 'secret', engine: 'native', guestMemoryMiB: 64, interruptMode: 'msi', maxRequestMiB: 32 }] });
  });
  afterAll(async () => {
    await svc?.close();
  });

  it('a body that keeps trickling past the request timeout gets 408 VSCR_ERR_REQUEST_TIMEOUT and is closed', async () => {
    const uploads = await Promise.all(Array.from({ length: 10 }, () => openUpload(svc.url, MiB, Buffer.alloc(10))));
    // One byte every 50 ms: never idle long enough for an idle timeout, never done.
    const trickle = setInterval(() => {
      for (const u of uploads) if (!u.socket.destroyed) u.socket.write(Buffer.alloc(1));
    }, 50);
    try {
      await within(Promise.all(uploads.map((u) => u.closed)), 15_000, 'every trickling upload closed by the server');
    } finally {
      clearInterval(trickle);
    }
    for (const u of uploads) {
      const [head, body] = u.reply().split('\r\n\r\n');
      expect(head).toMatch(/^HTTP\/1\.1 408 /);
      expect(JSON.parse(body)).toMatchObject({ error: 'Request Timeout', code: 'VSCR_ERR_REQUEST_TIMEOUT' });
    }
    // The service is fine (a full-size body would itself take longer than this test's 600 ms to send).
    expect((await postRaw(svc.url, Buffer.from('abc'))).body.digest).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});
