// Bounded fuzz of the REST API over raw HTTP/1.1: valid requests (JSON and raw bodies, declared and chunked,
// reader and device routes) are mutated as bytes and sent to a real service. Counts cases, crashes (a 5xx other
// than the documented "retry" ones, an error logged by the service, an uncaught exception) and hangs (a
// connection neither answered nor closed within 15 s, or /health failing afterwards).

import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, startTestService, type TestService } from '../service/integration/harness.js';
import { caseCount, mutate, prng, seed } from './mutator.js';

const CASES = caseCount(1500);
const BATCH = 20;
/** 5xx answers that are documented outcomes under load, not faults. */
const RETRY_CODES = new Set(['VSCR_ERR_DEVICE_BUSY', 'VSCR_ERR_DEVICE_NO_MEMORY', 'VSCR_ERR_DEVICE_CANCELLED']);

let svc: TestService;
const errors: string[] = [];

beforeAll(async () => {
  svc = await startTestService(
    { readers: 2, defaultCard: 'default', httpRequestTimeoutMs: 2000, logLevel: 'error', devices: [{ keyString: 'secret', engine: 'native', guestMemoryMiB: 64, interruptMode: 'msi', maxRequestMiB: 4 }] },
    { logStream: { write: (line: string) => void errors.push(line) } },
  );
});
afterAll(async () => {
  await svc?.close();
});

function request(method: string, path: string, headers: Record<string, string> = {}, body = ''): Buffer {
  const head = [`${method} ${path} HTTP/1.1`, 'Host: 127.0.0.1', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  return Buffer.from(`${head.join('\r\n')}\r\n\r\n${body}`, 'latin1');
}

const JSON_CT = { 'Content-Type': 'application/json' };
const withLength = (h: Record<string, string>, body: string): Record<string, string> => ({ ...h, 'Content-Length': String(Buffer.byteLength(body, 'latin1')) });
const VALID: Buffer[] = [
  request('GET', '/health'),
  request('GET', '/v1/readers'),
  request('GET', '/v1/readers/0'),
  request('GET', '/v1/readers/vscr%20Virtual%20Reader%2000%2000/trace?format=text'),
  request('GET', '/v1/devices'),
  request('GET', '/v1/devices/0/status'),
  request('POST', '/v1/devices/0/sha256', withLength(JSON_CT, '{"data":"616263"}'), '{"data":"616263"}'),
  request('POST', '/v1/devices/0/sha256', withLength(JSON_CT, '{"data":"YWJj","encoding":"base64"}'), '{"data":"YWJj","encoding":"base64"}'),
  request('POST', '/v1/devices/0/sha256', withLength({ 'Content-Type': 'application/octet-stream' }, 'abc'), 'abc'),
  request('POST', '/v1/devices/0/sha256', { 'Content-Type': 'application/octet-stream', 'Transfer-Encoding': 'chunked' }, '3\r\nabc\r\n0\r\n\r\n'),
  request('POST', '/v1/devices/0/aes-cbc/encrypt', withLength(JSON_CT, '{"data":"00112233445566778899aabbccddeeff"}'), '{"data":"00112233445566778899aabbccddeeff"}'),
  request('POST', '/v1/devices/0/aes-cbc/decrypt', withLength({ 'Content-Type': 'application/octet-stream', Accept: 'application/octet-stream' }, '0123456789abcdef'), '0123456789abcdef'),
  request('POST', '/v1/readers/1/card', withLength(JSON_CT, '{"profile":"default"}'), '{"profile":"default"}'),
  request('DELETE', '/v1/readers/1/card'),
  request('POST', '/v1/readers/1/card', withLength(JSON_CT, '{}'), '{}'),
];

/** Sends `bytes`, half-closes, and resolves with the status lines seen, or 'hang' after 15 s. */
function send(bytes: Uint8Array): Promise<{ statuses: number[]; codes: string[]; raw: string } | 'hang'> {
  return new Promise((resolve) => {
    const url = new URL(svc.url);
    const socket = connect(Number(url.port), url.hostname);
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve('hang');
    }, 15_000);
    socket.on('data', (c: Buffer) => { text += c.toString('latin1'); });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      const statuses = [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
      const codes = [...text.matchAll(/"code":"([A-Z_]+)"/g)].map((m) => m[1]);
      resolve({ statuses, codes, raw: text });
    });
    socket.end(bytes);
  });
}

describe('REST fuzz', () => {
  it(`${CASES} mutated HTTP requests: no crash, no hang`, async () => {
    const rand = prng(seed());
    const uncaught: unknown[] = [];
    const onUncaught = (err: unknown): void => void uncaught.push(err);
    process.on('uncaughtException', onUncaught);
    let cases = 0;
    let hangs = 0;
    const faults: string[] = [];
    const byStatus = new Map<number, number>();
    try {
      while (cases < CASES && hangs === 0) {
        const n = Math.min(BATCH, CASES - cases);
        const results = await Promise.all(Array.from({ length: n }, () => {
          const pick = (): Buffer => VALID[Math.floor(rand() * VALID.length)];
          return send(mutate(pick(), rand, pick()));
        }));
        cases += n;
        for (const r of results) {
          if (r === 'hang') {
            hangs++;
            continue;
          }
          for (const s of r.statuses) byStatus.set(s, (byStatus.get(s) ?? 0) + 1);
          r.statuses.forEach((s, i) => {
            if (s >= 500 && !RETRY_CODES.has(r.codes[i] ?? '')) faults.push(`${s} ${r.codes[i] ?? '(no code)'}`);
            if (s >= 400 && s < 500 && r.codes[i] === undefined) faults.push(`${s} without a code: ${r.raw.slice(0, 300)}`);
          });
        }
        if ((await json(svc.url, '/health')).status !== 200) hangs++;
      }
    } finally {
      process.off('uncaughtException', onUncaught);
    }
    const crashes = errors.length + uncaught.length + faults.filter((f) => f.startsWith('5')).length;
    for (const line of errors) console.log(line.slice(0, 800));
    console.log(`REST fuzz: seed ${seed()}, ${cases} cases, ${crashes} crashes, ${hangs} hangs; statuses ${JSON.stringify(Object.fromEntries(byStatus))}`);
    expect(faults).toEqual([]);
    expect(errors).toEqual([]);
    expect(uncaught).toEqual([]);
    expect(hangs).toBe(0);
    expect(cases).toBe(CASES);
  });
});
