// Service benchmarks: HTTP hash throughput for 16 MiB bodies vs node:crypto, small-request rate vs a bare
// fastify route, APDU round trips per second over JSON-RPC, and insert-to-notification latency (p50/p99).

import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import Fastify from 'fastify';
import { SCARD_STATE } from '../../service/contract/pcsclite.js';
import { startService } from '../../service/service.js';
import { RpcClient } from '../service/integration/harness.js';
import { PSO_HASH_123, READER1, SELECT_CRYPTO_APPLET, connect, establish, transmit } from '../service/integration/pcsc-helpers.js';

interface Opts { json: boolean; quick: boolean }

function report(opts: Opts, name: string, value: number, unit: string, extra: Record<string, unknown> = {}): void {
  if (opts.json) console.log(JSON.stringify({ bench: 'service', name, value: Number(value.toFixed(3)), unit, ...extra }));
  else console.log(`service  ${name.padEnd(44)} ${value.toFixed(2).padStart(12)} ${unit}${Object.keys(extra).length ? `  ${JSON.stringify(extra)}` : ''}`);
}

/**
 * The HTTP load client runs in a worker thread so it does not share the service's event loop (which would
 * halve what we measure). Plain JS so the worker needs no TypeScript loader.
 */
const CLIENT_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const http = require('node:http');
const { url, method, body, headers, total, concurrency, expectBytes } = workerData;
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
const u = new URL(url);
const payload = body ? Buffer.from(body) : undefined;
function one() {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname, method, agent,
      headers: payload ? { 'content-length': String(payload.length), ...headers } : headers }, (res) => {
      let n = 0;
      res.on('data', (c) => { n += c.length; });
      res.on('end', () => (res.statusCode === 200 && (expectBytes === undefined || n === expectBytes)) ? resolve() : reject(new Error('status ' + res.statusCode + ' bytes ' + n)));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}
(async () => {
  let left = total;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => { while (left > 0) { left -= 1; await one(); } }));
  const seconds = (performance.now() - t0) / 1000;
  agent.destroy();
  parentPort.postMessage({ seconds });
})().catch((err) => parentPort.postMessage({ error: String(err) }));
`;

interface ClientJob { url: string; method: string; body?: Uint8Array; headers?: Record<string, string>; total: number; concurrency: number; expectBytes?: number }

/** Seconds the worker client took for `total` requests (each checked for status 200 and, if given, size). */
function runClient(job: ClientJob): Promise<number> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(CLIENT_SOURCE, { eval: true, workerData: { headers: {}, ...job } });
    worker.once('message', (m: { seconds?: number; error?: string }) => {
      void worker.terminate();
      if (m.error !== undefined || m.seconds === undefined) reject(new Error(m.error ?? 'no result'));
      else resolve(m.seconds);
    });
    worker.once('error', reject);
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export async function runBench(opts: Opts): Promise<void> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'vscr-bench-'));
  const service = await startService({ port: 0, dataDir, logLevel: 'silent', pcsc: false, badRequestLogIntervalMs: 0, cardReaders: [], devices: [{ keyString: 'secret', engine: 'native', guestMemoryMiB: 512, interruptMode: 'msi-multi' }] });
  const bare = Fastify();
  bare.get('/', async () => ({ status: 'ok' }));
  await bare.listen({ host: '127.0.0.1', port: 0 });
  const bareUrl = `http://127.0.0.1:${(bare.server.address() as AddressInfo).port}/`;
  try {
    // 1. 16 MiB bodies: HTTP (stream → guest memory → device worker) vs node:crypto on the same bytes.
    const body = randomBytes(16 * 1024 * 1024);
    const rounds = opts.quick ? 4 : 12;
    const hashJob = { url: `${service.url}/v1/devices/0/sha256`, method: 'POST', body, headers: { 'content-type': 'application/octet-stream', accept: 'application/octet-stream' }, concurrency: 1, expectBytes: 32 };
    await runClient({ ...hashJob, total: 2 });
    const httpMiBs = (rounds * 16) / (await runClient({ ...hashJob, total: rounds }));
    let t0 = performance.now();
    for (let i = 0; i < rounds; i += 1) createHash('sha256').update(body).digest();
    const rawMiBs = (rounds * 16) / ((performance.now() - t0) / 1000);
    report(opts, 'http sha256 16 MiB throughput', httpMiBs, 'MiB/s', { rounds });
    report(opts, 'node:crypto sha256 throughput (same run)', rawMiBs, 'MiB/s');
    report(opts, 'http/raw engine throughput ratio', httpMiBs / rawMiBs, 'ratio');

    // 2. Small requests: the service's health route and a 3-byte hash vs a bare fastify route.
    const n = opts.quick ? 2000 : 10000;
    const concurrency = 16;
    const small = Buffer.from(JSON.stringify({ data: '313233' }));
    const hashSmall = { url: `${service.url}/v1/devices/0/sha256`, method: 'POST', body: small, headers: { 'content-type': 'application/json' }, concurrency };
    await runClient({ url: bareUrl, method: 'GET', total: 500, concurrency });
    await runClient({ ...hashSmall, total: 500 });
    const bareRate = n / (await runClient({ url: bareUrl, method: 'GET', total: n, concurrency }));
    const healthRate = n / (await runClient({ url: `${service.url}/health`, method: 'GET', total: n, concurrency }));
    const hashRate = n / (await runClient({ ...hashSmall, total: n }));
    report(opts, 'bare fastify GET rate', bareRate, 'req/s', { concurrency });
    report(opts, 'GET /health rate', healthRate, 'req/s', { ratioToBare: Number((healthRate / bareRate).toFixed(3)) });
    report(opts, 'POST sha256 (3 bytes, JSON) rate', hashRate, 'req/s', { ratioToBare: Number((hashRate / bareRate).toFixed(3)) });
    report(opts, 'small hash/bare fastify rate ratio', hashRate / bareRate, 'ratio');

    // 3. APDU round trips over JSON-RPC (PSO:HASH of "123" on the crypto applet), one client, sequential.
    const c = await RpcClient.connect(service.url);
    const hContext = await establish(c);
    const { hCard, protocol } = await connect(c, hContext);
    await transmit(c, hCard, protocol, SELECT_CRYPTO_APPLET);
    const apdus = opts.quick ? 500 : 3000;
    // Unmeasured first: the path runs 3-4x slower until the JIT has compiled it (about 2000 APDUs here).
    const warmup = opts.quick ? 1000 : 3000;
    for (let i = 0; i < warmup; i += 1) await c.result('SCardTransmit', { hCard, pioSendPci: { dwProtocol: protocol }, pbSendBuffer: PSO_HASH_123 });
    t0 = performance.now();
    for (let i = 0; i < apdus; i += 1) await c.result('SCardTransmit', { hCard, pioSendPci: { dwProtocol: protocol }, pbSendBuffer: PSO_HASH_123 });
    report(opts, 'APDU round trips (JSON-RPC, PSO:HASH)', apdus / ((performance.now() - t0) / 1000), 'APDU/s', { apdus, warmup, protocol });
    await c.result('SCardDisconnect', { hCard, dwDisposition: 0 });

    // 4. REST insert/remove → blocked SCardGetStatusChange wakes: latency from the REST call to the answer.
    const samples: number[] = [];
    const cycles = opts.quick ? 20 : 100;
    // The bench process's own first fetch() loads undici (tens of ms): pay it before measuring, so the first
    // sample is the service's first REST insert, not client start-up.
    await (await fetch(`${service.url}/health`)).text();
    const first = await c.result('SCardGetStatusChange', { hContext, dwTimeout: 0, rgReaderStates: [{ szReader: READER1, dwCurrentState: 0 }] });
    let current = (first.rgReaderStates as { dwEventState: number }[])[0].dwEventState & ~SCARD_STATE.CHANGED;
    for (let i = 0; i < cycles * 2; i += 1) {
      const waiting = c.result('SCardGetStatusChange', { hContext, dwTimeout: 10_000, rgReaderStates: [{ szReader: READER1, dwCurrentState: current }] });
      await new Promise((r) => setTimeout(r, 2));
      const start = performance.now();
      const rest = fetch(`${service.url}/v1/readers/1/card`, i % 2 === 0 ? { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } } : { method: 'DELETE' });
      const answer = await waiting;
      samples.push(performance.now() - start);
      await rest;
      current = (answer.rgReaderStates as { dwEventState: number }[])[0].dwEventState & ~SCARD_STATE.CHANGED;
    }
    report(opts, 'first insert after start → GetStatusChange', samples[0], 'ms');
    samples.sort((a, b) => a - b);
    report(opts, 'insert/remove → GetStatusChange p50', percentile(samples, 50), 'ms', { samples: samples.length });
    report(opts, 'insert/remove → GetStatusChange p99', percentile(samples, 99), 'ms');
    await c.close();
  } finally {
    await bare.close();
    await service.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

// Runnable on its own: `npx tsx test/bench/service.bench.ts [--json] [--quick]`.
if (process.argv[1] !== undefined && import.meta.url.endsWith(path.basename(process.argv[1]))) {
  await runBench({ json: process.argv.includes('--json'), quick: process.argv.includes('--quick') });
}
