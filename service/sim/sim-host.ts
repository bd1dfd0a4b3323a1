// The simulation features of the reader host: a transcript per reader (every card goes in through the slot
// hook), scripted and replayed cards with their verdicts, cards from TypeScript modules, and relayed cards.

import type { Logger } from 'pino';
import type { VirtualCard } from '../../smcard/card/contract.js';
import type { VirtualReader } from '../../smcard/reader/contract.js';
import { loadCardModule, type CardModule } from '../../smcard/sim/card-module.js';
import type { CardScript } from '../../smcard/sim/card-script.js';
import { recordingCard } from '../../smcard/sim/recording-card.js';
import { ScriptCard, type ScriptVerdict } from '../../smcard/sim/script-card.js';
import { DEFAULT_TRANSCRIPT_LIMITS, Transcript, type TranscriptLimits } from '../../smcard/sim/transcript.js';
import type { CardSlotHook, ReaderHost } from '../runtime/readers.js';
import { apduOrigin } from '../rm/apdu-origin.js';
import { Relay, type RelayStatus } from './relay.js';

/**
 * `npm start` (bin/vscr-service.js) runs a bundle without a TypeScript loader and leaves this hook to register
 * tsx when a .ts card module is first loaded; under tsx or vitest the hook is absent and the loader already there.
 */
async function typescriptLoader(): Promise<void> {
  const hook = (globalThis as Record<symbol, unknown>)[Symbol.for('vscr.typescriptLoader')];
  if (typeof hook === 'function') await (hook as () => Promise<void>)();
}

export type InsertOutcome = 'inserted' | 'occupied' | 'gone';

export interface SimHostOptions {
  readers: ReaderHost;
  logger: Logger;
  /** Record PIN bytes as sent (default: masked). */
  rawTranscripts?: boolean;
  limits?: TranscriptLimits;
}

export class SimHost implements CardSlotHook {
  readonly raw: boolean;
  private readonly readers: ReaderHost;
  private readonly logger: Logger;
  private readonly limits: TranscriptLimits;
  private readonly transcripts = new WeakMap<VirtualReader, Transcript>();
  /** The last scripted (or replayed) card of each reader; kept after removal so its verdict can still be read. */
  private readonly scripted = new WeakMap<VirtualReader, ScriptCard>();
  private readonly modules = new Map<string, CardModule>();
  private readonly relays = new Map<VirtualReader, Relay>();
  /** Stops for what runs in the background (relay monitors), run by close(). */
  private readonly stoppers = new Set<() => Promise<void>>();

  constructor(opts: SimHostOptions) {
    this.readers = opts.readers;
    this.logger = opts.logger;
    this.raw = opts.rawTranscripts ?? false;
    this.limits = opts.limits ?? DEFAULT_TRANSCRIPT_LIMITS;
    this.readers.setCardSlotHook(this);
  }

  transcriptOf(reader: VirtualReader): Transcript {
    let t = this.transcripts.get(reader);
    if (t === undefined) {
      t = new Transcript(this.limits);
      this.transcripts.set(reader, t);
    }
    return t;
  }

  wrap(reader: VirtualReader, card: VirtualCard, label: string): VirtualCard {
    const link = reader.device.symbolicLink;
    return recordingCard(card, this.transcriptOf(reader), { raw: this.raw, label, origin: () => apduOrigin(link) });
  }

  removed(reader: VirtualReader): void {
    this.transcriptOf(reader).add({ kind: 'remove' });
    // Someone else took the relayed card out (REST, reader removal): the relay ends with it.
    const relay = this.relays.get(reader);
    if (relay !== undefined && !relay.dropping) {
      this.relays.delete(reader);
      void relay.stop();
    }
  }

  /** Mirrors the card of `remoteReader` (default: the first reader) of the pcsc-lite daemon at `socket`. */
  async startRelay(reader: VirtualReader, socket: string, remoteReader?: string): Promise<RelayStatus> {
    await this.stopRelay(reader);
    const relay = await Relay.start(socket, remoteReader, {
      reader,
      insert: (card, label) => this.readers.insertPreparedCard(reader, card, label),
      remove: async () => {
        await this.readers.removeCard(reader);
      },
    }, this.logger.child({ relay: reader.unitNo }));
    this.relays.set(reader, relay);
    return relay.status();
  }

  relayStatus(reader: VirtualReader): RelayStatus | null {
    return this.relays.get(reader)?.status() ?? null;
  }

  async stopRelay(reader: VirtualReader): Promise<boolean> {
    const relay = this.relays.get(reader);
    if (relay === undefined) return false;
    this.relays.delete(reader);
    await relay.stop();
    return true;
  }

  /** Inserts a card answering from `script`; its verdict is readable until the next script on this reader. */
  async insertScript(reader: VirtualReader, script: CardScript, label?: string): Promise<InsertOutcome> {
    const card = new ScriptCard(script, label);
    const outcome = await this.readers.insertPreparedCard(reader, card, card.profile);
    if (outcome === 'inserted') this.scripted.set(reader, card);
    return outcome;
  }

  verdict(reader: VirtualReader): ScriptVerdict | null {
    return this.scripted.get(reader)?.verdict() ?? null;
  }

  async registerModule(file: string): Promise<CardModule> {
    if (/\.[cm]?ts$/i.test(file)) await typescriptLoader();
    const mod = await loadCardModule(file);
    this.modules.set(mod.name, mod);
    this.logger.info({ card: mod.name, path: mod.path }, 'card module loaded');
    return mod;
  }

  moduleNames(): string[] {
    return [...this.modules.keys()];
  }

  async insertModule(reader: VirtualReader, name: string): Promise<InsertOutcome | 'unknown'> {
    const mod = this.modules.get(name);
    if (mod === undefined) return 'unknown';
    return this.readers.insertPreparedCard(reader, mod.create(), name);
  }

  async insertCard(reader: VirtualReader, card: VirtualCard, label: string): Promise<InsertOutcome> {
    return this.readers.insertPreparedCard(reader, card, label);
  }

  /** Registers a background task's stop; returns the function that unregisters it. */
  onClose(stop: () => Promise<void>): () => void {
    this.stoppers.add(stop);
    return () => this.stoppers.delete(stop);
  }

  async close(): Promise<void> {
    const relays = [...this.relays.values()];
    this.relays.clear();
    await Promise.allSettled(relays.map((r) => r.stop()));
    const all = [...this.stoppers];
    this.stoppers.clear();
    await Promise.allSettled(all.map((stop) => stop()));
  }
}
