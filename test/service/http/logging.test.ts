// Logging: client mistakes at info with their code, the periodic count of rejected requests, JSON lines.

import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, startTestService, within, type TestService } from '../integration/harness.js';

let svc: TestService;
let log = '';
const lines = (): Record<string, unknown>[] => log.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Record<string, unknown>);

beforeAll(async () => {
  const sink = new Writable({ write(chunk: Buffer, _enc, cb) { log += chunk.toString(); cb(); } });
  svc = await startTestService({ logLevel: 'info', readers: 0, defaultCard: null, badRequestLogIntervalMs: 100 }, { logStream: sink });
});
afterAll(async () => {
  await svc?.close();
});

describe('logging', () => {
  it('logs 4xx at info with the code, and a periodic count of rejected requests', async () => {
    await http(svc.url, '/v1/devices/0/sha256', { method: 'POST', json: { data: 'xyz' } });
    await http(svc.url, '/v1/devices/9/status');
    await http(svc.url, '/v1/nowhere');
    const rejected = lines().filter((l) => l.msg === 'request rejected');
    expect(rejected.map((l) => [l.level, l.code])).toEqual([[30, 'VSCR_ERR_BAD_HEX'], [30, 'VSCR_ERR_UNKNOWN_DEVICE'], [30, 'VSCR_ERR_NOT_FOUND']]);
    // The interval may close between two of the requests on a loaded machine, so add up the summary lines.
    type Summary = { level: number; rejected: number; byStatus: Record<string, number> };
    const summaries = (): Summary[] => lines().filter((l) => l.msg === 'rejected requests in the last interval') as unknown as Summary[];
    await within((async () => {
      while (summaries().reduce((n, s) => n + s.rejected, 0) < 3) await new Promise((r) => setTimeout(r, 50));
    })(), 10_000, 'the periodic rejected-requests lines');
    const byStatus: Record<string, number> = {};
    for (const s of summaries()) {
      expect(s.level).toBe(30);
      for (const [status, n] of Object.entries(s.byStatus)) byStatus[status] = (byStatus[status] ?? 0) + n;
    }
    expect(summaries().reduce((n, s) => n + s.rejected, 0)).toBe(3);
    expect(byStatus).toEqual({ 400: 1, 404: 2 });
  });
});
