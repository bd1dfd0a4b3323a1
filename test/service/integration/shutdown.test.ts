// Graceful shutdown: close() completes with idle, half-sent, event-stream and WebSocket peers still connected
// and a GetStatusChange pending, flushes card state to the data dir, and stops listening; a hash whose body is
// still arriving when close() starts is completed, not cut.

import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect as netConnect, type Socket } from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CryptoDeviceCtrl } from '../../../crypto-device/lib/crypto-device-ctrl.js';
import { RpcClient, startTestService, within } from './harness.js';
import { READER1, establish } from './pcsc-helpers.js';
import { DECLARED_FIRST_CAPACITY } from '../../../service/http/raw-body.js';

describe('shutdown', () => {
  it('completes with stubborn peers, flushes cards, stops listening', async () => {
    // The half-sent request never finishes, so close() ends by cutting it after the grace period: a short one here.
    const svc = await startTestService({}, { timings: { shutdownGraceMs: 200 } });
    const url = new URL(svc.url);
    const sockets: Socket[] = [];
    const open = (bytes: string): Promise<Socket> => new Promise((resolve, reject) => {
      const s = netConnect({ host: url.hostname, port: Number(url.port) }, () => {
        if (bytes !== '') s.write(bytes);
        resolve(s);
      });
      s.on('error', () => undefined);
      s.once('error', reject);
      sockets.push(s);
    });
    try {
      await open('');
      await open('GET /health HTTP/1.1\r\nHost: x\r\n');
      const c = await RpcClient.connect(svc.url);
      const hContext = await establish(c);
      const pending = c.call('SCardGetStatusChange', { hContext, dwTimeout: 0xffffffff, rgReaderStates: [{ szReader: READER1, dwCurrentState: 0x10 }] }, 30_000);
      pending.catch(() => undefined);
      const wsClosed = new Promise<void>((resolve) => c.ws.once('close', () => resolve()));
      const sse = await fetch(`${svc.url}/v1/events`, { signal: AbortSignal.timeout(20_000) });
      const sseReader = sse.body!.getReader();
      expect((await sseReader.read()).done).toBe(false);
      const sseEnded = (async () => {
        for (;;) if ((await sseReader.read().catch(() => ({ done: true }))).done) return;
      })();

      // A fresh card writes its state file only when flushed, so the file appearing is shutdown's doing.
      const stateFile = path.join(svc.dataDir, 'cards', 'default.json');
      expect(existsSync(stateFile)).toBe(false);
      await within(svc.service.close(), 20_000, 'close() with stubborn peers');
      await within(wsClosed, 10_000, 'the WebSocket closed by the server');
      await within(sseEnded, 10_000, 'the event stream ended by the server');
      expect(existsSync(stateFile)).toBe(true);
      await expect(fetch(`${svc.url}/health`, { signal: AbortSignal.timeout(5000) })).rejects.toThrow();
    } finally {
      for (const s of sockets) s.destroy();
      await svc.close();
    }
  });

  it('a raw hash already in its handler when close() starts completes with the right digest', async () => {
    const svc = await startTestService({ readers: 0, defaultCard: null });
    try {
      const control = svc.service.devices[0];
      if (!(control instanceof CryptoDeviceCtrl)) throw new Error('expected the concrete device library');
      const space = control.addressSpace;
      const pagesBefore = space.mappedPageCount;
      const body = randomBytes(4 * 1024 * 1024);
      const url = new URL(`${svc.url}/v1/devices/0/sha256`);
      const req = httpRequest({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'content-type': 'application/octet-stream', 'content-length': String(body.length), connection: 'close' } });
      req.setTimeout(30_000, () => req.destroy(new Error('timeout')));
      const answer = new Promise<{ status: number; text: string }>((resolve, reject) => {
        req.on('response', (res) => {
          let text = '';
          res.on('data', (c: Buffer) => { text += c.toString(); });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        });
        req.on('error', reject);
      });
      // Connection: close, so the finished exchange leaves no idle keep-alive socket for the grace period to cut.
      req.write(body.subarray(0, 1024 * 1024));
      // The route reserves guest memory as bytes arrive (1 MiB first): mapped pages say the handler is running.
      await within((async () => {
        while (space.mappedPageCount < pagesBefore + DECLARED_FIRST_CAPACITY / 4096) await new Promise((r) => setTimeout(r, 5));
      })(), 20_000, 'the handler allocating the body buffer');
      const closing = svc.service.close();
      req.end(body.subarray(1024 * 1024));
      const res = await within(answer, 30_000, 'the in-flight answer');
      expect(res).toEqual({ status: 200, text: JSON.stringify({ digest: createHash('sha256').update(body).digest('hex') }) });
      await within(closing, 20_000, 'close() after the in-flight request');
    } finally {
      await svc.close();
    }
  });
});
