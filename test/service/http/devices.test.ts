// REST device routes over real HTTP: known answers (raw and JSON), Accept negotiation, round trips, a 16 MiB
// streamed body, status/reset, and the error answers for bad input — each followed by a health check.

import { createHash, randomBytes } from 'node:crypto';
import { STATUS_CODES, request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AES_123, SHA256_123, expectHealthy, http, json, startTestService, type TestService } from '../integration/harness.js';

let svc: TestService;
let base: string;

beforeAll(async () => {
  svc = await startTestService({ readers: 0, defaultCard: null });
  base = svc.url;
});
afterAll(async () => {
  await svc?.close();
});

const raw = (route: string, body: Uint8Array, headers: Record<string, string> = {}): Promise<Response> =>
  http(base, route, { method: 'POST', body, headers: { 'content-type': 'application/octet-stream', ...headers } });

describe('devices', () => {
  it('GET /v1/devices lists the device with PCI ids and state', async () => {
    const { status, body } = await json<{ devices: Record<string, unknown>[] }>(base, '/v1/devices');
    expect(status).toBe(200);
    expect(body.devices).toHaveLength(1);
    expect(body.devices[0]).toMatchObject({ id: 0, vendorId: 0x1111, deviceId: 0x2222, revision: 0, engine: 'native', interruptMode: 'msi-multi', guestMemoryBytes: 256 * 1024 * 1024, state: 0, stateName: 'ReadyState', errorCode: 0, errorName: 'no error' });
    expect(JSON.stringify(body)).not.toContain('secret');
  });

  it('status and reset answer the register shape', async () => {
    const s = await json(base, '/v1/devices/0/status');
    expect(s).toMatchObject({ status: 200, body: { state: 0, stateName: 'ReadyState', errorCode: 0, errorName: 'no error' } });
    const r = await json(base, '/v1/devices/0/reset', { method: 'POST' });
    expect(r).toMatchObject({ status: 200, body: { state: 0, stateName: 'ReadyState', errorCode: 0, errorName: 'no error' } });
  });
});

describe('sha256', () => {
  it('raw body → JSON digest (known answer)', async () => {
    const { status, body } = await json(base, '/v1/devices/0/sha256', { method: 'POST', body: Buffer.from('123'), headers: { 'content-type': 'application/octet-stream' } });
    expect(status).toBe(200);
    expect(body).toEqual({ digest: SHA256_123 });
  });

  it('JSON body in every encoding', async () => {
    for (const [data, encoding] of [['123', 'utf8'], ['313233', 'hex'], ['MTIz', 'base64']] as const) {
      const { status, body } = await json(base, '/v1/devices/0/sha256', { method: 'POST', json: { data, encoding } });
      expect(status, encoding).toBe(200);
      expect(body, encoding).toEqual({ digest: SHA256_123 });
    }
    // hex is the default encoding
    expect((await json(base, '/v1/devices/0/sha256', { method: 'POST', json: { data: '313233' } })).body).toEqual({ digest: SHA256_123 });
  });

  it('Accept: application/octet-stream answers 32 raw bytes', async () => {
    const res = await raw('/v1/devices/0/sha256', Buffer.from('123'), { accept: 'application/octet-stream' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/octet-stream/);
    expect(Buffer.from(await res.arrayBuffer()).toString('hex')).toBe(SHA256_123);
  });

  it('empty body hashes to e3b0…', async () => {
    const { body } = await json(base, '/v1/devices/0/sha256', { method: 'POST', body: new Uint8Array(0), headers: { 'content-type': 'application/octet-stream' } });
    expect(body).toEqual({ digest: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' });
  });

  it('streams a 16 MiB raw body into guest memory', async () => {
    const data = randomBytes(16 * 1024 * 1024);
    const { status, body } = await json(base, '/v1/devices/0/sha256', { method: 'POST', body: data, headers: { 'content-type': 'application/octet-stream' } });
    expect(status).toBe(200);
    expect(body).toEqual({ digest: createHash('sha256').update(data).digest('hex') });
  });

  it('a chunked raw body (no Content-Length) hashes the same', async () => {
    const data = randomBytes(300_000);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < data.length; i += 65536) controller.enqueue(data.subarray(i, i + 65536));
        controller.close();
      },
    });
    const res = await fetch(`${base}/v1/devices/0/sha256`, { method: 'POST', body: stream, headers: { 'content-type': 'application/octet-stream' }, duplex: 'half', signal: AbortSignal.timeout(20_000) } as RequestInit);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ digest: createHash('sha256').update(data).digest('hex') });
  });
});

describe('aes-cbc', () => {
  it('JSON encrypt of "123" with key "secret" (known answer) and decrypt back', async () => {
    const enc = await json<{ data: string }>(base, '/v1/devices/0/aes-cbc/encrypt', { method: 'POST', json: { data: '123', encoding: 'utf8' } });
    expect(enc).toMatchObject({ status: 200, body: { data: AES_123 } });
    const dec = await json<{ data: string }>(base, '/v1/devices/0/aes-cbc/decrypt', { method: 'POST', json: { data: AES_123 } });
    expect(dec).toMatchObject({ status: 200, body: { data: '31323300000000000000000000000000' } });
  });

  it('raw in → raw out, and Accept: application/json turns it into JSON', async () => {
    const res = await raw('/v1/devices/0/aes-cbc/encrypt', Buffer.from('123'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/octet-stream/);
    expect(Buffer.from(await res.arrayBuffer()).toString('hex')).toBe(AES_123);
    const j = await json(base, '/v1/devices/0/aes-cbc/encrypt', { method: 'POST', body: Buffer.from('123'), headers: { 'content-type': 'application/octet-stream', accept: 'application/json' } });
    expect(j.body).toEqual({ data: AES_123 });
  });

  it('raw round trip of 1 MiB + 5 bytes (zero padding, output roundup16)', async () => {
    const data = randomBytes(1024 * 1024 + 5);
    const enc = Buffer.from(await (await raw('/v1/devices/0/aes-cbc/encrypt', data)).arrayBuffer());
    expect(enc.length).toBe(1024 * 1024 + 16);
    const dec = Buffer.from(await (await raw('/v1/devices/0/aes-cbc/decrypt', enc)).arrayBuffer());
    expect(dec.subarray(0, data.length).equals(data)).toBe(true);
    expect(dec.subarray(data.length).equals(Buffer.alloc(11))).toBe(true);
  });
});

describe('bad input: right error, service still healthy', () => {
  const cases: [string, () => Promise<Response>, number, string][] = [
    ['bad JSON', () => http(base, '/v1/devices/0/sha256', { method: 'POST', body: '{"data": ', headers: { 'content-type': 'application/json' } }), 400, 'VSCR_ERR_BAD_JSON'],
    ['bad hex', () => http(base, '/v1/devices/0/sha256', { method: 'POST', json: { data: 'zz12', encoding: 'hex' } }), 400, 'VSCR_ERR_BAD_HEX'],
    ['odd hex', () => http(base, '/v1/devices/0/sha256', { method: 'POST', json: { data: 'abc' } }), 400, 'VSCR_ERR_BAD_HEX'],
    ['bad base64', () => http(base, '/v1/devices/0/sha256', { method: 'POST', json: { data: '!!!', encoding: 'base64' } }), 400, 'VSCR_ERR_BAD_BASE64'],
    ['missing data', () => http(base, '/v1/devices/0/sha256', { method: 'POST', json: { encoding: 'hex' } }), 400, 'VSCR_ERR_VALIDATION'],
    ['unknown encoding', () => http(base, '/v1/devices/0/sha256', { method: 'POST', json: { data: '00', encoding: 'rot13' } }), 400, 'VSCR_ERR_VALIDATION'],
    ['empty AES input', () => http(base, '/v1/devices/0/aes-cbc/encrypt', { method: 'POST', json: { data: '' } }), 400, 'VSCR_ERR_EMPTY_INPUT'],
    ['oversize JSON', () => http(base, '/v1/devices/0/sha256', { method: 'POST', json: { data: 'ab'.repeat(600_000) } }), 413, 'VSCR_ERR_BODY_TOO_LARGE'],
    ['text/plain body', () => http(base, '/v1/devices/0/sha256', { method: 'POST', body: '123', headers: { 'content-type': 'text/plain' } }), 415, 'VSCR_ERR_UNSUPPORTED_MEDIA_TYPE'],
    ['unknown device', () => http(base, '/v1/devices/7/status'), 404, 'VSCR_ERR_UNKNOWN_DEVICE'],
    ['non-numeric device', () => http(base, '/v1/devices/abc/sha256', { method: 'POST', json: { data: '00' } }), 404, 'VSCR_ERR_UNKNOWN_DEVICE'],
    ['unknown route', () => http(base, '/v1/nope'), 404, 'VSCR_ERR_NOT_FOUND'],
    ['plain GET on the WebSocket endpoint', () => http(base, '/v1/pcsc'), 426, 'VSCR_ERR_UPGRADE_REQUIRED'],
    ['unacceptable Accept', () => http(base, '/v1/devices/0/sha256', { method: 'POST', json: { data: '00' }, headers: { accept: 'image/png' } }), 406, 'VSCR_ERR_NOT_ACCEPTABLE'],
  ];
  for (const [name, send, status, code] of cases) {
    it(`${name} → ${status} ${code}`, async () => {
      const res = await send();
      expect(res.status).toBe(status);
      const body = (await res.json()) as Record<string, string>;
      expect(body.code).toBe(code);
      expect(body.error).toBe(STATUS_CODES[status]);
      expect(body.message.length).toBeGreaterThan(0);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      await expectHealthy(base);
    });
  }

  it('a raw body declared over maxRequestBytes → 413 before it is read, connection closed', async () => {
    const devices = await json<{ devices: { maxRequestBytes: number }[] }>(base, '/v1/devices');
    const limit = devices.body.devices[0].maxRequestBytes;
    const answer = await new Promise<{ status: number; body: string; connection: string | undefined }>((resolve, reject) => {
      const url = new URL(`${base}/v1/devices/0/sha256`);
      const req = httpRequest({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'content-type': 'application/octet-stream', 'content-length': String(limit + 1) } }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => { text += c.toString(); });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, connection: res.headers.connection }));
      });
      req.on('error', reject);
      req.setTimeout(20_000, () => req.destroy(new Error('timeout')));
      req.write(Buffer.alloc(1024));
    });
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toMatchObject({ error: 'Payload Too Large', code: 'VSCR_ERR_BODY_TOO_LARGE' });
    expect(answer.connection).toBe('close');
    await expectHealthy(base);
  });

  it('a raw body cut short → the service survives', async () => {
    await new Promise<void>((resolve) => {
      const url = new URL(`${base}/v1/devices/0/sha256`);
      const req = httpRequest({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'content-type': 'application/octet-stream', 'content-length': '100000' } });
      req.on('error', () => resolve());
      req.write(Buffer.alloc(5000), () => setTimeout(() => { req.destroy(); resolve(); }, 50));
    });
    await expectHealthy(base);
    expect((await json(base, '/v1/devices/0/sha256', { method: 'POST', json: { data: '123', encoding: 'utf8' } })).body).toEqual({ digest: SHA256_123 });
  });
});

describe('service routes', () => {
  it('GET /health', async () => {
    const { status, body } = await json(base, '/health');
    expect(status).toBe(200);
    expect(body).toMatchObject({ status: 'ok', version: expect.any(String), node: process.version });
    expect(typeof body.uptimeSeconds).toBe('number');
  });

  it('GET /docs/json is an OpenAPI document with every route', async () => {
    const { status, body } = await json<{ openapi: string; paths: Record<string, unknown> }>(base, '/docs/json');
    expect(status).toBe(200);
    expect(body.openapi).toMatch(/^3\./);
    for (const p of ['/health', '/metrics', '/v1/devices', '/v1/devices/{id}/status', '/v1/devices/{id}/reset', '/v1/devices/{id}/sha256', '/v1/devices/{id}/aes-cbc/encrypt', '/v1/devices/{id}/aes-cbc/decrypt', '/v1/readers', '/v1/readers/{reader}', '/v1/readers/{reader}/card', '/v1/readers/{reader}/trace', '/v1/events', '/v1/pcsc']) {
      expect(Object.keys(body.paths), p).toContain(p);
    }
    // STYLE 11: every operation declares its success answer and the shared error shape for 4xx and 5xx.
    for (const [p, ops] of Object.entries(body.paths as Record<string, Record<string, { responses?: Record<string, unknown> }>>)) {
      if (p.startsWith('/docs')) continue;
      for (const [method, op] of Object.entries(ops)) {
        const codes = Object.keys(op.responses ?? {});
        expect(codes.some((c) => /^(1|2)\d\d$/.test(c)), `${method} ${p} success`).toBe(true);
        expect(codes, `${method} ${p} errors`).toEqual(expect.arrayContaining(['4XX', '5XX']));
      }
    }
    expect((await http(base, '/docs')).status).toBeLessThan(400);
  });

  it('GET /metrics is Prometheus text with request and device counters', async () => {
    const res = await http(base, '/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toMatch(/# TYPE vscr_http_requests_total counter/);
    expect(text).toMatch(/vscr_device_operations_total\{caller="http",device="0",op="sha256"\} \d+/);
    expect(text).toMatch(/vscr_device_bytes_total\{device="0",op="sha256"\} \d+/);
    expect(text).toMatch(/vscr_http_rejected_requests_total\{status="400"\} \d+/);
    expect(text).toMatch(/^vscr_readers 0$/m);
  });
});
