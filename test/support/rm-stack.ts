// Test support: the real reader bus + virtual cards (+ the crypto device when asked) under a resource manager,
// and bounded waits driven by the RM's onChange (no sleeps, no timed assertions).

import { createReaderBus } from '../../smcard/index.js';
import { createVirtualCard } from '../../smcard/card/index.js';
import { CryptoDeviceHost, type CryptoDeviceControl } from '../../crypto-device/index.js';
import type { ReaderBus, VirtualReader, VirtualReaderOptions } from '../../smcard/reader/contract.js';
import type { VirtualCard } from '../../smcard/card/contract.js';
import { createResourceManager } from '../../service/rm/index.js';
import type { ResourceManagerApi } from '../../service/rm/contract.js';

export interface Stack {
  bus: ReaderBus;
  readers: VirtualReader[];
  rm: ResourceManagerApi;
  crypto: CryptoDeviceControl | null;
  newCard(profile?: string): Promise<VirtualCard>;
  close(): Promise<void>;
}

/**
 * `powerDownDelayMs` defaults to 0 (never) here, not pcscd's 5 s: these suites test what one session sees, and a
 * slow run must not power a card down between two of their sessions. test/service/rm/idle-power.test.ts turns
 * it on.
 */
export async function makeStack(opts: { readers?: VirtualReaderOptions[]; cardsIn?: number[]; crypto?: boolean; powerDownDelayMs?: number } = {}): Promise<Stack> {
  let host: CryptoDeviceHost | null = null;
  let crypto: CryptoDeviceControl | null = null;
  if (opts.crypto) {
    host = new CryptoDeviceHost();
    const index = await host.addDevice({ keyString: 'secret', guestMemoryBytes: 16 * 1024 * 1024 });
    crypto = await host.open(index);
  }
  const newCard = (profile?: string): Promise<VirtualCard> => createVirtualCard({ profile, crypto: crypto ?? undefined });
  const bus = createReaderBus();
  const readers = (opts.readers ?? [{}]).map((o) => bus.addReader(o));
  for (const i of opts.cardsIn ?? []) readers[i].insertCard(await newCard());
  const rm = createResourceManager({ bus, powerDownDelayMs: opts.powerDownDelayMs ?? 0 });
  await withTimeout(rm.ready(), 5000, 'rm.ready()');
  return {
    bus,
    readers,
    rm,
    crypto,
    newCard,
    async close() {
      await rm.shutdown();
      for (const r of bus.readers()) bus.removeReader(r);
      await host?.shutdown();
    },
  };
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** Resolves once `predicate()` holds, re-checked on every RM change; fails after `ms`. */
export function waitForRm(rm: ResourceManagerApi, predicate: () => boolean, what: string, ms = 5000): Promise<void> {
  if (predicate()) return Promise.resolve();
  let off: () => void = () => undefined;
  const p = new Promise<void>((resolve) => {
    off = rm.onChange(() => {
      if (predicate()) resolve();
    });
  });
  return withTimeout(p, ms, what).finally(() => off());
}

/** True when `p` is still unsettled after several event-loop turns (it is really blocked, not just slow to start). */
export async function isBlocked(p: Promise<unknown>, turns = 20): Promise<boolean> {
  let settled = false;
  void p.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (let i = 0; i < turns && !settled; i++) await new Promise<void>((r) => setImmediate(r));
  return !settled;
}

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

export function bytes(h: string): Uint8Array {
  return new Uint8Array(Buffer.from(h.replace(/\s+/g, ''), 'hex'));
}

/** SELECT by AID (case 4, Le = 00) of the card's crypto applet (F0 76 73 63 72 01). */
export const SELECT_CRYPTO = bytes('00A4040006F0767363720100');

/** PSO:HASH (CLA 00, INS 2A, P1P2 9080) over `data`, case 4 short with Le = 00. */
export function psoHash(data: Uint8Array): Uint8Array {
  return Uint8Array.from([0x00, 0x2a, 0x90, 0x80, data.length, ...data, 0x00]);
}
