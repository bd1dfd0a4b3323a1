// Service benchmarks: HTTP hash throughput for 16 MiB bodies and the rate of small JSON hash requests, each
// against a bare fastify route doing the same with node:crypto in the same process and run; APDU round trips
// per second over JSON-RPC, and insert-to-notification latency (p50/p99). CPU time per 1000 requests is the
// process's CPU time minus the load client's thread (the device worker and any polling count).

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
const fs = require('node:fs');
// This thread's own CPU time (utime + stime, 100 Hz ticks), so the caller can leave the client out of its figure.
const threadCpuMs = () => { const f = fs.readFileSync('/proc/thread-self/stat', 'utf8'); const v = f.slice(f.lastIndexOf(')') + 2).split(' '); return (Number(v[11]) + Number(v[12])) * 10; };
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
  const cpu0 = threadCpuMs();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => { while (left > 0) { left -= 1; await one(); } }));
  const seconds = (performance.now() - t0) / 1000;
  agent.destroy();
  parentPort.postMessage({ seconds, clientCpuMs: threadCpuMs() - cpu0 });
})().catch((err) => parentPort.postMessage({ error: String(err) }));
`;

interface ClientJob { url: string; method: string; body?: Uint8Array; headers?: Record<string, string>; total: number; concurrency: number; expectBytes?: number }

interface ClientRun {
  seconds: number;
  /** Requests per second. */
  rate: number;
  /** CPU time of this process except the client's thread, per 1000 requests. */
  cpuMsPer1000: number;
}

/** Runs the worker client for `total` requests (each checked for status 200 and, if given, size). */
async function runClient(job: ClientJob): Promise<ClientRun> {
  const worker = new Worker(CLIENT_SOURCE, { eval: true, workerData: { headers: {}, ...job } });
  const cpu0 = process.cpuUsage();
  const m = await new Promise<{ seconds?: number; clientCpuMs?: number; error?: string }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  const cpu = process.cpuUsage(cpu0);
  void worker.terminate();
  if (m.error !== undefined || m.seconds === undefined) throw new Error(m.error ?? 'no result');
  const ownMs = (cpu.user + cpu.system) / 1000 - (m.clientCpuMs ?? 0);
  return { seconds: m.seconds, rate: job.total / m.seconds, cpuMsPer1000: Number(((ownMs / job.total) * 1000).toFixed(1)) };
}

/** The run with the median rate of `n` (alternated with other runs by the caller). */
function medianRun(runs: ClientRun[]): ClientRun {
  return [...runs].sort((a, b) => a.rate - b.rate)[Math.floor(runs.length / 2)];
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export async function runBench(opts: Opts): Promise<void> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'vscr-bench-'));
  const service = await startService({ port: 0, dataDir, logLevel: 'silent', pcsc: false, badRequestLogIntervalMs: 0, cardReaders: [], devices: [{ keyString: 'secret', engine: 'native', guestMemoryMiB: 512, interruptMode: 'msi-multi' }] });
  // The baselines: the same work in a bare fastify app, in this process, with node:crypto as the engine.
  const bare = Fastify({ bodyLimit: 32 * 1024 * 1024 });
  bare.addContentTypeParser('application/octet-stream', (_request, payload, done) => done(null, payload));
  bare.get('/', async () => ({ status: 'ok' }));
  bare.post('/sha256', async (request, reply) => {
    const hash = createHash('sha256');
    if (request.headers['content-type'] === 'application/octet-stream') {
      for await (const chunk of request.body as AsyncIterable<Buffer>) hash.update(chunk);
      return reply.type('application/octet-stream').send(hash.digest());
    }
    return { digest: hash.update(Buffer.from((request.body as { data: string }).data, 'hex')).digest('hex') };
  });
  await bare.listen({ host: '127.0.0.1', port: 0 });
  const bareUrl = `http://127.0.0.1:${(bare.server.address() as AddressInfo).port}`;
  const pair = (value: ClientRun, baseline: ClientRun, target: string) => ({
    baseline: Number(baseline.rate.toFixed(1)),
    ratio: Number((value.rate / baseline.rate).toFixed(3)),
    target,
    cpuMsPer1000: value.cpuMsPer1000,
    baselineCpuMsPer1000: baseline.cpuMsPer1000,
  });
  try {
    // 1. 16 MiB raw bodies: HTTP (stream → guest memory → device worker) vs a bare route streaming into node:crypto.
    const body = randomBytes(16 * 1024 * 1024);
    const rounds = opts.quick ? 4 : 12;
    const raw = { method: 'POST', body, headers: { 'content-type': 'application/octet-stream', accept: 'application/octet-stream' }, concurrency: 1, expectBytes: 32 };
    const hashJob = { ...raw, url: `${service.url}/v1/devices/0/sha256` };
    const bareHashJob = { ...raw, url: `${bareUrl}/sha256` };
    await runClient({ ...hashJob, total: 2 });
    await runClient({ ...bareHashJob, total: 2 });
    // Alternating thirds, so load from elsewhere on the machine hits both sides alike.
    const httpRuns: ClientRun[] = [];
    const bareRuns: ClientRun[] = [];
    for (let i = 0; i < 3; i += 1) {
      httpRuns.push(await runClient({ ...hashJob, total: Math.ceil(rounds / 3) }));
      bareRuns.push(await runClient({ ...bareHashJob, total: Math.ceil(rounds / 3) }));
    }
    const http = medianRun(httpRuns);
    const bareHttp = medianRun(bareRuns);
    let t0 = performance.now();
    for (let i = 0; i < rounds; i += 1) createHash('sha256').update(body).digest();
    const rawMiBs = (rounds * 16) / ((performance.now() - t0) / 1000);
    const mib = (r: ClientRun): ClientRun => ({ ...r, rate: r.rate * 16 });
    report(opts, 'http sha256 16 MiB raw body vs bare fastify+node:crypto', http.rate * 16, 'MiB/s', { ...pair(mib(http), mib(bareHttp), '>= 0.9'), rounds });
    report(opts, 'node:crypto sha256 throughput (same run)', rawMiBs, 'MiB/s');
    report(opts, 'http/raw engine throughput ratio', (http.rate * 16) / rawMiBs, 'ratio');

    // 2. Small requests: the health route vs a bare GET; a 3-byte JSON hash vs a bare POST hashing the same body.
    const n = opts.quick ? 2000 : 10000;
    const concurrency = 16;
    const small = Buffer.from(JSON.stringify({ data: '313233' }));
    const json = { method: 'POST', body: small, headers: { 'content-type': 'application/json' }, concurrency };
    const hashSmall = { ...json, url: `${service.url}/v1/devices/0/sha256` };
    const bareSmall = { ...json, url: `${bareUrl}/sha256` };
    await runClient({ url: `${bareUrl}/`, method: 'GET', total: 500, concurrency });
    await runClient({ ...hashSmall, total: 2000 });
    await runClient({ ...bareSmall, total: 2000 });
    const bareGet = await runClient({ url: `${bareUrl}/`, method: 'GET', total: n, concurrency });
    const health = await runClient({ url: `${service.url}/health`, method: 'GET', total: n, concurrency });
    const hashRuns: ClientRun[] = [];
    const barePostRuns: ClientRun[] = [];
    for (let i = 0; i < 3; i += 1) {
      hashRuns.push(await runClient({ ...hashSmall, total: Math.ceil(n / 3) }));
      barePostRuns.push(await runClient({ ...bareSmall, total: Math.ceil(n / 3) }));
    }
    const hash = medianRun(hashRuns);
    const barePost = medianRun(barePostRuns);
    report(opts, 'bare fastify GET rate', bareGet.rate, 'req/s', { concurrency, cpuMsPer1000: bareGet.cpuMsPer1000 });
    report(opts, 'GET /health rate', health.rate, 'req/s', { ratioToBare: Number((health.rate / bareGet.rate).toFixed(3)), cpuMsPer1000: health.cpuMsPer1000 });
    report(opts, 'POST sha256 (3 bytes, JSON) vs bare fastify POST+node:crypto', hash.rate, 'req/s', { ...pair(hash, barePost, '>= 0.8'), concurrency });
    report(opts, 'small hash/bare fastify GET rate ratio', hash.rate / bareGet.rate, 'ratio');

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
