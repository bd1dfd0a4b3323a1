// The virtual PnP bus: AddDevice + interface arrival for new readers, surprise removal, and listeners.

import { pino, type Logger } from 'pino';
import { SMARTCARD_READER_GUID } from '../constants/smclib.js';
import type { ReaderBus, ReaderBusEvents, ReaderDeviceInterface, VirtualReader, VirtualReaderOptions } from './contract.js';
import { VirtualReaderImpl } from './virtual-reader.js';
import { ApduCounter } from './apdu-counts.js';

export interface ReaderBusOptions {
  logger?: Logger;
}

type Listeners = { [E in keyof ReaderBusEvents]: Set<ReaderBusEvents[E]> };

/** The bus implementation; `createReaderBus` returns it typed as the contract's ReaderBus. */
export class VirtualReaderBus implements ReaderBus {
  private readonly list: VirtualReaderImpl[] = [];
  private readonly listeners: Listeners = { arrival: new Set(), removal: new Set() };
  private instanceCounter = 0;
  /** Shared by every reader of the bus: one set of totals, bumped on each APDU. */
  readonly apduCounts = new ApduCounter();
  private readonly log: Logger;

  constructor(opts: ReaderBusOptions = {}) {
    this.log = (opts.logger ?? pino({ enabled: false })).child({ component: 'reader-bus' });
  }

  /** AddDevice, SmartcardInitialize, interface registration, then the `arrival` notification (synchronously). */
  addReader(options: VirtualReaderOptions = {}): VirtualReader {
    const unitNo = options.unitNo ?? this.lowestFreeUnit();
    if (!Number.isSafeInteger(unitNo) || unitNo < 0) throw new RangeError(`unitNo must be a non-negative integer, got ${unitNo}`);
    if (this.list.some((r) => r.unitNo === unitNo)) throw new Error(`unit number ${unitNo} is already in use`);
    const instance = String(this.instanceCounter++).padStart(4, '0');
    // One interface per device, reference string DEV<unit> as BIX does (docs/smclib.md §4.1).
    const symbolicLink = `\\\\?\\ROOT#SMARTCARDREADER#${instance}#${SMARTCARD_READER_GUID.toLowerCase()}\\DEV${unitNo}`;
    const reader = new VirtualReaderImpl({
      options,
      unitNo,
      symbolicLink,
      apduCounts: this.apduCounts,
      log: this.log.child({ reader: unitNo, variant: options.variant ?? 'correct' }),
    });
    this.list.push(reader);
    this.log.info({ unitNo, symbolicLink, variant: reader.variant }, 'reader arrived');
    this.emit('arrival', reader.device, reader);
    return reader;
  }

  /** Surprise removal: pending IRPs complete (tracking: CANCELLED), later IOCTLs get DEVICE_REMOVED, then `removal`. */
  removeReader(reader: VirtualReader): void {
    const index = this.list.findIndex((r) => r === reader);
    if (index < 0) throw new Error(`reader ${reader.unitNo} is not on this bus`);
    const impl = this.list[index];
    impl.device.surpriseRemove();
    impl.keypad?.abort(); // a PIN entry on an unplugged reader ends now
    this.list.splice(index, 1);
    const card = impl.card;
    if (card) void card.flush().catch((err: unknown) => this.log.error({ err }, 'card flush on reader removal failed'));
    this.log.info({ unitNo: impl.unitNo }, 'reader removed');
    this.emit('removal', impl.device, impl);
  }

  readers(): readonly VirtualReader[] {
    return [...this.list];
  }

  on<E extends keyof ReaderBusEvents>(event: E, listener: ReaderBusEvents[E]): () => void {
    const set = this.listeners[event] as Set<ReaderBusEvents[E]>;
    set.add(listener);
    return () => void set.delete(listener);
  }

  private emit(event: keyof ReaderBusEvents, iface: ReaderDeviceInterface, reader: VirtualReader): void {
    for (const listener of [...this.listeners[event]]) {
      try {
        listener(iface, reader);
      } catch (err) {
        this.log.error({ err, event }, 'reader bus listener threw');
      }
    }
  }

  private lowestFreeUnit(): number {
    const used = new Set(this.list.map((r) => r.unitNo));
    let n = 0;
    while (used.has(n)) n++;
    return n;
  }
}

/** The reader stack's entry point: one bus per process, holding every virtual reader. */
export function createReaderBus(opts: ReaderBusOptions = {}): ReaderBus {
  return new VirtualReaderBus(opts);
}
