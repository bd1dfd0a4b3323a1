// The REST SDK over a mock transport and a raw local HTTP server: paths, headers, body forms, typed errors, closed
// state, the SSE decoder and the fetch transport's unreachable/abort mapping.
import { describe, expect, it } from 'vitest';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { VscrClient } from '../../../clients/sdk/client.js';
import {
  VscrAbortedError, VscrArgumentError, VscrClientClosedError, VscrHttpError, VscrProtocolError, VscrUnreachableError, isVscrError,
} from '../../../clients/sdk/errors.js';
import { SseDecoder } from '../../../clients/sdk/sse.js';
import { fromHex, toHex } from '../../../clients/sdk/hex.js';
import { mockHttp } from '../mock-transport.js';

describe('SseDecoder', () => {
  it('decodes events split at any byte boundary', () => {
    const text = ': hello\n\nevent: reader\ndata: {"type":"card-inserted","reader":0}\nid: 4\n\r\nevent: device\r\ndata: {"type":"reset"}\r\n\r\ndata: a\ndata: b\n\n';
    for (let split = 0; split <= text.length; split++) {
      const d = new SseDecoder();
      const out = [...d.push(text.slice(0, split)), ...d.push(text.slice(split))];
      expect(out).toEqual([
        { event: 'reader', data: '{"type":"card-inserted","reader":0}', id: '4' },
        { event: 'device', data: '{"type":"reset"}', id: '4' },
        { event: 'message', data: 'a\nb', id: '4' },
      ]);
    }
  });
});

describe('hex', () => {
  it('round-trips and rejects bad input', () => {
    expect(toHex(Uint8Array.of(0, 0xab, 0xff))).toBe('00abff');
    expect(fromHex('00 A4:04')).toEqual(Uint8Array.of(0, 0xa4, 4));
    expect(() => fromHex('abc')).toThrow(RangeError);
    expect(() => fromHex('zz')).toThrow(RangeError);
  });
});

describe('VscrClient over a mock transport', () => {
  it('builds each route with the right method, path, headers and body', async () => {
    const t = mockHttp(async (req) => {
      if (req.path.endsWith('/sha256')) return { status: 200, body: '{"digest":"ab"}' };
      if (req.path.includes('/aes-cbc/')) return { status: 200, body: Uint8Array.of(1, 2, 3) };
      if (req.method === 'DELETE' && req.path === '/v1/readers/1') return { status: 204 };
      if (req.path.includes('/trace') && req.headers.accept === 'text/plain') return { status: 200, body: 'IOCTL...' };
      if (req.path.includes('/trace')) return { status: 200, body: '{"entries":[{"ioctl":"X"}]}' };
      if (req.path.includes('/readers')) return { status: 200, body: '{"reader":{"index":0},"readers":[]}' };
      if (req.path === '/v1/devices') return { status: 200, body: '{"devices":[]}' };
      return { status: 200, body: '{"state":0}' };
    });
    const c = new VscrClient({ transport: t, token: 'tok' });
    await c.health();
    expect(await c.metrics()).toBe('{"state":0}');
    await c.openApi();
    await c.devices();
    await c.deviceStatus(2);
    await c.resetDevice(0);
    expect(await c.sha256(0, Uint8Array.of(1))).toBe('ab');
    expect(await c.encrypt(0, Uint8Array.of(1))).toEqual(Uint8Array.of(1, 2, 3));
    expect(await c.decrypt(0, Readable.from([Buffer.from('x')]))).toEqual(Uint8Array.of(1, 2, 3));
    await c.readers();
    await c.addReader({ variant: 'forum-broken' });
    await c.removeReader(1);
    await c.insertCard('vscr Virtual Reader 00 00', 'default');
    await c.insertCard(0);
    await c.removeCard(0);
    expect(await c.trace(0)).toEqual([{ ioctl: 'X' }]);
    expect(await c.traceText(0)).toBe('IOCTL...');
    expect(t.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /health', 'GET /metrics', 'GET /docs/json', 'GET /v1/devices', 'GET /v1/devices/2/status', 'POST /v1/devices/0/reset',
      'POST /v1/devices/0/sha256', 'POST /v1/devices/0/aes-cbc/encrypt', 'POST /v1/devices/0/aes-cbc/decrypt',
      'GET /v1/readers', 'POST /v1/readers', 'DELETE /v1/readers/1',
      'POST /v1/readers/vscr%20Virtual%20Reader%2000%2000/card', 'POST /v1/readers/0/card', 'DELETE /v1/readers/0/card',
      'GET /v1/readers/0/trace', 'GET /v1/readers/0/trace',
    ]);
    expect(t.requests.every((r) => r.headers.authorization === 'Bearer tok')).toBe(true);
    expect(t.requests[1].headers.accept).toBe('text/plain');
    expect(t.requests[6].headers['content-type']).toBe('application/octet-stream');
    expect(t.requests[10]).toMatchObject({ body: '{"variant":"forum-broken"}', headers: { 'content-type': 'application/json' } });
    expect(t.requests[12].body).toBe('{"profile":"default"}');
    expect(t.requests[13].body).toBe('{}');
  });

  it('turns the error body into VscrHttpError with code, ntstatus and scard', async () => {
    const t = mockHttp(async () => ({ status: 502, body: JSON.stringify({ error: 'Bad Gateway', code: 'VSCR_ERR_DEVICE_DATA_ERROR', message: 'reset it', ntstatus: 'STATUS_DEVICE_DATA_ERROR' }) }));
    const err = await new VscrClient({ transport: t }).deviceStatus(0).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VscrHttpError);
    expect(err).toMatchObject({ status: 502, code: 'VSCR_ERR_DEVICE_DATA_ERROR', ntstatus: 'STATUS_DEVICE_DATA_ERROR', scard: undefined, message: 'reset it' });
    const t3 = mockHttp(async () => ({ status: 409, body: JSON.stringify({ error: 'Conflict', code: 'VSCR_ERR_SHARING', message: 'disconnect first', scard: 'SCARD_E_SHARING_VIOLATION' }) }));
    await expect(new VscrClient({ transport: t3 }).removeCard(0)).rejects.toMatchObject({ status: 409, code: 'VSCR_ERR_SHARING', scard: 'SCARD_E_SHARING_VIOLATION', ntstatus: undefined });
    const t2 = mockHttp(async () => ({ status: 500, body: 'oops' }));
    await expect(new VscrClient({ transport: t2 }).health()).rejects.toMatchObject({ code: 'VSCR_ERR_HTTP_500', status: 500 });
  });

  it('rejects malformed success bodies and bad arguments with typed errors', async () => {
    const c = new VscrClient({ transport: mockHttp(async () => ({ status: 200, body: '<html>' })) });
    await expect(c.health()).rejects.toBeInstanceOf(VscrProtocolError);
    await expect(c.deviceStatus(-1)).rejects.toBeInstanceOf(VscrArgumentError);
    await expect(c.removeCard('')).rejects.toBeInstanceOf(VscrArgumentError);
  });

  it('refuses calls after close()', async () => {
    const c = new VscrClient({ transport: mockHttp(async () => ({ status: 200, body: '{}' })) });
    await c.close();
    const err = await c.health().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VscrClientClosedError);
    expect(isVscrError(err)).toBe(true);
  });
});

describe('VscrClient over the fetch transport', () => {
  async function withServer(handler: Parameters<typeof createServer>[1], run: (url: string) => Promise<void>) {
    const server = createServer(handler);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      await run(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  }

  it('maps a refused connection to VscrUnreachableError', async () => {
    // A port that was just free: listen on 0, note it, close it.
    const s = createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const port = (s.address() as AddressInfo).port;
    await new Promise((r) => s.close(r));
    const err = await new VscrClient({ url: `http://127.0.0.1:${port}` }).health().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VscrUnreachableError);
    expect(err).toMatchObject({ code: 'VSCR_ERR_UNREACHABLE' });
    expect((err as Error).message).toMatch(/ECONNREFUSED/);
  });

  it('streams an upload from a Node Readable and reads a streamed response', async () => {
    await withServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        res.end(Buffer.concat(chunks).reverse());
      });
    }, async (url) => {
      const c = new VscrClient({ url });
      const body = Readable.from((function* () { for (let i = 0; i < 64; i++) yield Buffer.alloc(1024, i); })());
      const out = await c.encrypt(0, body);
      expect(out.length).toBe(65536);
      expect(out[0]).toBe(63);
      expect(out[65535]).toBe(0);
    });
  });

  it('an AbortSignal aborts a request in flight; close() aborts with VscrClientClosedError', async () => {
    await withServer(() => { /* never answers */ }, async (url) => {
      const c = new VscrClient({ url });
      const ac = new AbortController();
      const p = c.health({ signal: ac.signal });
      setTimeout(() => ac.abort(), 20);
      await expect(p).rejects.toBeInstanceOf(VscrAbortedError);
      const q = c.health();
      setTimeout(() => void c.close(), 20);
      await expect(q).rejects.toBeInstanceOf(VscrClientClosedError);
    });
  });

  it('events() yields parsed server-sent events and ends on break', async () => {
    await withServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('event: reader\ndata: {"type":"card-inserted","reader":1}\n\n');
      res.write('event: device\ndata: {"type":"reset","device":0}\n\n');
    }, async (url) => {
      const c = new VscrClient({ url });
      const seen: unknown[] = [];
      for await (const e of c.events()) {
        seen.push(e);
        if (seen.length === 2) break;
      }
      expect(seen).toEqual([
        { event: 'reader', data: { type: 'card-inserted', reader: 1 } },
        { event: 'device', data: { type: 'reset', device: 0 } },
      ]);
      await c.close();
    });
  });
});
