// One virtual reader: AddDevice (extension set-up, SmartcardInitialize, callbacks), its device object, the card
// slot driven from outside (insert/remove), and its IOCTL trace.

import type { Logger } from 'pino';
import { NTSTATUS, NtStatusError, formatNtStatus } from '../../kernel/ntstatus.js';
import { winScardStateName } from '../constants/scard.js';
import { createSmartcardExtension, currentAtr, SmartcardInitialize, type SmartcardExtension } from '../smclib/extension.js';
import type { VirtualCard } from '../card/contract.js';
import { installReaderCallbacks, updateCardState, type ReaderDriverContext } from './callbacks.js';
import type { IoctlTraceEntry, ReaderDriverVariant, VirtualReader, VirtualReaderOptions } from './contract.js';
import { DEFAULT_READER_DRIVER_CONFIG, type ReaderDriverConfig } from './driver-config.js';
import { ReaderDevice } from './reader-device.js';
import { IoctlTrace } from './trace.js';
import { ReaderFaults } from './faults/reader-faults.js';
import type { Keypad } from './pinpad/keypad.js';
import { PinpadDriver } from './pinpad/pinpad-driver.js';

/** Thrown by insertCard/removeCard misuse; `code` matches the REST error codes. */
export class ReaderSlotError extends Error {
  constructor(
    readonly code: 'VSCR_ERR_CARD_PRESENT' | 'VSCR_ERR_READER_REMOVED',
    message: string,
  ) {
    super(message);
    this.name = 'ReaderSlotError';
  }
}

export interface VirtualReaderInit {
  options: VirtualReaderOptions;
  unitNo: number;
  symbolicLink: string;
  log: Logger;
}

export class VirtualReaderImpl implements VirtualReader {
  readonly device: ReaderDevice;
  readonly unitNo: number;
  readonly variant: ReaderDriverVariant;
  readonly config: ReaderDriverConfig;
  /** The SMARTCARD_EXTENSION (exposed for diagnostics and tests; the RM must use IOCTLs). */
  readonly extension: SmartcardExtension;
  private slot: VirtualCard | null = null;
  /** The PIN pad of a `pinpad` reader, null for a plain one. */
  readonly pinpad: PinpadDriver | null;
  /** Faults armed on this reader (docs/faults.md). */
  readonly faults = new ReaderFaults();
  private readonly ioTrace: IoctlTrace;
  private readonly log: Logger;

  constructor(init: VirtualReaderInit) {
    const o = init.options;
    this.unitNo = init.unitNo;
    this.variant = o.variant ?? 'correct';
    this.config = { ...DEFAULT_READER_DRIVER_CONFIG, ...o.driver };
    this.log = init.log;
    this.ioTrace = new IoctlTrace(o.traceCapacity ?? 1024);
    this.extension = createSmartcardExtension({
      vendorName: o.vendorName ?? 'vscr',
      ifdType: o.ifdType ?? 'Virtual Reader',
      unitNo: init.unitNo,
      supportedProtocols: this.config.supportedProtocols,
      options: o.smclib,
    });
    this.pinpad = o.pinpad
      ? new PinpadDriver(
          { card: () => this.slot, protocol: () => this.extension.CardCapabilities.Protocol.Selected },
          o.pinpad === true ? {} : o.pinpad,
        )
      : null;
    const context: ReaderDriverContext = {
      card: () => this.slot,
      ejectCard: () => void this.removeCard(),
      cutCardPower: async () => void (await this.cutCardPower()),
      variant: this.variant,
      config: this.config,
      log: this.log,
      note: (irp, name) => this.ioTrace.noteCallback(irp, name),
      pinpad: this.pinpad,
      faults: this.faults,
    };
    installReaderCallbacks(this.extension, context);
    const status = SmartcardInitialize(this.extension);
    if (status !== NTSTATUS.STATUS_SUCCESS) {
      // AddDevice fails: the PnP manager would not start the device (docs/smclib.md §4.1).
      throw new NtStatusError(status, `SmartcardInitialize failed: ${formatNtStatus(status)}`);
    }
    this.device = new ReaderDevice(init.symbolicLink, this.extension, this.ioTrace, this.config, this.log);
  }

  get card(): VirtualCard | null {
    return this.slot;
  }

  get keypad(): Keypad | null {
    return this.pinpad?.keypad ?? null;
  }

  /** CurrentState as the driver sees it (diagnostics only). */
  get currentState(): number {
    return this.extension.ReaderCapabilities.CurrentState;
  }

  get currentStateName(): string {
    return winScardStateName(this.currentState);
  }

  get atr(): Uint8Array {
    return currentAtr(this.extension);
  }

  insertCard(card: VirtualCard): void {
    if (this.device.removed) throw new ReaderSlotError('VSCR_ERR_READER_REMOVED', `reader ${this.unitNo} was removed`);
    if (this.slot) throw new ReaderSlotError('VSCR_ERR_CARD_PRESENT', `reader ${this.unitNo} already holds a card`);
    this.slot = card;
    this.log.info({ profile: card.profile }, 'card inserted');
    updateCardState(this.extension, true);
  }

  removeCard(): VirtualCard | null {
    const card = this.slot;
    if (!card) return null;
    this.slot = null;
    this.pinpad?.keypad.abort(); // a PIN entry for a card that left ends now
    this.log.info({ profile: card.profile }, 'card removed');
    updateCardState(this.extension, false);
    // Pulling the card cuts its power; persist its counters (card contract: flush on removal).
    void card
      .powerDown()
      .then(() => card.flush())
      .catch((err: unknown) => this.log.error({ err }, 'card power-down/flush after removal failed'));
    return card;
  }

  /**
   * A power failure behind the resource manager's back (docs/faults.md `power-fail`): the card is deactivated
   * and the driver holds a present, unpowered card, but no tracking IRP completes, so the RM still believes it
   * powered. The card's persistent state is flushed as on removal. False when the slot is empty.
   */
  async cutCardPower(): Promise<boolean> {
    const card = this.slot;
    if (!card) return false;
    await card.powerDown();
    if (this.slot !== card) return false;
    this.extension.OsData.SpinLock.run(() => {
      this.extension.CardCapabilities.Protocol.Selected = 0;
      this.extension.ReaderCapabilities.CurrentState = this.config.powerDownState;
    });
    this.log.warn('card lost power (fault)');
    await card.flush();
    return true;
  }

  /**
   * System standby/hibernate and resume (§4.4, PSCR D0Exit/D0Entry): the card loses power, and a pending tracking
   * IRP completes with SUCCESS if a card is in the slot, so the RM re-examines the card.
   */
  async suspendAndResume(): Promise<void> {
    if (this.device.removed) throw new ReaderSlotError('VSCR_ERR_READER_REMOVED', `reader ${this.unitNo} was removed`);
    const card = this.slot;
    if (card) await card.powerDown();
    updateCardState(this.extension, this.slot !== null, true);
  }

  trace(): readonly IoctlTraceEntry[] {
    return this.ioTrace.entries();
  }

  traceText(): string {
    return this.ioTrace.text();
  }
}
