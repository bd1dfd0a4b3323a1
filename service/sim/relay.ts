// A reader whose card lives in another PC/SC daemon (a real pcscd, or another vscr): a VirtualCard that forwards
// power and APDUs over the pcsc-lite wire, and a monitor that mirrors the remote card's arrival and removal.

import type { Logger } from 'pino';
import type { VirtualCard } from '../../smcard/card/contract.js';
import { atrProtocolMask, parseAtr } from '../../smcard/card/atr.js';
import type { VirtualReader } from '../../smcard/reader/contract.js';
import type { ReaderStateEntry } from '../pcsclite/index.js';
import { READER_STATE, SCARD_DISPOSITION } from '../contract/pcsclite.js';
import { PcscClient, PcscClientError } from './pcsc-client.js';

const NO_READERS = 0x8010002e; // SCARD_E_NO_READERS_AVAILABLE
const UNKNOWN_READER = 0x80100009; // SCARD_E_UNKNOWN_READER
const NO_SMARTCARD = 0x8010000c; // SCARD_E_NO_SMARTCARD

function atrOf(states: ReaderStateEntry[], reader: string): Uint8Array {
  return states.find((s) => s.readerName === reader)?.cardAtr ?? new Uint8Array(0);
}

/** The remote card, reached through one pcsc-lite context. */
export class RelayCard implements VirtualCard {
  readonly profile: string;
  atr: Uint8Array;
  readonly supportedProtocols: number;
  private on = false;
  private hCard = 0;
  private protocol = 0;
  /** Just connected: the reader's first cold reset is this connection's power-up, not a second one. */
  private fresh = true;

  private constructor(private readonly client: PcscClient, readonly remoteReader: string, connected: { hCard: number; protocol: number }, atr: Uint8Array) {
    this.profile = `relay:${remoteReader}`;
    this.hCard = connected.hCard;
    this.protocol = connected.protocol;
    this.atr = atr;
    // The remote daemon already negotiated; offering only its protocol keeps the local one the same.
    let offered = connected.protocol & 3;
    try {
      offered = atrProtocolMask(parseAtr(atr)) & (connected.protocol & 3 || 3);
    } catch {
      // an ATR our parser refuses still relays; the remote protocol decides
    }
    this.supportedProtocols = offered || connected.protocol || 2;
  }

  /** Connects (SHARED, T=0|T=1) to the remote reader's card and reads its ATR. */
  static async open(client: PcscClient, remoteReader: string): Promise<RelayCard> {
    const connected = await client.connect(remoteReader);
    return new RelayCard(client, remoteReader, connected, atrOf(await client.readerStates(), remoteReader));
  }

  get powered(): boolean {
    return this.on;
  }

  coldReset(): Promise<Uint8Array> {
    return this.reset(SCARD_DISPOSITION.UNPOWER_CARD);
  }

  warmReset(): Promise<Uint8Array> {
    return this.reset(SCARD_DISPOSITION.RESET_CARD);
  }

  async powerDown(): Promise<void> {
    this.on = false;
    this.fresh = false;
    if (this.hCard === 0 || this.client.isClosed) return;
    const h = this.hCard;
    this.hCard = 0;
    await this.client.disconnect(h, SCARD_DISPOSITION.UNPOWER_CARD).catch(() => undefined);
  }

  async transmit(apdu: Uint8Array): Promise<Uint8Array> {
    if (this.hCard === 0) await this.reset(SCARD_DISPOSITION.UNPOWER_CARD);
    // The remote protocol, whatever was negotiated locally: that is what the remote card speaks.
    return this.client.transmit(this.hCard, this.protocol, apdu);
  }

  async flush(): Promise<void> {}

  private async reset(initialization: number): Promise<Uint8Array> {
    if (this.fresh) {
      this.fresh = false;
    } else if (this.hCard === 0) {
      const c = await this.client.connect(this.remoteReader);
      this.hCard = c.hCard;
      this.protocol = c.protocol;
    } else {
      this.protocol = await this.client.reconnect(this.hCard, initialization);
    }
    const atr = atrOf(await this.client.readerStates(), this.remoteReader);
    if (atr.length > 0) this.atr = atr;
    this.on = true;
    return this.atr;
  }

  /** Ends the connection to the remote daemon; also the card contract's close(), so removal frees it too. */
  async close(): Promise<void> {
    this.client.destroy();
  }
}

export interface RelayTarget {
  insert(card: VirtualCard, label: string): Promise<unknown>;
  /** Removes the relay's card from the local reader, if it is still there. */
  remove(): Promise<void>;
  reader: VirtualReader;
}

export interface RelayStatus {
  socket: string;
  remoteReader: string;
  cardPresent: boolean;
}

/** One relay: the local reader mirrors `remoteReader` of the daemon at `socket` until stop(). */
export class Relay {
  private stopped = false;
  private card: RelayCard | null = null;
  private monitor: PcscClient | null = null;
  private counter = -1;
  private loop: Promise<void> = Promise.resolve();
  /** True while the relay itself takes its card out (a removal by anyone else ends the relay). */
  dropping = false;

  private constructor(
    readonly socket: string,
    readonly remoteReader: string,
    private readonly target: RelayTarget,
    private readonly log: Logger,
  ) {}

  /** Finds the remote reader (the named one, else the first), inserts its card if one is in, starts mirroring. */
  static async start(socket: string, remoteReader: string | undefined, target: RelayTarget, log: Logger): Promise<Relay> {
    const probe = await PcscClient.open(socket);
    let states: ReaderStateEntry[];
    try {
      states = await probe.readerStates();
    } finally {
      await probe.release().catch(() => undefined);
    }
    if (states.length === 0) throw new PcscClientError(NO_READERS, `no reader at ${socket}`);
    const remote = remoteReader === undefined ? states[0] : states.find((s) => s.readerName === remoteReader);
    if (remote === undefined) throw new PcscClientError(UNKNOWN_READER, `no reader "${remoteReader}" at ${socket} (readers: ${states.map((s) => s.readerName).join(', ')})`);
    const relay = new Relay(socket, remote.readerName, target, log);
    if ((remote.readerState & READER_STATE.PRESENT) !== 0) await relay.insertCard(remote.eventCounter);
    relay.monitor = await PcscClient.open(socket);
    relay.loop = relay.watch();
    return relay;
  }

  status(): RelayStatus {
    return { socket: this.socket, remoteReader: this.remoteReader, cardPresent: this.card !== null };
  }

  /** Is this card the relay's own (so its removal is the relay's doing)? */
  owns(card: VirtualCard | null): boolean {
    return card !== null && card === this.card;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.monitor?.destroy();
    await this.loop;
    await this.dropCard();
  }

  private async insertCard(counter: number): Promise<void> {
    const client = await PcscClient.open(this.socket);
    let card: RelayCard;
    try {
      card = await RelayCard.open(client, this.remoteReader);
    } catch (err) {
      client.destroy();
      throw err;
    }
    this.card = card;
    this.counter = counter;
    const outcome = await this.target.insert(card, card.profile);
    if (outcome !== 'inserted') {
      this.card = null;
      void card.close();
      throw new PcscClientError(NO_SMARTCARD, `local reader refused the relayed card (${String(outcome)})`);
    }
    this.log.info({ socket: this.socket, remoteReader: this.remoteReader }, 'relayed card inserted');
  }

  private async dropCard(): Promise<void> {
    const card = this.card;
    if (card === null) return;
    this.dropping = true;
    try {
      await this.target.remove();
    } finally {
      this.dropping = false;
    }
    this.card = null;
    void card.close();
    this.log.info({ socket: this.socket, remoteReader: this.remoteReader }, 'relayed card removed');
  }

  /** Mirrors the remote reader: a change signal, then the new states decide insert or remove. */
  private async watch(): Promise<void> {
    while (!this.stopped && this.monitor !== null) {
      try {
        const { states, changed } = await this.monitor.waitForChange();
        const remote = states.find((s) => s.readerName === this.remoteReader);
        const present = remote !== undefined && (remote.readerState & READER_STATE.PRESENT) !== 0;
        if (this.card !== null && (!present || remote.eventCounter !== this.counter)) await this.dropCard();
        if (present && this.card === null && !this.stopped) await this.insertCard(remote.eventCounter).catch((err: unknown) => this.log.warn({ err }, 'relayed card could not be inserted'));
        await changed;
      } catch (err) {
        if (!this.stopped) this.log.warn({ err }, 'relay monitor lost the remote daemon');
        break;
      }
    }
    if (!this.stopped) await this.dropCard();
  }
}
