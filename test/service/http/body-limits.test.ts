// Body limits against a device with a 1 MiB request limit: exactly the limit passes; one byte more gets 413
// whether the length is declared, the body is chunked, or the data came in JSON — and the service stays up.

import { createHash, randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectHealthy, json, startTestService, type TestService } from '../integration/harness.js';

const MiB = 1024 * 1024;
let svc: TestService;
beforeAll(async () => {
  svc = await startTestService({ readers: 0, defaultCard: null, jsonBodyLimit: 4 * MiB, devices: [{ keyString: 'secret', engine: 'native', guestMemoryMiB: 64, interruptMode: 'msi', maxRequestMiB: 1 }] });
});
afterAll(async () => {
  await svc?.close();
});

/** POSTs `body` (declared or chunked) and returns status + JSON, tolerating the server closing early. */
function post(body: Buffer, chunked: boolean, route = '/v1/devices/0/sha256'): Promise<{ status: number; body: Record<string, string> }> {
  return new Promise((resolve, reject) => {
    const url = new URL(`${svc.url}${route}`);
    const headers: Record<string, string> = { 'content-type': 'application/octet-stream', accept: 'application/json' };
    if (!chunked) headers['content-length'] = String(body.length);
    const req = httpRequest({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => { text += c.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, string> }));
    });
    req.setTimeout(20_000, () => req.destroy(new Error('timeout')));
    // The server may answer 413 and close before it has read everything: a write error then is expected.
    req.on('error', (err) => ((err as NodeJS.ErrnoException).code === 'EPIPE' || (err as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(err)));
    for (let i = 0; i < body.length; i += 64 * 1024) req.write(body.subarray(i, i + 64 * 1024));
    req.end();
  });
}

describe('body limits', () => {
  it('reports maxRequestBytes', async () => {
    expect((await json<{ devices: { maxRequestBytes: number }[] }>(svc.url, '/v1/devices')).body.devices[0].maxRequestBytes).toBe(MiB);
  });

  for (const chunked of [false, true]) {
    it(`${chunked ? 'chunked' : 'declared'}: the limit passes, one byte more is 413`, async () => {
      const ok = randomBytes(MiB);
      expect(await post(ok, chunked)).toEqual({ status: 200, body: { digest: createHash('sha256').update(ok).digest('hex') } });
      const over = await post(randomBytes(MiB + 1), chunked);
      expect(over.status).toBe(413);
      expect(over.body).toMatchObject({ error: 'Payload Too Large', code: 'VSCR_ERR_BODY_TOO_LARGE' });
      expect(over.body.message).toContain(String(MiB));
      await expectHealthy(svc.url);
    });
  }

  // Chunked bodies grow a guest buffer (first 256 KiB, doubled) and end in one of the exact length: sizes at and
  // around the growth steps, and odd chunk boundaries (the 64 KiB writes above do not divide these sizes).
  it('chunked bodies of any length around the growth steps hash and encrypt exactly', async () => {
    for (const size of [1, 65_537, 256 * 1024, 256 * 1024 + 1, 512 * 1024, 700 * 1024 + 13]) {
      const data = randomBytes(size);
      expect(await post(data, true), `sha256 of ${size} bytes`).toEqual({ status: 200, body: { digest: createHash('sha256').update(data).digest('hex') } });
    }
    // AES over a chunked body (JSON answer by Accept); decrypting it gives the data back, zero-padded to 16.
    const data = randomBytes(300_001);
    const enc = await post(data, true, '/v1/devices/0/aes-cbc/encrypt');
    expect(enc.status).toBe(200);
    expect(Buffer.from(enc.body.data, 'hex').length).toBe(300_016);
    const dec = await json<{ data: string }>(svc.url, '/v1/devices/0/aes-cbc/decrypt', { method: 'POST', json: { data: enc.body.data } });
    expect(dec.body.data).toBe(Buffer.concat([data, Buffer.alloc(15)]).toString('hex'));
  });

  it('JSON data that decodes to more than the device limit is 413', async () => {
    const res = await json(svc.url, '/v1/devices/0/sha256', { method: 'POST', json: { data: randomBytes(MiB + 1).toString('base64'), encoding: 'base64' } });
    expect(res).toMatchObject({ status: 413, body: { code: 'VSCR_ERR_BODY_TOO_LARGE' } });
    await expectHealthy(svc.url);
  });
});
