// A VirtualCard wrapper that writes the card's session into a Transcript: power events with the ATR, protocol
// changes, and every APDU exchange with its timing and (when known) the PC/SC context and handle.

import { performance } from 'node:perf_hooks';
import type { VirtualCard } from '../card/contract.js';
import { statusWordMeaning } from './status-word-meaning.js';
import { maskedCommandHex, type ApduEntry, type PowerAction, type Transcript } from './transcript.js';

type ApduEvent = Omit<ApduEntry, 'seq' | 'time' | 'session'>;

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
    // Read the origin and the command before the card runs: both may change while it works. One object literal
    // with every field, filled in afterwards: this is the APDU path, and spread-built objects cost several µs.
    const origin = this.options.origin?.();
    const command = this.options.raw ? { hex: Buffer.from(apdu.buffer, apdu.byteOffset, apdu.byteLength).toString('hex'), masked: false } : maskedCommandHex(apdu);
    const entry: ApduEvent = { kind: 'apdu', command: command.hex, response: '', sw: '', meaning: '', protocol: protocolName(protocol), durationMs: 0 };
    if (command.masked) entry.masked = true;
    if (origin !== undefined) {
      entry.context = origin.context;
      entry.handle = origin.handle;
    }
    const t = performance.now();
    let response: Uint8Array;
    try {
      response = await this.card.transmit(apdu, protocol);
    } catch (err) {
      entry.meaning = 'No response.';
      entry.durationMs = ms(t);
      entry.error = (err as Error).message;
      this.transcript.add(entry);
      throw err;
    }
    entry.durationMs = ms(t);
    entry.response = Buffer.from(response.buffer, response.byteOffset, response.byteLength).toString('hex');
    if (response.length >= 2) {
      const sw1 = response[response.length - 2];
      const sw2 = response[response.length - 1];
      entry.sw = entry.response.slice(-4);
      entry.meaning = statusWordMeaning(sw1, sw2);
    } else entry.meaning = 'No status word.';
    this.transcript.add(entry);
    return response;
  }

  flush(): Promise<void> { return this.card.flush(); }

  /** Forwarded, so removing a recorded card still releases its state file (one file, one live card). */
  async close(): Promise<void> {
    if (this.card.close !== undefined) await this.card.close();
    else await this.card.flush();
  }

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
