// /metrics registry benchmark: what counting costs on the APDU path and what a scrape costs, for the counters the
// service uses now (plain fields in the layer that does the work, read at scrape time), the hand-written registry
// (service/runtime/metrics.ts) and prom-client, side by side in one run. docs/metrics.md records the decision.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Counter as PromCounter, Gauge as PromGauge, Registry } from 'prom-client';
import { ApduCounter } from '../../smcard/reader/apdu-counts.js';
import { METRIC, Metrics } from '../../service/runtime/metrics.js';

interface Opts {
  json: boolean;
  quick: boolean;
}

function report(opts: Opts, name: string, value: number, unit: string, extra: Record<string, unknown> = {}): void {
  if (opts.json) console.log(JSON.stringify({ bench: 'metrics', name, value: Number(value.toFixed(3)), unit, ...extra }));
  else console.log(`metrics  ${name.padEnd(58)} ${value.toFixed(2).padStart(10)} ${unit}${Object.keys(extra).length ? `  ${JSON.stringify(extra)}` : ''}`);
}

/** Nanoseconds per call of `step`, best of `rounds` (the least disturbed on a shared machine). */
function nsPerCall(step: (i: number) => void, calls: number, rounds: number): number {
  for (let i = 0; i < calls; i++) step(i); // warm-up: optimised before timing
  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) step(i);
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / calls);
  }
  return best;
}

async function usPerScrape(scrape: () => unknown, n: number, rounds: number): Promise<number> {
  for (let i = 0; i < n; i++) await scrape();
  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) await scrape();
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / n / 1000);
  }
  return best;
}

const COMMAND = new Uint8Array(5);
const RESPONSE = new Uint8Array(10);

/** The samples a busy service holds: HTTP routes, device operations on two devices, APDUs, gauges. */
const ROUTES = ['/v1/readers', '/v1/devices/:id/sha256', '/v1/devices/:id/aes-cbc/encrypt', '/health', '/metrics'];
const OPS = ['sha256', 'aes-cbc-encrypt', 'aes-cbc-decrypt'];

function handWritten(): Metrics {
  const m = new Metrics();
  for (const route of ROUTES) for (const status of [200, 400, 404]) m.inc(...METRIC.httpRequests, { method: 'GET', route, status }, 3);
  for (const device of [0, 1]) {
    for (const op of OPS) {
      for (const caller of ['card', 'http']) m.inc(...METRIC.deviceOps, { device, op, caller }, 7);
      m.inc(...METRIC.deviceBytes, { device, op }, 700);
    }
  }
  m.counter(...METRIC.apdus).inc(1000);
  m.counter(...METRIC.apduBytes, { direction: 'command' }).inc(5000);
  m.counter(...METRIC.apduBytes, { direction: 'response' }).inc(9000);
  for (const [name, help] of [METRIC.readers, METRIC.readersPublished, METRIC.cardsPresent, METRIC.sseClients, METRIC.uptime]) m.set(name, help, {}, 2);
  return m;
}

function promClient(): Registry {
  const registry = new Registry();
  const counter = (name: string, help: string, labelNames: string[]) => new PromCounter({ name, help, labelNames, registers: [registry] });
  const http = counter(...METRIC.httpRequests, ['method', 'route', 'status']);
  for (const route of ROUTES) for (const status of [200, 400, 404]) http.inc({ method: 'GET', route, status }, 3);
  const ops = counter(...METRIC.deviceOps, ['caller', 'device', 'op']);
  const bytes = counter(...METRIC.deviceBytes, ['device', 'op']);
  for (const device of [0, 1]) {
    for (const op of OPS) {
      for (const caller of ['card', 'http']) ops.inc({ device, op, caller }, 7);
      bytes.inc({ device, op }, 700);
    }
  }
  counter(...METRIC.apdus, []).inc(1000);
  const apduBytes = counter(...METRIC.apduBytes, ['direction']);
  apduBytes.inc({ direction: 'command' }, 5000);
  apduBytes.inc({ direction: 'response' }, 9000);
  for (const [name, help] of [METRIC.readers, METRIC.readersPublished, METRIC.cardsPresent, METRIC.sseClients, METRIC.uptime]) {
    new PromGauge({ name, help, registers: [registry] }).set(2);
  }
  return registry;
}

export async function runBench(opts: Opts): Promise<void> {
  const calls = opts.quick ? 200_000 : 1_000_000;
  const rounds = opts.quick ? 3 : 5;
  // What one APDU counts: a command with its bytes and a response with its bytes.
  const fields = new ApduCounter();
  const fieldsNs = nsPerCall(() => {
    fields.command(COMMAND);
    fields.response(RESPONSE);
  }, calls, rounds);
  report(opts, 'per APDU: plain fields in the reader (what the service uses)', fieldsNs, 'ns', { calls });
  // Not a cost the service pays per APDU any more (it reads the fields at scrape time): the price of pushing each
  // APDU into a registry, which is what "prom-client on the APDU path" would mean.

  const hand = new Metrics();
  const apdus = hand.counter(...METRIC.apdus);
  const commandBytes = hand.counter(...METRIC.apduBytes, { direction: 'command' });
  const responseBytes = hand.counter(...METRIC.apduBytes, { direction: 'response' });
  const handNs = nsPerCall(() => {
    apdus.inc();
    commandBytes.inc(COMMAND.length);
    responseBytes.inc(RESPONSE.length);
  }, calls, rounds);
  report(opts, 'per APDU: hand-written registry, resolved counter handles', handNs, 'ns', { calls });

  const handLabels = nsPerCall(() => {
    hand.inc(...METRIC.deviceOps, { device: 0, op: 'sha256', caller: 'card' });
    hand.inc(...METRIC.deviceBytes, { device: 0, op: 'sha256' }, 3);
  }, calls / 5, rounds);
  report(opts, 'per device op: hand-written registry, labels per call', handLabels, 'ns', { calls: calls / 5 });

  const registry = new Registry();
  const pApdus = new PromCounter({ name: METRIC.apdus[0], help: METRIC.apdus[1], registers: [registry] });
  const pBytes = new PromCounter({ name: METRIC.apduBytes[0], help: METRIC.apduBytes[1], labelNames: ['direction'], registers: [registry] });
  const pCommand = pBytes.labels({ direction: 'command' });
  const pResponse = pBytes.labels({ direction: 'response' });
  const promNs = nsPerCall(() => {
    pApdus.inc();
    pCommand.inc(COMMAND.length);
    pResponse.inc(RESPONSE.length);
  }, calls, rounds);
  report(opts, 'per APDU: prom-client, bound children (labels resolved once)', promNs, 'ns', { calls, vsHandWritten: Number((promNs / handNs).toFixed(2)) });

  const pOps = new PromCounter({ name: METRIC.deviceOps[0], help: METRIC.deviceOps[1], labelNames: ['caller', 'device', 'op'], registers: [registry] });
  const pDevBytes = new PromCounter({ name: METRIC.deviceBytes[0], help: METRIC.deviceBytes[1], labelNames: ['device', 'op'], registers: [registry] });
  const promLabels = nsPerCall(() => {
    pOps.inc({ device: 0, op: 'sha256', caller: 'card' });
    pDevBytes.inc({ device: 0, op: 'sha256' }, 3);
  }, calls / 5, rounds);
  report(opts, 'per device op: prom-client, labels per call', promLabels, 'ns', { calls: calls / 5, vsHandWritten: Number((promLabels / handLabels).toFixed(2)) });

  const scrapes = opts.quick ? 100 : 500;
  const handScrape = await usPerScrape(() => handWritten().render(), scrapes, rounds);
  const full = handWritten();
  const handRender = await usPerScrape(() => full.render(), scrapes, rounds);
  const prom = promClient();
  const promRender = await usPerScrape(() => prom.metrics(), scrapes, rounds);
  report(opts, 'scrape: hand-written render(), ~45 samples', handRender, 'µs', { scrapes, includingBuild: Number(handScrape.toFixed(1)) });
  report(opts, 'scrape: prom-client registry.metrics(), same samples', promRender, 'µs', { scrapes, vsHandWritten: Number((promRender / handRender).toFixed(2)) });
}

// Allow `tsx test/bench/metrics.bench.ts [--quick] [--json]` on its own.
if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const args = process.argv.slice(2);
  runBench({ json: args.includes('--json'), quick: args.includes('--quick') }).catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
