// A small, honest VirtualCard for driver-level tests: fixed ATR, records every call, answers a few APDUs.

import type { VirtualCard } from '../../smcard/card/contract.js';

/** T0 = 80 (TD1, no historical bytes), TD1 = 80 (T=0, TD2 follows), TD2 = 01 (T=1), TCK = 80^80^01 = 01. */
export const FIXTURE_ATR_T0_T1 = Uint8Array.from([0x3b, 0x80, 0x80, 0x01, 0x01]);
/** docs/smclib.md §8.1 minimal T=1 ATR. */
export const FIXTURE_ATR_T1 = Uint8Array.from([0x3b, 0x80, 0x01, 0x81]);
/** docs/smclib.md §8.1 minimal T=0 ATR (no TCK). */
export const FIXTURE_ATR_T0 = Uint8Array.from([0x3b, 0x00]);

export interface FixtureCardOptions {
  atr?: Uint8Array;
  supportedProtocols?: number;
  /** Replace the APDU behaviour. */
  respond?: (apdu: Uint8Array, protocol: number) => Uint8Array;
}

export class FixtureCard implements VirtualCard {
  readonly atr: Uint8Array;
  readonly supportedProtocols: number;
  readonly profile = 'fixture';
  powered = false;
  readonly calls: string[] = [];
  readonly transmits: { apdu: Uint8Array; protocol: number }[] = [];
  flushes = 0;
  private readonly respond?: FixtureCardOptions['respond'];

  constructor(opts: FixtureCardOptions = {}) {
    this.atr = opts.atr ?? FIXTURE_ATR_T0_T1;
    this.supportedProtocols = opts.supportedProtocols ?? 3;
    this.respond = opts.respond;
  }

  async coldReset(): Promise<Uint8Array> {
    this.calls.push('coldReset');
    this.powered = true;
    return this.atr.slice();
  }

  async warmReset(): Promise<Uint8Array> {
    this.calls.push('warmReset');
    this.powered = true;
    return this.atr.slice();
  }

  async powerDown(): Promise<void> {
    this.calls.push('powerDown');
    this.powered = false;
  }

  /** SELECT (A4) → 9000; GET DATA (CA) → Le bytes 00 01 02 … then 9000 (Le 00 ⇒ 256); otherwise 6D00. */
  async transmit(apdu: Uint8Array, protocol: number): Promise<Uint8Array> {
    this.calls.push('transmit');
    this.transmits.push({ apdu: apdu.slice(), protocol });
    if (this.respond) return this.respond(apdu, protocol);
    if (apdu.length >= 4 && apdu[1] === 0xa4) return Uint8Array.of(0x90, 0x00);
    if (apdu.length === 5 && apdu[1] === 0xca) {
      const n = apdu[4] === 0 ? 256 : apdu[4];
      const out = new Uint8Array(n + 2);
      for (let i = 0; i < n; i++) out[i] = i & 0xff;
      out.set([0x90, 0x00], n);
      return out;
    }
    return Uint8Array.of(0x6d, 0x00);
  }

  async flush(): Promise<void> {
    this.flushes++;
  }
}
