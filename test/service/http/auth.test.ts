// Bearer token: required on every route but /health and /docs when configured; 401 in the error shape.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, json, openEvents, RpcClient, startTestService, type TestService } from '../integration/harness.js';

const TOKEN = 'test-token-1234';
let svc: TestService;

beforeAll(async () => {
  svc = await startTestService({ token: TOKEN, readers: 1 });
});
afterAll(async () => {
  await svc?.close();
});

describe('token', () => {
  it('401 without or with a wrong token, in the error shape', async () => {
    for (const headers of [{}, { authorization: 'Bearer wrong-token' }, { authorization: 'Basic abc' }] as Record<string, string>[]) {
      const res = await json(svc.url, '/v1/devices', { headers });
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ error: 'Unauthorized', code: 'VSCR_ERR_UNAUTHORIZED', message: expect.any(String) });
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
    }
  });

  it('accepts the bearer token (and ?access_token for EventSource/WebSocket clients)', async () => {
    expect((await http(svc.url, '/v1/devices', { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    expect((await http(svc.url, `/v1/readers?access_token=${TOKEN}`)).status).toBe(200);
    const events = await openEvents(svc.url, { authorization: `Bearer ${TOKEN}` });
    events.close();
  });

  it('guards the WebSocket upgrade', async () => {
    await expect(RpcClient.connect(svc.url)).rejects.toThrow(/401/);
    const c = await RpcClient.connect(svc.url, { authorization: `Bearer ${TOKEN}` });
    await c.close();
  });

  it('leaves /health and /docs open', async () => {
    expect((await http(svc.url, '/health')).status).toBe(200);
    expect((await http(svc.url, '/docs/json')).status).toBe(200);
  });
});

describe('secrets stay out of logs and answers', () => {
  it('the key string and token never appear, even at trace level', async () => {
    const { Writable } = await import('node:stream');
    let log = '';
    const sink = new Writable({ write(chunk: Buffer, _enc, cb) { log += chunk.toString(); cb(); } });
    const key = 'KEY-STRING-XYZZY';
    const s = await startTestService({ token: TOKEN, logLevel: 'trace', readers: 1, devices: [{ keyString: key, engine: 'native', guestMemoryMiB: 64, interruptMode: 'msi' }] }, { logStream: sink });
    try {
      const auth = { authorization: `Bearer ${TOKEN}` };
      const answers = [
        await (await http(s.url, '/v1/devices', { headers: auth })).text(),
        await (await http(s.url, `/v1/readers?access_token=${TOKEN}`)).text(),
        await (await http(s.url, '/v1/devices/0/sha256', { method: 'POST', json: { data: '00' }, headers: auth })).text(),
        await (await http(s.url, '/metrics', { headers: auth })).text(),
        await (await http(s.url, '/docs/json')).text(),
      ];
      for (const a of answers) {
        expect(a).not.toContain(key);
        expect(a).not.toContain(TOKEN);
      }
    } finally {
      await s.close();
    }
    expect(log.length).toBeGreaterThan(0);
    expect(log).toContain('listening on');
    expect(log).not.toContain(key);
    expect(log).not.toContain(TOKEN);
  });
});
