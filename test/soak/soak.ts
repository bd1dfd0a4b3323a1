// The soak run (`npm run soak -- --minutes N [--seed S] [--max-rss-growth PCT]`, docs/faults.md): the service
// as a child process on loopback with a temporary data directory; pyscard (pcsc-lite socket, reader 0), a JSON-RPC
// client (reader 1) and REST clients (crypto devices 0 and 1) run known-answer work concurrently while seeded random
// reader faults (readers 0 and 1) and device faults (device 1, under reader 1's card) are armed over REST and
// JSON-RPC. Every error must be explained by a fault that fired on that reader or device, or by the reset that
// cleared one; at the end no context or handle may be left open and the service's RSS may not have grown by the
// limit.
// Exit 0 only when there was no crash, no wrong answer, no leak and no RSS growth at or above the limit.

import { spawn, type ChildProcess, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { SCARD, scardName } from '../../service/contract/pcsclite.js';
import { prng } from '../../kernel/prng.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PYSCARD_DRIVER = fileURLToPath(new URL('../interop/pyscard-driven.py', import.meta.url));
const PYTHON = '/usr/bin/python3';
const READER_NAMES = ['vscr Virtual Reader 00 00', 'vscr Virtual Reader 01 00'];
/** Any single operation taking longer than this is a hang (the longest armed delay is far below it). */
const OP_TIMEOUT_MS = 30_000;
/** A client that cannot get a working card back within this long after a fault is stuck. */
const RECOVERY_TIMEOUT_MS = 30_000;

// Known answers (smcard/card/APDUS.md): the default profile's PIN 1234, the device key string "secret".
const SELECT_APPLET = '00a4040c06f07673637201';
const SELECT_MF = '00a4000c023f00';
const VERIFY_PIN = '002000810431323334';
const VERIFY_STATUS = '00200081';
const GET_CHALLENGE = '0084000008';
const ENCIPHER_123 = '002a86800331323300';
const ENCIPHER_123_ANSWER = '0013933c64935f9001534e01365105aa56';
const DEVICE_KEY = createHash('sha256').update('secret').digest();
const DEVICE_IV = Buffer.from('32ad5cdf529aae2be15c7e2ea19e5163', 'hex');

type Kind = 'sw' | 'corrupt' | 'slow' | 'mute' | 'remove-card' | 'reset-card' | 'unplug' | 'power-fail';
const KINDS: Kind[] = ['sw', 'corrupt', 'slow', 'mute', 'remove-card', 'reset-card', 'unplug', 'power-fail'];
type DeviceKind = 'dma-error' | 'never-ready' | 'latched-error' | 'lost-interrupt';
const DEVICE_KINDS: DeviceKind[] = ['dma-error', 'never-ready', 'latched-error', 'lost-interrupt'];
/** The device that takes faults; device 0 stays clean for the plain REST client and reader 0's card. */
const FAULTED_DEVICE = 1;
/** What a device fault (or the reset that clears one) does to a REST client of that device. */
const DEVICE_ERROR_CODES = ['VSCR_ERR_DEVICE_DATA_ERROR', 'VSCR_ERR_DEVICE_BUSY', 'VSCR_ERR_DEVICE_TIMEOUT', 'VSCR_ERR_DEVICE_CANCELLED'];
/** What each anomaly a card client can see may be caused by; anything else is a wrong answer. */
const EXPLAINED_BY: Record<string, string[]> = {
  [`rv:${scardName(SCARD.E_NOT_TRANSACTED)}`]: ['mute', 'power-fail', 'corrupt'],
  [`rv:${scardName(SCARD.E_NO_SMARTCARD)}`]: ['remove-card', 'unplug'],
  [`rv:${scardName(SCARD.W_REMOVED_CARD)}`]: ['remove-card', 'unplug'],
  [`rv:${scardName(SCARD.W_RESET_CARD)}`]: ['reset-card', 'power-fail'],
  [`rv:${scardName(SCARD.E_READER_UNAVAILABLE)}`]: ['unplug'],
  [`rv:${scardName(SCARD.E_UNKNOWN_READER)}`]: ['unplug'],
  // A changed answer: the SW or data altered, or the card's volatile state lost to a reset or a new card; on a card
  // whose crypto runs on a faulted device, 6F00 from PSO (or 6581 from a state save) until the device is reset.
  answer: ['sw', 'corrupt', 'reset-card', 'power-fail', 'remove-card', 'unplug', ...DEVICE_KINDS, 'device-reset'],
};

// ---- arguments --------------------------------------------------------------------------------------------------

function parseArgs(argv: string[]): { minutes: number; seed: number; maxRssGrowthPct: number } {
  const out = { minutes: 1, seed: 1, maxRssGrowthPct: 10 };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=', 2);
    const value = inline ?? argv[++i];
    const n = Number(value);
    if (!Number.isFinite(n)) throw new Error(`${flag} needs a number`);
    if (flag === '--minutes' && n > 0 && n <= 24 * 60) out.minutes = n;
    else if (flag === '--seed' && Number.isSafeInteger(n) && n >= 0) out.seed = n;
    else if (flag === '--max-rss-growth' && n > 0) out.maxRssGrowthPct = n;
    else throw new Error(`usage: soak --minutes N (0 < N <= 1440) [--seed S] [--max-rss-growth PCT]; got ${flag} ${value}`);
  }
  return out;
}


const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`hung: ${what} took more than ${ms} ms`)), ms);
    }),
  ]);
}

// ---- bookkeeping ------------------------------------------------------------------------------------------------

class Tally {
  ops = 0;
  readonly errors = new Map<string, number>();
  readonly wrong: string[] = [];
  faultsArmed = 0;
  armRefused = 0;
  deviceFaultsArmed = 0;
  /** Resets of the faulted device the soak asked for (started, not only finished): each may cancel a card's request. */
  deviceResets = 0;

  error(what: string): void {
    this.errors.set(what, (this.errors.get(what) ?? 0) + 1);
  }

  fail(what: string): void {
    this.wrong.push(what);
    if (this.wrong.length <= 20) console.error(`\nWRONG: ${what}`);
  }

  errorCount(): number {
    let n = 0;
    for (const v of this.errors.values()) n += v;
    return n;
  }
}

/** The service's /metrics, parsed to `name{labels}` → value. */
async function metrics(base: string): Promise<Map<string, number>> {
  const text = await (await within(fetch(`${base}/metrics`), OP_TIMEOUT_MS, 'GET /metrics')).text();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

/** Fault firings per kind on one reader or device, from vscr_faults_fired_total. */
function firedOn(m: Map<string, number>, on: 'reader' | 'device', id: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const [key, value] of m) {
    const hit = /^vscr_faults_fired_total\{(.*)\}$/.exec(key);
    if (!hit || !hit[1].includes(`${on}="${id}"`)) continue;
    const kind = /kind="([^"]+)"/.exec(hit[1])?.[1];
    if (kind) out.set(kind, (out.get(kind) ?? 0) + value);
  }
  return out;
}

/** What has happened to a reader (and the device under its card) so far: fault firings by kind, and device resets. */
interface FaultMarks {
  fired: Map<string, number>;
  resets: number;
}

async function marks(base: string, tally: Tally, reader: number | null, device: number | null): Promise<FaultMarks> {
  const m = await metrics(base);
  const fired = reader === null ? new Map<string, number>() : firedOn(m, 'reader', reader);
  if (device !== null) for (const [kind, n] of firedOn(m, 'device', device)) fired.set(kind, n);
  return { fired, resets: device === null ? 0 : tally.deviceResets };
}

/** The fault kinds that fired since `before`, plus 'device-reset' when the soak reset the device meanwhile. */
function since(before: FaultMarks, now: FaultMarks): string[] {
  const out = [...now.fired].filter(([kind, n]) => n > (before.fired.get(kind) ?? 0)).map(([kind]) => kind);
  if (now.resets > before.resets) out.push('device-reset');
  return out;
}

async function rssKiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
}

// ---- clients ----------------------------------------------------------------------------------------------------

interface Transmitter {
  transmit(apdu: string): Promise<{ rv: number; response: string }>;
  reconnect(): Promise<number>;
  /** Disconnect (ignoring the outcome) and connect anew. */
  reopen(): Promise<number>;
  close(): Promise<void>;
}

/** pyscard (libpcsclite) on our socket, driven line by line. */
class PyscardClient implements Transmitter {
  private buffered = '';
  private waiting: ((line: string) => void)[] = [];
  private stderr = '';
  private constructor(private readonly child: ChildProcessWithoutNullStreams, private readonly reader: string) {
    child.once('exit', (code) => {
      for (const w of this.waiting.splice(0)) w(JSON.stringify({ exited: code, stderr: this.stderr }));
    });
    child.stderr.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-2000)));
    child.stdout.on('data', (d: Buffer) => {
      this.buffered += d.toString();
      const parts = this.buffered.split('\n');
      this.buffered = parts.pop() ?? '';
      for (const l of parts.filter(Boolean)) this.waiting.shift()?.(l);
    });
  }

  static async start(env: NodeJS.ProcessEnv, reader: string): Promise<PyscardClient> {
    const c = new PyscardClient(spawn(PYTHON, [PYSCARD_DRIVER], { env }), reader);
    const ready = await c.next();
    if (ready.rv !== 0) throw new Error(`pyscard SCardEstablishContext: ${scardName(ready.rv as number)}`);
    return c;
  }

  private next(what = 'start'): Promise<Record<string, unknown>> {
    return within(new Promise((resolve) => this.waiting.push((l) => resolve(JSON.parse(l) as Record<string, unknown>))), OP_TIMEOUT_MS, `pyscard answer to ${what} (stderr: ${this.stderr})`);
  }

  private async send(cmd: Record<string, unknown>): Promise<Record<string, unknown>> {
    if (this.child.exitCode !== null) throw new Error(`pyscard exited ${this.child.exitCode}: ${this.stderr}`);
    const answer = this.next(JSON.stringify(cmd));
    this.child.stdin.write(`${JSON.stringify(cmd)}\n`);
    const a = await answer;
    if ('exited' in a) throw new Error(`pyscard exited ${String(a.exited)} on ${JSON.stringify(cmd)}: ${this.stderr}`);
    return a;
  }

  async transmit(apdu: string): Promise<{ rv: number; response: string }> {
    const a = await this.send({ op: 'transmit', apdu });
    return { rv: a.rv as number, response: String(a.response ?? '') };
  }

  async reconnect(): Promise<number> {
    return (await this.send({ op: 'reconnect' })).rv as number;
  }

  async connect(): Promise<number> {
    return (await this.send({ op: 'connect', reader: this.reader })).rv as number;
  }

  async reopen(): Promise<number> {
    await this.send({ op: 'disconnect' });
    return this.connect();
  }

  async close(): Promise<void> {
    await this.send({ op: 'disconnect' }).catch(() => undefined);
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.stdin.end(`${JSON.stringify({ op: 'quit' })}\n`);
    await within(exited, 10_000, 'pyscard exit').catch(() => this.child.kill('SIGKILL'));
  }
}

/** A JSON-RPC 2.0 client of /v1/pcsc (its own socket = its own PC/SC session). */
class RpcSocket {
  private nextId = 1;
  private readonly pending = new Map<number, (msg: { result?: Record<string, unknown>; error?: { code: number; message: string } }) => void>();
  closed = false;
  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data)) as { id: number; result?: Record<string, unknown>; error?: { code: number; message: string } };
      this.pending.get(msg.id)?.(msg);
      this.pending.delete(msg.id);
    });
    ws.on('close', () => (this.closed = true));
  }

  static async open(base: string): Promise<RpcSocket> {
    const ws = new WebSocket(`${base.replace(/^http/, 'ws')}/v1/pcsc`);
    await within(new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    }), OP_TIMEOUT_MS, 'WebSocket open');
    return new RpcSocket(ws);
  }

  async call(method: string, params: Record<string, unknown>): Promise<{ result?: Record<string, unknown>; error?: { code: number; message: string } }> {
    if (this.closed) throw new Error('the JSON-RPC socket closed');
    const id = this.nextId++;
    const answer = new Promise<{ result?: Record<string, unknown>; error?: { code: number; message: string } }>((r) => this.pending.set(id, r));
    this.ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    return within(answer, OP_TIMEOUT_MS, method);
  }

  async result(method: string, params: Record<string, unknown>): Promise<Record<string, unknown> & { rv: number }> {
    const r = await this.call(method, params);
    if (!r.result) throw new Error(`${method}: JSON-RPC error ${JSON.stringify(r.error)}`);
    return r.result as Record<string, unknown> & { rv: number };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    const done = new Promise<void>((r) => this.ws.once('close', () => r()));
    this.ws.close();
    await within(done, 10_000, 'WebSocket close').catch(() => this.ws.terminate());
  }
}

class RpcCardClient implements Transmitter {
  private hContext = 0;
  private hCard = 0;
  private protocol = 0;
  private constructor(private readonly rpc: RpcSocket, private readonly reader: string) {}

  static async start(base: string, reader: string): Promise<RpcCardClient> {
    const c = new RpcCardClient(await RpcSocket.open(base), reader);
    const ctx = await c.rpc.result('SCardEstablishContext', { dwScope: 2 });
    if (ctx.rv !== 0) throw new Error(`JSON-RPC SCardEstablishContext: ${scardName(ctx.rv)}`);
    c.hContext = ctx.hContext as number;
    return c;
  }

  async connect(): Promise<number> {
    const r = await this.rpc.result('SCardConnect', { hContext: this.hContext, szReader: this.reader, dwShareMode: 2, dwPreferredProtocols: 3 });
    if (r.rv === 0) {
      this.hCard = r.hCard as number;
      this.protocol = r.dwActiveProtocol as number;
    }
    return r.rv;
  }

  async transmit(apdu: string): Promise<{ rv: number; response: string }> {
    const r = await this.rpc.result('SCardTransmit', { hCard: this.hCard, pioSendPci: { dwProtocol: this.protocol }, pbSendBuffer: apdu });
    return { rv: r.rv, response: r.rv === 0 ? String(r.pbRecvBuffer) : '' };
  }

  async reconnect(): Promise<number> {
    const r = await this.rpc.result('SCardReconnect', { hCard: this.hCard, dwShareMode: 2, dwPreferredProtocols: 3, dwInitialization: 0 });
    if (r.rv === 0) this.protocol = r.dwActiveProtocol as number;
    return r.rv;
  }

  async reopen(): Promise<number> {
    if (this.hCard !== 0) await this.rpc.result('SCardDisconnect', { hCard: this.hCard, dwDisposition: 0 });
    this.hCard = 0;
    return this.connect();
  }

  async close(): Promise<void> {
    if (this.hCard !== 0) await this.rpc.result('SCardDisconnect', { hCard: this.hCard, dwDisposition: 0 }).catch(() => undefined);
    await this.rpc.result('SCardReleaseContext', { hContext: this.hContext }).catch(() => undefined);
    await this.rpc.close();
  }
}

/** GET RESPONSE for 61xx (T=0), so every answer is the final one. */
async function exchange(t: Transmitter, apdu: string): Promise<{ rv: number; response: string }> {
  let r = await t.transmit(apdu);
  if (r.rv === 0 && r.response.length === 4 && r.response.startsWith('61')) r = await t.transmit(`00c00000${r.response.slice(2)}`);
  return r;
}

/**
 * One card client's loop: a cycle of known-answer commands; an anomaly is classified against the faults that
 * fired on its reader since the start of its last clean cycle, then the client recovers (new card, reconnect,
 * reconnect to a replugged reader) and starts the cycle again.
 */
async function cardLoop(name: string, reader: number, device: number | null, t: Transmitter, base: string, tally: Tally, until: number, rng: () => number): Promise<void> {
  let baseline = await marks(base, tally, reader, device);
  const anomaly = async (what: string): Promise<void> => {
    tally.error(`${name} ${what}`);
    const fired = since(baseline, await marks(base, tally, reader, device));
    const allowed = EXPLAINED_BY[what.startsWith('rv:') ? what : 'answer'] ?? [];
    if (!fired.some((k) => allowed.includes(k))) tally.fail(`${name}: ${what} with faults fired since the last clean cycle: [${fired.join(', ')}]`);
  };
  /** Gets a working handle back; anomalies on the way are classified too. */
  const recover = async (rv: number): Promise<void> => {
    const deadline = Date.now() + RECOVERY_TIMEOUT_MS;
    let last = rv;
    let reopen = false;
    while (Date.now() < deadline) {
      if (last === SCARD.E_NO_SMARTCARD || last === SCARD.W_REMOVED_CARD) {
        // The card was pulled: put one back, on the same device (409 when the replugged reader brought its card back).
        await within(fetch(`${base}/v1/readers/${reader}/card`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(device === null ? {} : { device }) }), OP_TIMEOUT_MS, 'insert card').then((r) => r.arrayBuffer());
      }
      // Once the handle is gone (a failed connect leaves none), only a new connect helps.
      reopen ||= ([SCARD.E_READER_UNAVAILABLE, SCARD.E_UNKNOWN_READER, SCARD.E_NO_SMARTCARD] as number[]).includes(last);
      last = reopen ? await t.reopen() : await t.reconnect();
      tally.ops++;
      if (last === 0) return;
      await anomaly(`rv:${scardName(last)}`);
      await sleep(50);
    }
    tally.fail(`${name}: no working card ${RECOVERY_TIMEOUT_MS} ms after ${scardName(rv)} (last ${scardName(last)})`);
  };

  while (Date.now() < until) {
    const cycleStart = await marks(base, tally, reader, device);
    const data = randomBytes(1 + Math.floor(rng() * 200));
    const steps: [string, string, (response: string) => boolean][] = [
      ['SELECT applet', SELECT_APPLET, (r) => r === '9000'],
      ['VERIFY', VERIFY_PIN, (r) => r === '9000'],
      ['VERIFY status', VERIFY_STATUS, (r) => r === '9000'],
      ['PSO HASH', `002a9080${data.length.toString(16).padStart(2, '0')}${data.toString('hex')}00`, (r) => r === `${createHash('sha256').update(data).digest('hex')}9000`],
      ['GET CHALLENGE', GET_CHALLENGE, (r) => /^[0-9a-f]{16}9000$/.test(r)],
      ['PSO ENCIPHER', ENCIPHER_123, (r) => r === `${ENCIPHER_123_ANSWER}9000`],
      ['SELECT MF', SELECT_MF, (r) => r === '9000'],
    ];
    let clean = true;
    for (const [label, apdu, ok] of steps) {
      const r = await exchange(t, apdu);
      tally.ops++;
      if (r.rv !== 0) {
        clean = false;
        await anomaly(`rv:${scardName(r.rv)}`);
        await recover(r.rv);
        break;
      }
      if (!ok(r.response)) {
        clean = false;
        await anomaly(`answer ${label}`);
        // The card may be in any state now (another applet, PIN not verified): start from a reset.
        await recover(SCARD.W_RESET_CARD);
        break;
      }
    }
    if (clean) baseline = cycleStart;
  }
}

/** REST: SHA-256 and AES-CBC on the device against node:crypto, the reader list. No reader fault touches these. */
async function restLoop(base: string, tally: Tally, until: number, rng: () => number): Promise<void> {
  const post = async (route: string, data: Buffer): Promise<Record<string, unknown>> => {
    const res = await within(fetch(`${base}${route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ data: data.toString('hex') }) }), OP_TIMEOUT_MS, route);
    const body = (await res.json()) as Record<string, unknown>;
    if (res.status !== 200) throw new Error(`${route}: HTTP ${res.status} ${JSON.stringify(body)}`);
    return body;
  };
  while (Date.now() < until) {
    const data = randomBytes(1 + Math.floor(rng() * 4096));
    try {
      const digest = await post('/v1/devices/0/sha256', data);
      tally.ops++;
      if (digest.digest !== createHash('sha256').update(data).digest('hex')) tally.fail(`REST sha256 of ${data.length} bytes: ${String(digest.digest)}`);
      const padded = Buffer.concat([data, Buffer.alloc((16 - (data.length % 16)) % 16)]);
      const cipher = createCipheriv('aes-256-cbc', DEVICE_KEY, DEVICE_IV).setAutoPadding(false);
      const expected = Buffer.concat([cipher.update(padded), cipher.final()]).toString('hex');
      const enc = await post('/v1/devices/0/aes-cbc/encrypt', data);
      tally.ops++;
      if (enc.data !== expected) tally.fail(`REST aes-cbc/encrypt of ${data.length} bytes differs from node:crypto`);
      const readers = await within(fetch(`${base}/v1/readers`), OP_TIMEOUT_MS, 'GET /v1/readers');
      tally.ops++;
      if (readers.status !== 200) tally.fail(`GET /v1/readers: HTTP ${readers.status}`);
      await readers.arrayBuffer();
    } catch (err) {
      tally.fail(`REST: ${(err as Error).message}`);
      await sleep(200);
    }
  }
}

/**
 * REST on the faulted device: SHA-256 against node:crypto. A refusal must carry a device error code and follow a
 * fault that fired on the device (or a reset another client asked for); the client then resets the device until
 * it is ready again (a never-ready hang answers 503 until its hold ends), as docs/errors.md tells a caller to.
 */
async function faultedDeviceLoop(base: string, tally: Tally, until: number, rng: () => number): Promise<void> {
  const route = `/v1/devices/${FAULTED_DEVICE}`;
  // Faults fired since the device was last known clean (the start, or just before the reset that made it ready).
  let baseline = await marks(base, tally, null, FAULTED_DEVICE);
  while (Date.now() < until) {
    const data = randomBytes(1 + Math.floor(rng() * 4096));
    const res = await within(fetch(`${base}${route}/sha256`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ data: data.toString('hex') }) }), OP_TIMEOUT_MS, `${route}/sha256`);
    const body = (await res.json()) as { digest?: string; code?: string };
    tally.ops++;
    if (res.status === 200) {
      if (body.digest !== createHash('sha256').update(data).digest('hex')) tally.fail(`REST sha256 on device ${FAULTED_DEVICE}, ${data.length} bytes: ${String(body.digest)}`);
      continue;
    }
    const what = `device ${FAULTED_DEVICE}: HTTP ${res.status} ${String(body.code)}`;
    tally.error(`REST ${what}`);
    // Only a device fault explains it: no other client resets this device.
    const fired = since(baseline, await marks(base, tally, null, FAULTED_DEVICE)).filter((k) => (DEVICE_KINDS as string[]).includes(k));
    if (!DEVICE_ERROR_CODES.includes(String(body.code)) || fired.length === 0) tally.fail(`REST ${what} with device faults fired since it was last clean: [${fired.join(', ')}]`);
    const deadline = Date.now() + RECOVERY_TIMEOUT_MS;
    for (;;) {
      const before = await marks(base, tally, null, FAULTED_DEVICE);
      tally.deviceResets++;
      const reset = await within(fetch(`${base}${route}/reset`, { method: 'POST' }), OP_TIMEOUT_MS, `${route}/reset`);
      await reset.arrayBuffer();
      tally.ops++;
      if (reset.status === 200) {
        baseline = before;
        break;
      }
      if (reset.status !== 503 || Date.now() > deadline) {
        tally.fail(`reset of device ${FAULTED_DEVICE}: HTTP ${reset.status}`);
        break;
      }
      await sleep(100);
    }
  }
}

/**
 * Seeded random faults: reader 0 over REST, reader 1 over JSON-RPC (its own socket), at most 3 armed on each; and
 * now and then a device fault on the faulted device, over either, at most 2 armed.
 */
async function faultLoop(base: string, tally: Tally, until: number, rng: () => number): Promise<void> {
  const rpc = await RpcSocket.open(base);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)];
  const int = (lo: number, hi: number): number => lo + Math.floor(rng() * (hi - lo + 1));
  try {
    while (Date.now() < until - 2000) {
      await sleep(int(300, 1200));
      if (rng() < 0.3) {
        const armed = await armDeviceFault(base, rpc, rng, pick, int, tally);
        if (armed) tally.deviceFaultsArmed++;
        continue;
      }
      const reader = rng() < 0.5 ? 0 : 1;
      const kind = pick(KINDS);
      const spec: Record<string, unknown> = { kind };
      const eventKind = kind === 'remove-card' || kind === 'reset-card' || kind === 'unplug' || kind === 'power-fail';
      if (eventKind && rng() < 0.3) spec.now = true;
      else spec.trigger = { probability: Math.round((0.05 + rng() * 0.25) * 100) / 100, seed: int(0, 1_000_000) };
      if (kind === 'sw') spec.sw = pick(['6a82', '6f00', '6982', '6700']);
      if (kind === 'corrupt' && rng() < 0.3) spec.corruption = 'truncate';
      if (kind === 'slow') Object.assign(spec, { delayMs: int(0, 40), perByteMs: Math.round(rng() * 50) / 100 });
      if (kind === 'mute') spec.delayMs = int(50, 300);
      if (kind === 'unplug') spec.replugMs = int(100, 400);
      let armed: boolean;
      if (reader === 0) {
        const listed = await within(fetch(`${base}/v1/readers/0/faults`), OP_TIMEOUT_MS, 'GET faults');
        const count = listed.status === 200 ? ((await listed.json()) as { faults: unknown[] }).faults.length : 99;
        if (count >= 3) continue;
        const res = await within(fetch(`${base}/v1/readers/0/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(spec) }), OP_TIMEOUT_MS, 'arm over REST');
        await res.arrayBuffer();
        // 400: an event fault at once on a reader without a card; 404: the reader is unplugged right now.
        if (res.status !== 201 && res.status !== 400 && res.status !== 404) tally.fail(`arm over REST: HTTP ${res.status}`);
        armed = res.status === 201;
      } else {
        const listed = await rpc.call('vscr.fault.list', { reader: 1 });
        if (((listed.result?.faults as unknown[] | undefined)?.length ?? 99) >= 3) continue;
        const r = await rpc.call('vscr.fault.arm', { reader: 1, ...spec });
        if (r.error && r.error.code !== -32602 && r.error.code !== -32001) tally.fail(`arm over JSON-RPC: ${JSON.stringify(r.error)}`);
        armed = r.result !== undefined;
      }
      if (armed) tally.faultsArmed++;
      else tally.armRefused++;
    }
  } finally {
    for (const reader of [0, 1]) await rpc.call('vscr.fault.clear', { reader }).catch(() => undefined);
    await rpc.call('vscr.deviceFault.clear', { device: FAULTED_DEVICE }).catch(() => undefined);
    await rpc.close();
  }
}

/** One device fault on the faulted device, over REST or JSON-RPC at random; false when refused or 2 are armed. */
async function armDeviceFault(
  base: string,
  rpc: RpcSocket,
  rng: () => number,
  pick: <T>(xs: readonly T[]) => T,
  int: (lo: number, hi: number) => number,
  tally: Tally,
): Promise<boolean> {
  const listed = await rpc.call('vscr.deviceFault.list', { device: FAULTED_DEVICE });
  if (((listed.result?.faults as unknown[] | undefined)?.length ?? 99) >= 2) return false;
  const kind = pick(DEVICE_KINDS);
  const spec: Record<string, unknown> = { kind };
  if ((kind === 'latched-error' || kind === 'never-ready') && rng() < 0.3) spec.now = true;
  else spec.trigger = { probability: Math.round((0.05 + rng() * 0.25) * 100) / 100, seed: int(0, 1_000_000) };
  if (kind === 'latched-error') spec.code = int(1, 4);
  // Short hangs: each costs the device's clients a reset that times out until it ends.
  if (kind === 'never-ready') spec.holdMs = int(50, 400);
  if (rng() < 0.5) {
    const res = await within(fetch(`${base}/v1/devices/${FAULTED_DEVICE}/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(spec) }), OP_TIMEOUT_MS, 'arm a device fault over REST');
    await res.arrayBuffer();
    if (res.status !== 201) tally.fail(`arm ${JSON.stringify(spec)} on device ${FAULTED_DEVICE} over REST: HTTP ${res.status}`);
    return res.status === 201;
  }
  const r = await rpc.call('vscr.deviceFault.arm', { device: FAULTED_DEVICE, ...spec });
  if (r.error) tally.fail(`arm ${JSON.stringify(spec)} on device ${FAULTED_DEVICE} over JSON-RPC: ${JSON.stringify(r.error)}`);
  return r.result !== undefined;
}

// ---- the run ----------------------------------------------------------------------------------------------------

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

async function startServiceProcess(dataDir: string): Promise<{ child: ChildProcess; base: string; exited: Promise<number | null> }> {
  const port = await freePort();
  const log = createWriteStream(path.join(dataDir, 'service.log'));
  const child = spawn(process.execPath, ['--import', 'tsx', 'service/main.ts', '--host', '127.0.0.1', '--port', String(port), '--data-dir', dataDir, '--readers', '2', '--devices', '2', '--log-level', 'warn', '--log-format', 'json'], {
    cwd: ROOT,
    env: { ...process.env, VSCR_TOKEN: '', VSCR_CONFIG: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`the service exited ${child.exitCode} at start (log: ${path.join(dataDir, 'service.log')})`);
    const ok = await fetch(`${base}/health`).then((r) => r.status === 200, () => false);
    if (ok) return { child, base, exited };
    await sleep(200);
  }
  throw new Error('the service did not answer /health within 60 s');
}

const mib = (kib: number): string => `${(kib / 1024).toFixed(1)} MiB`;
const clock = (ms: number): string => `${Math.floor(ms / 60_000)}:${String(Math.floor((ms % 60_000) / 1000)).padStart(2, '0')}`;

async function main(): Promise<number> {
  const { minutes, seed, maxRssGrowthPct } = parseArgs(process.argv.slice(2));
  const dataDir = await mkdtemp(path.join(tmpdir(), 'vscr-soak-'));
  const tally = new Tally();
  const problems: string[] = [];
  const svc = await startServiceProcess(dataDir);
  const pid = svc.child.pid!;
  let crashed = false;
  let stopping = false;
  void svc.exited.then((code) => {
    if (!stopping) {
      crashed = true;
      problems.push(`the service exited (${code}) during the run`);
    }
  });
  try {
    // Reader 0 holds the default card (on device 0); reader 1 gets one whose crypto runs on the faulted device.
    const inserted = await fetch(`${svc.base}/v1/readers/1/card`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ device: FAULTED_DEVICE }) });
    if (inserted.status !== 201) throw new Error(`inserting a card in reader 1: HTTP ${inserted.status}`);
    const start = await metrics(svc.base);
    const baseSessions = start.get('vscr_pcsc_sessions') ?? 0;
    const env = { ...process.env, PCSCLITE_CSOCK_NAME: path.join(dataDir, 'pcscd.comm'), LC_ALL: 'C' };
    const py = await PyscardClient.start(env, READER_NAMES[0]);
    const rpcCard = await RpcCardClient.start(svc.base, READER_NAMES[1]);
    if ((await py.connect()) !== 0 || (await rpcCard.connect()) !== 0) throw new Error('the clients could not connect');

    const t0 = Date.now();
    const until = t0 + minutes * 60_000;
    const warmupEnd = t0 + Math.min(60_000, minutes * 60_000 * 0.2);
    let rssStart = NaN;
    const rng = prng(seed);
    const progress = setInterval(() => {
      void rssKiB(pid).then((rss) => {
        if (Number.isNaN(rssStart) && Date.now() >= warmupEnd) rssStart = rss;
        const line = `[soak ${clock(Date.now() - t0)}/${clock(until - t0)}] ops ${tally.ops}  errors ${tally.errorCount()}  wrong ${tally.wrong.length}  faults armed ${tally.faultsArmed}  rss ${mib(rss)}`;
        process.stdout.write(process.stdout.isTTY ? `\r${line}` : `${line}\n`);
      }, () => undefined);
    }, process.stdout.isTTY ? 1000 : 10_000);

    const settle = (what: string) => (err: unknown) => tally.fail(`${what} crashed: ${(err as Error).message}`);
    await Promise.all([
      cardLoop('pyscard', 0, null, py, svc.base, tally, until, prng(seed + 1)).catch(settle('pyscard client')),
      cardLoop('json-rpc', 1, FAULTED_DEVICE, rpcCard, svc.base, tally, until, prng(seed + 2)).catch(settle('JSON-RPC client')),
      restLoop(svc.base, tally, until, prng(seed + 3)).catch(settle('REST client')),
      faultedDeviceLoop(svc.base, tally, until, prng(seed + 4)).catch(settle('REST client of the faulted device')),
      faultLoop(svc.base, tally, until, rng).catch(settle('fault armer')),
    ]);
    clearInterval(progress);
    if (process.stdout.isTTY) process.stdout.write('\n');
    await py.close();
    await rpcCard.close();
    if (Number.isNaN(rssStart)) rssStart = await rssKiB(pid);

    // Let the closes land, then read what is left open.
    await sleep(1000);
    const end = await metrics(svc.base);
    const rssEnd = await rssKiB(pid);
    const health = await fetch(`${svc.base}/health`).then((r) => r.status, () => 0);
    const contexts = end.get('vscr_pcsc_contexts') ?? NaN;
    const handles = end.get('vscr_pcsc_card_handles') ?? NaN;
    const sessions = end.get('vscr_pcsc_sessions') ?? NaN;
    const fired = KINDS.map((k) => `${k} ${(firedOn(end, 'reader', 0).get(k) ?? 0) + (firedOn(end, 'reader', 1).get(k) ?? 0)}`).join(', ');
    const deviceFired = DEVICE_KINDS.map((k) => `${k} ${firedOn(end, 'device', FAULTED_DEVICE).get(k) ?? 0}`).join(', ');
    const growth = ((rssEnd - rssStart) / rssStart) * 100;

    console.log(`soak: ${minutes} min, seed ${seed}`);
    console.log(`ops done: ${tally.ops}`);
    console.log(`faults armed: ${tally.faultsArmed} (refused while the reader had no card or was unplugged: ${tally.armRefused}); fired: ${fired}`);
    console.log(`device faults armed on device ${FAULTED_DEVICE}: ${tally.deviceFaultsArmed}; fired: ${deviceFired}; resets asked for: ${tally.deviceResets}`);
    console.log(`errors (each explained by a fault that fired on that reader or device, else counted wrong): ${tally.errorCount()}`);
    for (const [what, n] of [...tally.errors].sort((a, b) => b[1] - a[1])) console.log(`  ${String(n).padStart(7)}  ${what}`);
    console.log(`wrong answers: ${tally.wrong.length}`);
    for (const w of tally.wrong.slice(0, 20)) console.log(`  ${w}`);
    console.log(`open at end: contexts ${contexts}, card handles ${handles}, sessions ${sessions} (at start ${baseSessions})`);
    console.log(`service RSS: start ${mib(rssStart)} (after warm-up), end ${mib(rssEnd)}, growth ${growth.toFixed(1)}% (limit ${maxRssGrowthPct}%)`);
    console.log(`health at end: ${health}`);

    if (tally.wrong.length > 0) problems.push(`${tally.wrong.length} wrong answer(s)`);
    if (contexts !== 0 || handles !== 0 || sessions !== baseSessions) problems.push('contexts, handles or sessions left open');
    if (!(growth < maxRssGrowthPct)) problems.push(`RSS grew ${growth.toFixed(1)}%`);
    if (health !== 200) problems.push(`/health answered ${health}`);
    if (tally.faultsArmed === 0) problems.push('no fault was armed');
    if (tally.deviceFaultsArmed === 0) problems.push('no device fault was armed');
  } catch (err) {
    problems.push(`soak run failed: ${(err as Error).stack ?? String(err)}`);
  } finally {
    stopping = true;
    if (!crashed) {
      svc.child.kill('SIGTERM');
      const code = await within(svc.exited, 30_000, 'service shutdown').catch(() => {
        svc.child.kill('SIGKILL');
        return -1;
      });
      if (code !== 0) problems.push(`the service exited ${code} on SIGTERM`);
    }
    if (problems.length === 0) await rm(dataDir, { recursive: true, force: true });
    else console.log(`service log kept: ${path.join(dataDir, 'service.log')}`);
  }
  console.log(problems.length === 0 ? 'soak: PASS' : `soak: FAIL: ${problems.join('; ')}`);
  return problems.length === 0 ? 0 : 1;
}

process.exitCode = await main();
