// A VirtualCard wrapper that writes the card's session into a Transcript: power events with the ATR, protocol
// changes, and every APDU exchange with its timing and (when known) the PC/SC context and handle.

import { performance } from 'node:perf_hooks';
import type { VirtualCard } from '../card/contract.js';
import { maskedCommandHex, statusOf, type PowerAction, type Transcript } from './transcript.js';

/** Where a command came from, as the resource manager knows it. */
export interface ApduOrigin {
  context: number;
  handle: number;
}

export interface RecordingOptions {
  /** Record VERIFY / CHANGE REFERENCE DATA / RESET RETRY COUNTER data as sent (off: masked). */
  raw: boolean;
  /** The origin of the command being transmitted right now, if the caller knows it. */
  origin?: () => ApduOrigin | undefined;
  /** The label of the insert entry (profile or card kind). */
  label: string;
}

function protocolName(protocol: number): 'T=0' | 'T=1' {
  return protocol === 1 ? 'T=0' : 'T=1';
}

function ms(start: number): number {
  return Math.round((performance.now() - start) * 1000) / 1000;
}

class RecordingCard implements VirtualCard {
  private lastProtocol = 0;

  constructor(
    private readonly card: VirtualCard,
    private readonly transcript: Transcript,
    private readonly options: RecordingOptions,
  ) {
    transcript.add({ kind: 'insert', profile: options.label });
  }

  get atr(): Uint8Array { return this.card.atr; }
  get supportedProtocols(): number { return this.card.supportedProtocols; }
  get profile(): string { return this.card.profile; }
  get powered(): boolean { return this.card.powered; }

  coldReset(): Promise<Uint8Array> { return this.reset('cold', () => this.card.coldReset()); }
  warmReset(): Promise<Uint8Array> { return this.reset('warm', () => this.card.warmReset()); }

  async powerDown(): Promise<void> {
    const t = performance.now();
    this.lastProtocol = 0;
    try {
      await this.card.powerDown();
      this.transcript.add({ kind: 'power', action: 'unpower', durationMs: ms(t) });
    } catch (err) {
      this.transcript.add({ kind: 'power', action: 'unpower', durationMs: ms(t), error: (err as Error).message });
      throw err;
    }
  }

  async transmit(apdu: Uint8Array, protocol: number): Promise<Uint8Array> {
    if (protocol !== this.lastProtocol) {
      this.lastProtocol = protocol;
      this.transcript.add({ kind: 'protocol', protocol: protocolName(protocol) });
    }
    // Read the origin and the command before the card runs: both may change while it works.
    const origin = this.options.origin?.();
    const { hex, masked } = this.options.raw ? { hex: Buffer.from(apdu).toString('hex'), masked: false } : maskedCommandHex(apdu);
    const t = performance.now();
    const base = { kind: 'apdu' as const, command: hex, protocol: protocolName(protocol), ...(masked ? { masked: true as const } : {}), ...(origin ? { context: origin.context, handle: origin.handle } : {}) };
    let response: Uint8Array;
    try {
      response = await this.card.transmit(apdu, protocol);
    } catch (err) {
      this.transcript.add({ ...base, response: '', sw: '', meaning: 'No response.', durationMs: ms(t), error: (err as Error).message });
      throw err;
    }
    const { sw, meaning } = statusOf(response);
    this.transcript.add({ ...base, response: Buffer.from(response.buffer, response.byteOffset, response.byteLength).toString('hex'), sw, meaning, durationMs: ms(t) });
    return response;
  }

  flush(): Promise<void> { return this.card.flush(); }

  private async reset(action: PowerAction, run: () => Promise<Uint8Array>): Promise<Uint8Array> {
    const t = performance.now();
    this.lastProtocol = 0;
    try {
      const atr = await run();
      this.transcript.add({ kind: 'power', action, atr: Buffer.from(atr).toString('hex'), durationMs: ms(t) });
      return atr;
    } catch (err) {
      this.transcript.add({ kind: 'power', action, durationMs: ms(t), error: (err as Error).message });
      throw err;
    }
  }
}

/** Wraps `card` so its session is written to `transcript` (an `insert` entry opens it now). */
export function recordingCard(card: VirtualCard, transcript: Transcript, options: RecordingOptions): VirtualCard {
  return new RecordingCard(card, transcript, options);
}
