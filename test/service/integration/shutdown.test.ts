// Graceful shutdown: close() completes with idle, half-sent, event-stream and WebSocket peers still connected
// and a GetStatusChange pending, flushes card state to the data dir, and stops listening.

import { existsSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RpcClient, startTestService, within } from './harness.js';
import { READER1, establish } from './pcsc-helpers.js';

describe('shutdown', () => {
  it('completes with stubborn peers, flushes cards, stops listening', async () => {
    const svc = await startTestService();
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
});
