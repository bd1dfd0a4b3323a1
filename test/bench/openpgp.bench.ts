// OpenPGP card benchmark: PSO:CDS signatures per second through pyscard and our pcsc-lite socket (RSA-2048 with a
// DigestInfo, Ed25519 with a 32-byte digest), each beside the raw engine (the same signing call in-process) measured
// in the same run. The card counts every signature in its state file, so the APDU rate includes that write.

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { startService } from '../../service/service.js';
import * as asym from '../../smcard/card/asymmetric/index.js';

interface Opts {
  json: boolean;
  quick: boolean;
}

const SCRIPT = fileURLToPath(new URL('./pcsc-bench.py', import.meta.url));
const PYTHON = '/usr/bin/python3';
const ascii = (s: string): string => Buffer.from(s).toString('hex');
const SELECT = '00a4040006d27600012401';
const VERIFY_PW3 = `0020008308${ascii('12345678')}`;
const VERIFY_PW1 = `0020008106${ascii('123456')}`;
/** PW1 stays valid for many signatures (C4 byte 1 = 01), so the timed loop is PSO:CDS alone. */
const NOT_FORCED = '00da00c40101';
const DIGEST = createHash('sha256').update('bench').digest();
const DIGEST_INFO = Buffer.concat([Buffer.from('3031300d060960864801650304020105000420', 'hex'), DIGEST]);

function report(opts: Opts, name: string, value: number, unit: string): void {
  if (opts.json) console.log(JSON.stringify({ bench: 'openpgp', name, value: Number(value.toFixed(2)), unit }));
  else console.log(`openpgp  ${name.padEnd(50)} ${value.toFixed(2).padStart(10)} ${unit}`);
}

function apduRate(env: NodeJS.ProcessEnv, reader: string, count: number, apdu: string, setup: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [SCRIPT, 'apdu', reader, String(count), apdu, ...setup], { env });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const line = out.split('\n').find((l) => l.includes('"rate"'));
      if (code !== 0 || !line) return reject(new Error(`pcsc-bench.py exited ${code}: ${out}${err}`));
      const parsed = JSON.parse(line) as { rate: number; sw: string };
      if (parsed.sw !== '9000') return reject(new Error(`PSO:CDS answered ${parsed.sw}`));
      resolve(parsed.rate);
    });
  });
}

function engineRate(sign: () => void, count: number): number {
  for (let i = 0; i < Math.min(200, count); i++) sign();
  const t0 = performance.now();
  for (let i = 0; i < count; i++) sign();
  return count / ((performance.now() - t0) / 1000);
}

export async function runBench(opts: Opts): Promise<void> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'vscr-pgpb-'));
  const socket = path.join(dataDir, 'pcscd.comm');
  const svc = await startService({ port: 0, dataDir, pcsc: true, pcscSocket: socket, logLevel: 'silent', badRequestLogIntervalMs: 0, readers: 0, defaultCard: null, cardReaders: ['openpgp'] });
  const env = { ...process.env, PCSCLITE_CSOCK_NAME: socket };
  try {
    const reader = svc.readers.list()[0].name;
    const rsaCount = opts.quick ? 300 : 2000;
    const edCount = opts.quick ? 2000 : 10_000;
    const cds = (data: Buffer): string => `002a9e9a${data.length.toString(16).padStart(2, '0')}${data.toString('hex')}00`;
    const common = [SELECT, VERIFY_PW3, NOT_FORCED];

    const rsaKey = await asym.generateKey('rsa2048');
    report(opts, 'RSA-2048 PKCS#1 sign, raw engine', engineRate(() => asym.rsaSignDigestInfo(rsaKey, DIGEST_INFO), rsaCount), 'sig/s');
    const rsaSetup = [...common, '00478000000002b6000000', VERIFY_PW1];
    report(opts, 'RSA-2048 PSO:CDS via pyscard', await apduRate(env, reader, rsaCount, cds(DIGEST_INFO), rsaSetup), 'sig/s');

    const edKey = await asym.generateKey('ed25519');
    report(opts, 'Ed25519 sign, raw engine', engineRate(() => asym.ed25519Sign(edKey, DIGEST), edCount), 'sig/s');
    const edSetup = [...common, `00da00c10a${'162b06010401da470f01'}`, '0047800002b60000', VERIFY_PW1];
    report(opts, 'Ed25519 PSO:CDS via pyscard', await apduRate(env, reader, edCount, cds(DIGEST), edSetup), 'sig/s');
  } finally {
    await svc.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

// Allow `tsx test/bench/openpgp.bench.ts [--quick] [--json]` on its own.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  runBench({ json: args.includes('--json'), quick: args.includes('--quick') }).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
