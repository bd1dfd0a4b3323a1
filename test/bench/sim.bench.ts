// Simulation benchmark: APDU round trips per second with pyscard through vscr's pcsc-lite socket to the plain
// default card, to a scripted card, and to a relayed card (a second vscr's card over its socket), in one run.
// Rounds alternate between the three so load on a shared machine hits them alike.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startService, type RunningService } from '../../service/service.js';
import { parseCardScript } from '../../smcard/sim/card-script.js';

interface Opts {
  json: boolean;
  quick: boolean;
}

const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('./pcsc-bench.py', import.meta.url));
const GET_CHALLENGE = '0084000008';

function report(opts: Opts, name: string, value: number, unit: string, extra: Record<string, unknown> = {}): void {
  if (opts.json) console.log(JSON.stringify({ bench: 'sim', name, value: Number(value.toFixed(3)), unit, ...extra }));
  else console.log(`sim      ${name.padEnd(50)} ${value.toFixed(2).padStart(10)} ${unit}${Object.keys(extra).length ? `  ${JSON.stringify(extra)}` : ''}`);
}

/** One pyscard process: connects, warms up, times `count` transmits; resolves with its rate. */
function round(socket: string, reader: string, count: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [SCRIPT, 'apdu', reader, String(count), GET_CHALLENGE], { env: { ...process.env, PCSCLITE_CSOCK_NAME: socket } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => {
      const line = out.split('\n').find((l) => l.includes('"mode": "apdu"'));
      if (code !== 0 || !line) reject(new Error(`pcsc-bench.py on ${reader} exited ${code}: ${out}${err}`));
      else resolve(Number((JSON.parse(line) as { rate: number }).rate));
    });
  });
}

async function service(dir: string, name: string): Promise<RunningService> {
  return startService({ port: 0, dataDir: path.join(dir, name), pcsc: true, pcscSocket: path.join(dir, `${name}.comm`), readers: 3, logLevel: 'silent', badRequestLogIntervalMs: 0 });
}

export async function runBench(opts: Opts): Promise<void> {
  if (!existsSync(PYTHON)) {
    console.log(opts.json ? JSON.stringify({ bench: 'sim', skipped: 'no /usr/bin/python3 (python3-pyscard)' }) : 'sim      skipped: no /usr/bin/python3');
    return;
  }
  const dir = await mkdtemp(path.join(tmpdir(), 'vscr-bench-sim-'));
  const remote = await service(dir, 'remote');
  const local = await service(dir, 'local');
  try {
    const script = parseCardScript(`mode: unordered\nrules:\n  - {command: 00 A4 04 00 *, response: 9000}\n  - {command: 00 84 00 00 ??, response: 0102030405060708 9000}\n`);
    await local.sim.insertScript(local.bus.readers()[1], script);
    await local.sim.startRelay(local.bus.readers()[2], remote.pcscSocketPath!, 'vscr Virtual Reader 00 00');
    const socket = local.pcscSocketPath!;
    const readers = { plain: 'vscr Virtual Reader 00 00', scripted: 'vscr Virtual Reader 01 00', relayed: 'vscr Virtual Reader 02 00' } as const;
    const count = opts.quick ? 1000 : 5000;
    const n = opts.quick ? 1 : 3;
    const rates: Record<keyof typeof readers, number[]> = { plain: [], scripted: [], relayed: [] };
    for (let i = 0; i < n; i++) {
      for (const k of Object.keys(readers) as (keyof typeof readers)[]) rates[k].push(await round(socket, readers[k], count));
    }
    const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
    const transcript = local.sim.transcriptOf(local.bus.readers()[0]);
    for (const k of Object.keys(readers) as (keyof typeof readers)[]) {
      report(opts, `GET CHALLENGE round trips, ${k} card (pyscard)`, median(rates[k]), 'APDU/s', { rounds: rates[k].map((r) => Math.round(r)), count });
    }
    report(opts, 'transcript entries kept (plain card, bounded)', transcript.list().length, 'entries', { dropped: transcript.dropped, maxEntries: transcript.limits.maxEntries });
  } finally {
    await local.close();
    await remote.close();
    await rm(dir, { recursive: true, force: true });
  }
}
