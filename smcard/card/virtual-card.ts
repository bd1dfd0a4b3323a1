// The virtual card: contacts (ATR, resets, power) around the APDU processor, with its state kept in memory
// and, when a data directory is given, in <dataDir>/cards/<cardId>.json.

import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { responseApdu } from './apdu.js';
import { ApduProcessor, type ProcessHooks } from './apdu-processor.js';
import { atrProtocolMask, parseAtr } from './atr.js';
import type { Applet, AppletPersistence, CardContext, CardCrypto } from './card-context.js';
import { applyState, serializeState } from './card-state.js';
import type { VirtualCard } from './contract.js';
import { createApplet } from './applet-types.js';
import { CardOptionsError } from './errors.js';
import { CardFileSystem } from './file-system.js';
import { parseHex, toHex } from './hex.js';
import { createRandomSource } from './random-pool.js';
import { Secret, type PinState } from './pin.js';
import { validateProfile, type CardProfile } from './profile.js';
import { DEFAULT_PROFILE, loadProfile } from './profile-registry.js';
import { CardStateStore } from './state-store.js';
import { SW } from './status-words.js';

export interface CreateVirtualCardOptions {
  /** A built-in profile name (default `default`) or a profile object (validated). */
  profile?: string | CardProfile;
  /** The crypto device the applet uses; without it the applet's crypto commands answer 6A81. */
  crypto?: CardCrypto;
  /** Where `cards/<cardId>.json` lives; without it the card is in memory only. */
  dataDir?: string;
  /** Defaults to the profile name. Letters, digits, '.', '_' and '-', not starting with '.'. */
  cardId?: string;
  logger?: Logger;
}

const CARD_ID_RE = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/;

/**
 * Builds a card from a profile and loads its saved state. Rejects with CardProfileError (bad/unknown profile),
 * CardOptionsError (bad cardId) or CardStateError (the state file exists but is unusable; it is left as is).
 */
export async function createVirtualCard(opts: CreateVirtualCardOptions = {}): Promise<VirtualCard> {
  const profile = typeof opts.profile === 'object' ? validateProfile(opts.profile, 'custom profile') : loadProfile(opts.profile ?? DEFAULT_PROFILE);
  const cardId = opts.cardId ?? profile.name;
  if (!CARD_ID_RE.test(cardId)) throw new CardOptionsError(`cardId ${JSON.stringify(cardId)} must match ${CARD_ID_RE}`);
  const store = opts.dataDir === undefined ? null : new CardStateStore(join(opts.dataDir, 'cards', `${cardId}.json`));
  const card = new VirtualCardImpl(profile, cardId, opts.crypto ?? null, store, (opts.logger ?? pino({ level: 'silent' })).child({ component: 'card', cardId }));
  if (store && !opts.crypto && card.sealsSecrets) {
    throw new CardOptionsError(`profile "${profile.name}" holds private keys, which are only stored encrypted by a crypto device; give the card one, or no data directory`);
  }
  // Claimed before reading, so the state loaded is the state this card alone will write.
  await store?.claim();
  try {
    await card.load();
  } catch (err) {
    await store?.release();
    throw err;
  }
  return card;
}

class VirtualCardImpl implements VirtualCard {
  readonly atr: Uint8Array;
  readonly supportedProtocols: number;
  readonly profile: string;
  readonly cardId: string;
  private isPowered = false;
  private readonly ctx: CardContext;
  private readonly processor = new ApduProcessor();
  private dirty = false;
  private changes = 0;
  /** Last text written (or loaded), so unchanged state is not rewritten. */
  private savedText: string | null = null;
  /** Built once rather than per command (the processor only calls them). */
  private readonly hooks: ProcessHooks = {
    isDirty: () => this.dirty,
    changeCount: () => this.changes,
    save: () => this.save(),
  };
  /** One command or flush at a time, in arrival order, as a card's single I/O line allows. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    profile: CardProfile,
    cardId: string,
    crypto: CardCrypto | null,
    private readonly store: CardStateStore | null,
    private readonly logger: Logger,
  ) {
    // validateProfile has already checked the ATR and all hex.
    this.atr = parseHex(profile.atr)!;
    this.supportedProtocols = atrProtocolMask(parseAtr(this.atr));
    this.profile = profile.name;
    this.cardId = cardId;
    const fs = new CardFileSystem(profile);
    const ascii = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'latin1'));
    const pins: PinState = {
      pin: new Secret(ascii(profile.pin.value), profile.pin.maxRetries),
      puk: new Secret(ascii(profile.puk.value), profile.puk.maxRetries),
      minLength: profile.pin.minLength ?? 4,
      verified: false,
    };
    const applets: Applet[] = profile.applets.map(createApplet);
    this.ctx = {
      fs,
      pins,
      applets,
      crypto,
      random: createRandomSource(),
      logger,
      currentDf: fs.mf,
      currentEf: null,
      selectedApplet: null,
      markDirty: () => {
        this.dirty = true;
        this.changes += 1;
      },
    };
  }

  get powered(): boolean {
    return this.isPowered;
  }

  /** Some applet keeps secrets that may only be stored sealed by the crypto device. */
  get sealsSecrets(): boolean {
    return this.ctx.applets.some((a) => a.persistence?.sealsSecrets === true);
  }

  /** Applets with a section of their own in the state file, by AID hex. */
  private persistentApplets(): Map<string, AppletPersistence> {
    const out = new Map<string, AppletPersistence>();
    for (const a of this.ctx.applets) if (a.persistence) out.set(toHex(a.aid).toUpperCase(), a.persistence);
    return out;
  }

  async load(): Promise<void> {
    const applets = this.persistentApplets();
    const doc = this.store ? await this.store.load() : null;
    let sections: Record<string, unknown> = {};
    let outdated = false;
    if (this.store && doc !== null) {
      ({ applets: sections, outdated } = await applyState(this.store.file, doc, this.profile, this.ctx.fs, this.ctx.pins, this.ctx.crypto, new Set(applets.keys())));
    }
    let initialized = false;
    for (const [key, persistence] of applets) {
      if (this.store && Object.hasOwn(sections, key)) await persistence.restore(this.ctx, sections[key], this.store.file);
      else {
        // First insert of this applet: factory state (keys generated now), written at once so it stays the same.
        await persistence.initialize(this.ctx);
        initialized = true;
      }
    }
    if (!this.store) return;
    if (doc !== null) {
      // An outdated file (PIN and PUK in plain hex) is not what a save would write: rewrite it at once.
      this.savedText = outdated ? null : await this.serialize();
      this.logger.debug({ file: this.store.file, outdated }, 'card state loaded');
    }
    if (initialized || outdated) await this.save();
  }

  private async serialize(): Promise<string> {
    const sections: Record<string, unknown> = {};
    for (const [key, persistence] of this.persistentApplets()) sections[key] = await persistence.snapshot(this.ctx);
    return serializeState(this.profile, this.ctx.fs, this.ctx.pins, this.ctx.crypto, sections);
  }

  coldReset(): Promise<Uint8Array> {
    return this.enqueue(async () => {
      this.isPowered = true;
      this.clearVolatile();
      return this.atr.slice();
    });
  }

  warmReset(): Promise<Uint8Array> {
    // Same volatile-state rule as a cold reset (contract); an unpowered card is powered by it.
    return this.coldReset();
  }

  powerDown(): Promise<void> {
    return this.enqueue(async () => {
      this.isPowered = false;
      this.clearVolatile();
    });
  }

  transmit(apdu: Uint8Array, protocol: number): Promise<Uint8Array> {
    return this.enqueue(async () => {
      if (!this.isPowered) {
        // The reader should not send to an unpowered card; answer without touching any state.
        this.logger.debug('transmit to an unpowered card; answering 6F00');
        return responseApdu(new Uint8Array(0), SW.NO_PRECISE_DIAGNOSIS);
      }
      return this.processor.process(this.ctx, new Uint8Array(apdu), protocol, this.hooks);
    });
  }

  flush(): Promise<void> {
    return this.enqueue(() => this.save());
  }

  close(): Promise<void> {
    return this.enqueue(async () => {
      try {
        await this.save();
      } finally {
        await this.store?.release();
      }
    });
  }

  private clearVolatile(): void {
    this.processor.reset();
    this.ctx.currentDf = this.ctx.fs.mf;
    this.ctx.currentEf = null;
    this.ctx.selectedApplet = null;
    this.ctx.pins.verified = false;
    for (const applet of this.ctx.applets) applet.reset?.();
  }

  /** Writes the state when it differs from what is on disk; in-memory cards just clear the flag. */
  private async save(): Promise<void> {
    if (!this.store) {
      this.dirty = false;
      return;
    }
    const text = await this.serialize();
    if (text !== this.savedText) {
      await this.store.write(text);
      this.savedText = text;
    }
    this.dirty = false;
  }

  private enqueue<T>(job: () => Promise<T>): Promise<T> {
    const run = this.queue.then(job, job);
    this.queue = run.catch(() => undefined);
    return run;
  }
}
