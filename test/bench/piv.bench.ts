// PIV card benchmark (`npm run bench -- --only piv`): RSA-2048 signatures per second on 9A and P-256 on 9E
// through pyscard on our pcsc-lite socket, each beside the same operation done raw in this process, and the
// wall time of `pkcs11-tool -O` against the card. 9E is used for P-256 because 9C needs a VERIFY before each
// signature, which would measure two commands.

import { spawn, spawnSync } from 'node:child_process';
import { constants, privateDecrypt } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { p256 } from '@noble/curves/nist.js';
import { ecScalar, generateKey } from '../../smcard/card/asymmetric/index.js';
import { startService } from '../../service/service.js';

interface Opts {
  json: boolean;
  quick: boolean;
}

const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('./pcsc-bench.py', import.meta.url));
const MODULE = '/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so';
const READER = 'vscr PIV Reader 00 00';
const SELECT = '00a4040005a000000308';
const VERIFY = '0020008008313233343536ffff';

function report(opts: Opts, name: string, value: number, unit: string, extra: Record<string, unknown> = {}): void {
  if (opts.json) console.log(JSON.stringify({ bench: 'piv', name, value: Number(value.toFixed(3)), unit, ...extra }));
  else console.log(`piv      ${name.padEnd(50)} ${value.toFixed(2).padStart(10)} ${unit}${Object.keys(extra).length ? `  ${JSON.stringify(extra)}` : ''}`);
}

/** One pyscard `apdu` round: `count` SCardTransmit calls of `apdu` after the setup APDUs. */
function apduRate(env: NodeJS.ProcessEnv, count: number, apdu: string, setup: string[]): Promise<{ rate: number; sw: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [SCRIPT, 'apdu', READER, String(count), apdu, ...setup], { env });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => {
      const line = out.trim().split('\n').map((l) => JSON.parse(l) as { rate?: number; sw?: string; error?: string }).find((l) => l.rate !== undefined);
      if (code !== 0 || !line) reject(new Error(`pcsc-bench.py exited ${code}: ${err.slice(-1000)} ${out.slice(-500)}`));
      else resolve({ rate: line.rate!, sw: line.sw ?? '' });
    });
  });
}

/** Operations per second of `op` over about `ms` milliseconds. */
function rawRate(op: () => void, ms: number): number {
  for (let i = 0; i < 20; i++) op();
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    op();
    n++;
  }
  return (n * 1000) / (performance.now() - t0);
}

export async function runBench(opts: Opts): Promise<void> {
  if (spawnSync(PYTHON, ['-c', 'import smartcard.scard'], { timeout: 20_000 }).status !== 0) {
    console.log('piv      skipped: pyscard (python3-pyscard) is missing');
    return;
  }
  const count = opts.quick ? 200 : 1000;
  const dataDir = await mkdtemp(path.join(tmpdir(), 'vscr-pivb-'));
  const socketPath = path.join(dataDir, 'pcscd.comm');
  const svc = await startService({ port: 0, dataDir, pcsc: true, pcscSocket: socketPath, logLevel: 'silent', badRequestLogIntervalMs: 0, readers: 0, defaultCard: null, cardReaders: ['piv'] });
  const env = { ...process.env, PCSCLITE_CSOCK_NAME: socketPath, XDG_CACHE_HOME: dataDir };
  try {
    // A PKCS#1 v1.5 block for SHA-256, sent as one extended APDU: 7C { 82 00, 81 <256> }, Le 0000.
    const digestInfo = Buffer.from(`3031300d060960864801650304020105000420${'ab'.repeat(32)}`, 'hex');
    const block = Buffer.concat([Buffer.from([0, 1]), Buffer.alloc(256 - 3 - digestInfo.length, 0xff), Buffer.from([0]), digestInfo]);
    const body = Buffer.concat([Buffer.from('7c820106820081820100', 'hex'), block]);
    const rsaApdu = `0087079a00${body.length.toString(16).padStart(4, '0')}${body.toString('hex')}0000`;
    const rsa = await apduRate(env, count, rsaApdu, [SELECT, VERIFY]);
    const key = await generateKey('rsa2048');
    const rsaRaw = rawRate(() => privateDecrypt({ key: key.privateKey, padding: constants.RSA_NO_PADDING }, block), opts.quick ? 500 : 2000);
    report(opts, 'RSA-2048 sign (9A) through pyscard', rsa.rate, 'sig/s', { sw: rsa.sw, rawPerSecond: Math.round(rsaRaw), ratio: Number((rsa.rate / rsaRaw).toFixed(2)) });

    const ecApdu = `0087119e267c24820081 20${'cd'.repeat(32)}00`.replace(' ', '');
    const ec = await apduRate(env, count, ecApdu, [SELECT]);
    const ecKey = await generateKey('p256');
    const d = ecScalar(ecKey);
    const hash = Buffer.alloc(32, 0xcd);
    const ecRaw = rawRate(() => p256.sign(hash, d, { prehash: false, format: 'der' }), opts.quick ? 500 : 2000);
    report(opts, 'P-256 ECDSA sign (9E) through pyscard', ec.rate, 'sig/s', { sw: ec.sw, rawPerSecond: Math.round(ecRaw), ratio: Number((ec.rate / ecRaw).toFixed(2)) });

    // Asynchronous: the service answering pkcs11-tool runs on this process's event loop.
    const t0 = performance.now();
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn('pkcs11-tool', ['--module', MODULE, '-O'], { env, stdio: 'ignore' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.on('close', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
      child.on('error', () => resolve(null));
    });
    const wall = performance.now() - t0;
    if (code === 0) report(opts, 'pkcs11-tool -O wall time', wall, 'ms');
    else console.log(`piv      pkcs11-tool -O failed (exit ${code})`);
  } finally {
    await svc.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

// Allow `tsx test/bench/piv.bench.ts [--quick] [--json]` on its own.
if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const args = process.argv.slice(2);
  runBench({ json: args.includes('--json'), quick: args.includes('--quick') }).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
