// The virtual readers the service hosts: adds/removes readers on the bus, inserts/removes cards, and joins the
// bus view with the resource manager's view (snapshots and diagnoses) into the REST reader shape.

import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { createVirtualCard, listProfiles, type CardCrypto } from '../../smcard/card/index.js';
import type { VirtualCard } from '../../smcard/card/contract.js';
import type { ReaderBus, ReaderDriverVariant, VirtualReader } from '../../smcard/reader/contract.js';
import type { ReaderSnapshot, ResourceManagerApi } from '../rm/contract.js';
import { toHex } from '../../kernel/bytes.js';
import { READER_STATE } from '../contract/pcsclite.js';
import type { RestReader } from '../contract/rest.js';
import { METRIC, type Metrics } from './metrics.js';

/** The REST shape of a reader (docs/service.md, GET /v1/readers), derived from its schema. */
export type ReaderView = RestReader;

/** A hook on the card slot (transcripts): wraps each card as it goes in, hears it come out. */
export interface CardSlotHook {
  wrap(reader: VirtualReader, card: VirtualCard, label: string): VirtualCard;
  removed(reader: VirtualReader): void;
}

export interface AddReaderOptions {
  vendorName?: string;
  ifdType?: string;
  variant?: ReaderDriverVariant;
  /** A PIN-pad reader (docs/pinpad.md). */
  pinpad?: boolean;
}

const STATE_NAMES = Object.entries(READER_STATE) as [string, number][];

export function readerStateNames(state: number): string[] {
  return STATE_NAMES.filter(([, bit]) => (state & bit) !== 0).map(([name]) => name);
}

function ms(value: number): number {
  return Math.round(value * 10) / 10;
}

/** How long a REST call waits for the resource manager to reflect a change before answering anyway. */
const RM_SETTLE_MS = 2000;

export class ReaderHost {
  private readonly names = new Map<VirtualReader, { vendorName: string; ifdType: string }>();
  private readonly cardIds = new Map<VirtualReader, string>();
  /** Ids of inserted cards and of cards being created: one id, one state file, one live card. */
  private readonly liveIds = new Set<string>();
  private readonly bus: ReaderBus;
  private rmApi: ResourceManagerApi | null = null;
  private slotHook: CardSlotHook | null = null;
  private readonly dataDir: string;
  /** Device id → the card applets' view of that device; a card picks one at insert (default 0). */
  private readonly cryptoFor: (device: number) => CardCrypto | undefined;
  private readonly logger: Logger;
  private readonly metrics: Metrics;

  /** `crypto`: one device for every card, or a lookup by device id (undefined: no such device). */
  constructor(opts: { bus: ReaderBus; dataDir: string; crypto?: CardCrypto | ((device: number) => CardCrypto | undefined); logger: Logger; metrics: Metrics }) {
    this.bus = opts.bus;
    this.dataDir = opts.dataDir;
    const crypto = opts.crypto;
    this.cryptoFor = typeof crypto === 'function' ? crypto : (device) => (device === 0 ? crypto : undefined);
    this.logger = opts.logger;
    this.metrics = opts.metrics;
    // The readers count the APDUs they carry (smcard/reader/apdu-counts.ts); /metrics reads the totals. A sample
    // appears with the first APDU, as it did when the service counted them itself.
    const apdus = this.bus.apduCounts;
    this.metrics.addCounterSource(...METRIC.apdus, () => (apdus.commands > 0 ? [{ labels: {}, value: apdus.commands }] : []));
    this.metrics.addCounterSource(...METRIC.apduBytes, () => [
      ...(apdus.commands > 0 ? [{ labels: { direction: 'command' }, value: apdus.commandBytes }] : []),
      ...(apdus.responses > 0 ? [{ labels: { direction: 'response' }, value: apdus.responseBytes }] : []),
    ]);
    this.metrics.addCollector(() => {
      const readers = this.bus.readers();
      this.metrics.set(...METRIC.readers, {}, readers.length);
      this.metrics.set(...METRIC.cardsPresent, {}, readers.filter((r) => r.card !== null).length);
      this.metrics.set(...METRIC.readersPublished, {}, this.rmApi?.readerStates().length ?? 0);
      const usage = this.rmApi?.usage?.();
      if (usage) {
        this.metrics.set(...METRIC.pcscSessions, {}, usage.sessions);
        this.metrics.set(...METRIC.pcscContexts, {}, usage.contexts);
        this.metrics.set(...METRIC.pcscCardHandles, {}, usage.cardHandles);
      }
    });
  }

  /** The resource manager is created after the start-up readers exist, so it finds them at its start. */
  attachResourceManager(rm: ResourceManagerApi): void {
    this.rmApi = rm;
  }

  setCardSlotHook(hook: CardSlotHook): void {
    this.slotHook = hook;
  }

  private get rm(): ResourceManagerApi {
    if (this.rmApi === null) throw new Error('ReaderHost used before attachResourceManager()');
    return this.rmApi;
  }

  profiles(): string[] {
    return listProfiles();
  }

  /** Adds a reader to the bus without waiting (start-up, before the resource manager exists). */
  addReaderNow(options: AddReaderOptions = {}): VirtualReader {
    const reader = this.bus.addReader({ vendorName: options.vendorName, ifdType: options.ifdType, variant: options.variant, pinpad: options.pinpad });
    this.names.set(reader, { vendorName: options.vendorName ?? 'vscr', ifdType: options.ifdType ?? 'Virtual Reader' });
    this.logger.info({ unitNo: reader.unitNo, variant: reader.variant }, 'reader added');
    return reader;
  }

  /** The options a reader was added with (to plug an equal one back after an unplug fault). */
  addOptionsOf(reader: VirtualReader): AddReaderOptions {
    const names = this.names.get(reader);
    return { vendorName: names?.vendorName, ifdType: names?.ifdType, variant: reader.variant, pinpad: reader.keypad != null };
  }

  /** Adds a reader and waits until the resource manager has published it or given up on it. */
  async addReader(options: AddReaderOptions = {}): Promise<VirtualReader> {
    const reader = this.addReaderNow(options);
    await this.waitForRm(() => this.rm.diagnose().some((d) => d.symbolicLink === reader.device.symbolicLink && (d.published || d.failure !== null)));
    return reader;
  }

  async removeReader(reader: VirtualReader): Promise<void> {
    const link = reader.device.symbolicLink;
    const card = reader.card;
    this.bus.removeReader(reader);
    this.names.delete(reader);
    const cardId = this.cardIds.get(reader);
    this.cardIds.delete(reader);
    if (card !== null) this.slotHook?.removed(reader);
    if (card !== null) await this.closeCard(card, cardId);
    await this.waitForRm(() => !this.rm.readerStates().some((s) => s.symbolicLink === link));
    this.logger.info({ unitNo: reader.unitNo }, 'reader removed');
  }

  /** `:reader` is a unit number (decimal) or the exact pcsc-lite reader name. */
  find(ref: string): VirtualReader | undefined {
    const readers = this.bus.readers();
    if (/^\d{1,4}$/.test(ref)) return readers.find((r) => r.unitNo === Number(ref));
    return readers.find((r) => this.nameOf(r, this.snapshotOf(r)) === ref);
  }

  /** `occupied`/`gone` when the slot was taken or the reader removed while the card was being created. */
  /** Whether a card can be given crypto device `device` (GET /v1/devices lists them). */
  hasDevice(device: number): boolean {
    return Number.isSafeInteger(device) && device >= 0 && (device === 0 || this.cryptoFor(device) !== undefined);
  }

  /** `device`: the crypto device the card's applets use (default 0). Check it with hasDevice first. */
  async insertCard(reader: VirtualReader, profile: string, device = 0): Promise<'inserted' | 'occupied' | 'gone'> {
    const crypto = this.cryptoFor(device);
    if (device !== 0 && crypto === undefined) throw new RangeError(`no crypto device ${device}`);
    // Reserved before the first await, so two concurrent inserts can never pick the same id (and state file).
    const cardId = this.allocateCardId(profile, reader);
    let card: VirtualCard;
    const t0 = performance.now();
    try {
      card = await createVirtualCard({ profile, crypto, dataDir: this.dataDir, cardId, logger: this.logger.child({ card: cardId }) });
    } catch (err) {
      this.liveIds.delete(cardId);
      throw err;
    }
    const t1 = performance.now();
    // Another request may have filled the slot while this card was being created; checked and inserted with no
    // await in between, so exactly one insert wins.
    const outcome = !this.bus.readers().includes(reader) ? 'gone' : reader.card !== null ? 'occupied' : null;
    if (outcome !== null) {
      await this.closeCard(card, cardId);
      return outcome;
    }
    const before = this.snapshotOf(reader)?.eventCounter;
    reader.insertCard(this.slotHook?.wrap(reader, card, profile) ?? card);
    this.cardIds.set(reader, cardId);
    await this.waitForRm(() => this.settled(reader, before, true));
    // The split shows where insert latency goes: card creation (state file) vs the RM's tracking IRP + power-up.
    this.logger.info({ unitNo: reader.unitNo, profile, cardId, device, createMs: ms(t1 - t0), rmMs: ms(performance.now() - t1) }, 'card inserted');
    return 'inserted';
  }

  /** Inserts a card made elsewhere (script, replay, relay, card module); `label` names it in listings' logs. */
  async insertPreparedCard(reader: VirtualReader, card: VirtualCard, label: string): Promise<'inserted' | 'occupied' | 'gone'> {
    if (!this.bus.readers().includes(reader)) return 'gone';
    if (reader.card !== null) return 'occupied';
    const before = this.snapshotOf(reader)?.eventCounter;
    reader.insertCard(this.slotHook?.wrap(reader, card, label) ?? card);
    await this.waitForRm(() => this.settled(reader, before, true));
    this.logger.info({ unitNo: reader.unitNo, card: label }, 'card inserted');
    return 'inserted';
  }

  async removeCard(reader: VirtualReader): Promise<boolean> {
    const before = this.snapshotOf(reader)?.eventCounter;
    const card = reader.removeCard();
    if (card === null) return false;
    this.slotHook?.removed(reader);
    const cardId = this.cardIds.get(reader);
    this.cardIds.delete(reader);
    this.logger.info({ unitNo: reader.unitNo }, 'card removed');
    await this.closeCard(card, cardId);
    await this.waitForRm(() => this.settled(reader, before, false));
    return true;
  }

  /**
   * The first free id of `profile`, `profile-<unit>`, `profile-<unit>-2`, … (the first two are the ids earlier
   * versions used, so their state files still match). Synchronous: check and reserve happen in one turn.
   */
  private allocateCardId(profile: string, reader: VirtualReader): string {
    const base = `${profile}-${reader.unitNo}`;
    let id = profile;
    for (let n = 1; this.liveIds.has(id); n++) id = n === 1 ? base : `${base}-${n}`;
    this.liveIds.add(id);
    return id;
  }

  /** Flushes a card and releases its state file, then its id (in that order, so the id is free only when the file is). */
  private async closeCard(card: VirtualCard, cardId: string | undefined): Promise<void> {
    try {
      if (card.close !== undefined) await card.close();
      else await card.flush();
    } catch (err) {
      this.logger.error({ err }, 'flushing card state failed');
    } finally {
      if (cardId !== undefined) this.liveIds.delete(cardId);
    }
  }

  /** Persists every inserted card's state and releases its state file (shutdown). */
  async flushAll(): Promise<void> {
    for (const reader of this.bus.readers()) if (reader.card !== null) await this.closeCard(reader.card, this.cardIds.get(reader));
  }

  list(): ReaderView[] {
    return this.bus.readers().map((r) => this.describe(r));
  }

  describe(reader: VirtualReader): ReaderView {
    const snap = this.snapshotOf(reader);
    const diag = this.rm.diagnose().find((d) => d.symbolicLink === reader.device.symbolicLink);
    const state = snap?.readerState ?? (reader.card !== null ? READER_STATE.PRESENT : READER_STATE.ABSENT);
    return {
      index: reader.unitNo,
      name: this.nameOf(reader, snap),
      symbolicLink: reader.device.symbolicLink,
      state,
      stateNames: readerStateNames(state),
      cardPresent: reader.card !== null,
      atr: snap !== undefined && snap.atr.length > 0 ? toHex(snap.atr) : null,
      protocol: snap?.protocol ?? 0,
      eventCounter: snap?.eventCounter ?? 0,
      sharing: snap?.sharing ?? 0,
      published: diag?.published ?? snap !== undefined,
      failure: diag?.failure ?? null,
      variant: reader.variant,
      profile: reader.card?.profile ?? null,
      pinpad: reader.keypad != null,
    };
  }

  private snapshotOf(reader: VirtualReader): ReaderSnapshot | undefined {
    return this.rm.readerStates().find((s) => s.symbolicLink === reader.device.symbolicLink);
  }

  private nameOf(reader: VirtualReader, snap: ReaderSnapshot | undefined): string {
    if (snap !== undefined) return snap.name;
    const diagName = this.rm.diagnose().find((d) => d.symbolicLink === reader.device.symbolicLink)?.name;
    if (diagName) return diagName;
    const n = this.names.get(reader) ?? { vendorName: 'vscr', ifdType: 'Virtual Reader' };
    return `${n.vendorName} ${n.ifdType} ${reader.unitNo.toString(16).toUpperCase().padStart(2, '0')} 00`;
  }

  /** The RM has caught up with an insert/remove: counter moved (or reader unpublished/failed) and presence matches. */
  private settled(reader: VirtualReader, before: number | undefined, present: boolean): boolean {
    const snap = this.snapshotOf(reader);
    if (snap === undefined) return true;
    const hasCard = (snap.readerState & READER_STATE.PRESENT) !== 0;
    return hasCard === present && snap.eventCounter !== before;
  }

  private waitForRm(done: () => boolean, timeoutMs = RM_SETTLE_MS): Promise<boolean> {
    if (done()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const finish = (ok: boolean): void => {
        clearTimeout(timer);
        off();
        resolve(ok);
      };
      const timer = setTimeout(() => finish(false), timeoutMs);
      const off = this.rm.onChange(() => {
        if (done()) finish(true);
      });
    });
  }
}
