// The reader list (pcsc-lite's readerfactory role): arrival by attribute queries, pcsc-lite naming, slots,
// publication once the card monitor runs, failure diagnosis, removal. docs/smclib.md §5.1, §5.7.

import type { Logger } from 'pino';
import { NTSTATUS, NtStatusError, formatNtStatus } from '../../kernel/ntstatus.js';
import type { ReaderBus, ReaderDeviceInterface } from '../../smcard/reader/contract.js';
import type { ReaderDiagnosis, ReaderSnapshot } from './contract.js';
import { AsyncMutex, wakeAll } from './async-util.js';
import { CardMonitor } from './card-monitor.js';
import type { ChangeEmitter } from './change-emitter.js';
import { MAX_READERNAME, PCSCLITE_MAX_READERS_CONTEXTS, SCARD_ATTR } from '../contract/pcsclite.js';
import { READER_STATE_VALUE } from './reader-state.js';
import { ReaderIo, SMCLIB_POWER, readDword } from './reader-ioctl.js';
import { readerSharing, type RmReader } from './rm-types.js';

const ATTR_NAMES: Record<number, string> = {
  [SCARD_ATTR.VENDOR_NAME]: 'SCARD_ATTR_VENDOR_NAME',
  [SCARD_ATTR.VENDOR_IFD_TYPE]: 'SCARD_ATTR_VENDOR_IFD_TYPE',
  [SCARD_ATTR.DEVICE_UNIT]: 'SCARD_ATTR_DEVICE_UNIT',
  [SCARD_ATTR.CHARACTERISTICS]: 'SCARD_ATTR_CHARACTERISTICS',
};

class ArrivalError extends Error {}

/** ANSI attribute bytes up to the first NUL: drivers disagree on whether they send one (docs/smclib.md §5.1). */
function attrString(bytes: Uint8Array): string {
  const nul = bytes.indexOf(0);
  return Buffer.from(nul < 0 ? bytes : bytes.subarray(0, nul)).toString('latin1');
}

/** pcscd's `%02X`. */
function hex2(n: number): string {
  return n.toString(16).toUpperCase().padStart(2, '0');
}

export class ReaderRegistry {
  private readonly records = new Map<string, RmReader>();
  private readonly monitors = new Map<RmReader, CardMonitor>();
  /** Running monitor loops, awaited by shutdown() so no IRP is left in flight. */
  private readonly running = new Set<Promise<void>>();
  private readonly initial: Promise<void>[] = [];
  private shuttingDown = false;
  private readonly unsubscribe: (() => void)[] = [];

  constructor(
    private readonly bus: ReaderBus,
    private readonly changes: ChangeEmitter,
    private readonly log: Logger,
  ) {}

  /** Subscribe to PnP and take the readers already on the bus. */
  start(): void {
    this.unsubscribe.push(this.bus.on('arrival', (iface) => void this.arrive(iface)));
    this.unsubscribe.push(this.bus.on('removal', (iface) => this.remove(iface.symbolicLink)));
    for (const r of this.bus.readers()) this.initial.push(this.arrive(r.device));
  }

  /** Resolves when every reader present at start is published or failed. */
  async ready(): Promise<void> {
    await Promise.all(this.initial);
  }

  /** Published readers in slot order. */
  published(): RmReader[] {
    return [...this.records.values()].filter((r) => r.published).sort((a, b) => a.slot - b.slot);
  }

  findPublished(name: string): RmReader | undefined {
    return this.published().find((r) => r.name === name);
  }

  snapshots(): ReaderSnapshot[] {
    return this.published().map((r) => ({
      name: r.name ?? '',
      slot: r.slot,
      unitNo: r.unitNo,
      symbolicLink: r.symbolicLink,
      eventCounter: r.eventCounter,
      readerState: r.readerState,
      sharing: readerSharing(r),
      atr: r.atr.slice(),
      protocol: r.protocol,
    }));
  }

  diagnose(): ReaderDiagnosis[] {
    return [...this.records.values()].map((r) => ({
      symbolicLink: r.symbolicLink,
      name: r.name,
      published: r.published,
      failure: r.failure,
    }));
  }

  /** Arrival: open, query attributes, name, start the monitor; settles when published or failed. */
  private arrive(iface: ReaderDeviceInterface): Promise<void> {
    if (this.shuttingDown || this.records.has(iface.symbolicLink)) return Promise.resolve();
    const rec: RmReader = {
      iface,
      symbolicLink: iface.symbolicLink,
      log: this.log.child({ reader: iface.symbolicLink }),
      name: null,
      unitNo: -1,
      slot: -1,
      io: null,
      published: false,
      failure: null,
      gone: false,
      readerState: READER_STATE_VALUE.ABSENT,
      eventCounter: 0,
      atr: new Uint8Array(0),
      protocol: 0,
      handles: new Set(),
      lockOwner: 0,
      lockCount: 0,
      lockWaiters: new Set(),
      ops: new AsyncMutex(),
    };
    this.records.set(rec.symbolicLink, rec);
    // The slot is taken in arrival order (pcscd's RFAddReader), not when the monitor first pends.
    const used = new Set([...this.records.values()].map((r) => r.slot));
    let slot = 0;
    while (used.has(slot)) slot++;
    rec.slot = slot;
    this.changes.emit();
    if (slot >= PCSCLITE_MAX_READERS_CONTEXTS) {
      this.fail(rec, `no free slot: ${PCSCLITE_MAX_READERS_CONTEXTS} readers are in use already (PCSCLITE_MAX_READERS_CONTEXTS)`);
      return Promise.resolve();
    }
    return new Promise<void>((settle) => {
      void this.bringUp(rec, settle);
    });
  }

  private async bringUp(rec: RmReader, settle: () => void): Promise<void> {
    try {
      try {
        rec.io = new ReaderIo(rec.iface.open());
      } catch (err) {
        const why = err instanceof NtStatusError ? formatNtStatus(err.status) : String(err);
        throw new ArrivalError(`CreateFile on the reader interface failed: ${why}`);
      }
      const io = rec.io;
      const vendor = attrString(await this.attribute(io, SCARD_ATTR.VENDOR_NAME, 256));
      const ifdType = attrString(await this.attribute(io, SCARD_ATTR.VENDOR_IFD_TYPE, 256));
      rec.unitNo = readDword(await this.attribute(io, SCARD_ATTR.DEVICE_UNIT, 4)) ?? 0;
      await this.attribute(io, SCARD_ATTR.CHARACTERISTICS, 4);
      const st = await io.getState();
      if (st.status !== NTSTATUS.STATUS_SUCCESS) {
        throw new ArrivalError(`IOCTL_SMARTCARD_GET_STATE returned ${formatNtStatus(st.status)}`);
      }
      rec.name = this.uniqueName(vendor, ifdType, rec.unitNo);
      rec.log.info({ name: rec.name }, 'reader arrived');
    } catch (err) {
      if (!rec.gone) this.fail(rec, err instanceof ArrivalError ? `${err.message}: reader dropped` : `arrival failed: ${String(err)}`);
      settle();
      return;
    }
    if (rec.gone) {
      // Removed (or the RM shut down) while the attribute queries ran.
      settle();
      return;
    }
    const monitor = new CardMonitor(rec.io, {
      inserted: (initial) => this.cardInserted(rec, initial),
      removed: (initial) => this.cardRemoved(rec, initial),
      steady: () => {
        this.publish(rec);
        settle();
      },
      failed: (reason) => {
        this.fail(rec, reason);
        settle();
      },
      gone: () => {
        this.detach(rec, 'the device was removed');
        settle();
      },
    }, rec.log);
    this.monitors.set(rec, monitor);
    const run = monitor.run().catch((err: unknown) => {
      this.fail(rec, `card monitor crashed: ${String(err)}`);
    });
    this.running.add(run);
    await run;
    this.running.delete(run);
    settle();
  }

  private async attribute(io: ReaderIo, attrId: number, outLen: number): Promise<Uint8Array> {
    const r = await io.getAttribute(attrId, outLen);
    if (r.status !== NTSTATUS.STATUS_SUCCESS) {
      throw new ArrivalError(`IOCTL_SMARTCARD_GET_ATTRIBUTE(${ATTR_NAMES[attrId]}) returned ${formatNtStatus(r.status)}`);
    }
    return r.output.subarray(0, r.information);
  }

  /** pcsc-lite's `<friendly name> NN 00`, NN bumped past names already taken; ≤ MAX_READERNAME − 1 chars. */
  private uniqueName(vendor: string, ifdType: string, unit: number): string {
    const friendly = `${vendor} ${ifdType}`.slice(0, MAX_READERNAME - 1 - 6);
    const taken = new Set([...this.records.values()].map((r) => r.name));
    for (let nn = unit; ; nn++) {
      const name = `${friendly} ${hex2(nn)} 00`;
      if (!taken.has(name)) return name;
    }
  }

  private publish(rec: RmReader): void {
    if (rec.published || rec.gone) return;
    rec.published = true;
    rec.log.info({ name: rec.name, slot: rec.slot }, 'reader published');
    this.changes.emit();
  }

  private async cardInserted(rec: RmReader, initial: boolean): Promise<void> {
    await rec.ops.run(async () => {
      const io = rec.io;
      if (!io || rec.gone) return;
      // pcscd powers a new card at once to learn its ATR (docs/pcsclite-protocol.md §5.2: 0x34 right after insertion).
      const r = await io.power(SMCLIB_POWER.COLD_RESET);
      if (r.status === NTSTATUS.STATUS_SUCCESS && r.information > 0) {
        rec.atr = r.output.slice(0, r.information);
        rec.readerState = READER_STATE_VALUE.POWERED;
      } else {
        rec.log.info({ status: formatNtStatus(r.status) }, 'card does not answer the reset: mute');
        rec.atr = new Uint8Array(0);
        rec.readerState = READER_STATE_VALUE.MUTE;
      }
      rec.protocol = 0;
      if (!initial) rec.eventCounter = (rec.eventCounter + 1) & 0xffff;
    });
    wakeAll(rec.lockWaiters);
    this.changes.emit();
  }

  private cardRemoved(rec: RmReader, initial: boolean): void {
    rec.readerState = READER_STATE_VALUE.ABSENT;
    rec.atr = new Uint8Array(0);
    rec.protocol = 0;
    if (!initial) rec.eventCounter = (rec.eventCounter + 1) & 0xffff;
    // docs/pcsclite-protocol.md §7: every handle is flagged removed and the transaction lock is cleared.
    for (const h of rec.handles) h.event = 'removed';
    rec.lockOwner = 0;
    rec.lockCount = 0;
    wakeAll(rec.lockWaiters);
    this.changes.emit();
  }

  /**
   * A reader that never got published is dropped (diagnosis only). One that fails after publication stays
   * listed in state SCARD_UNKNOWN (0x0001) until PnP removal, as pcscd keeps a reader whose driver returned an
   * error (docs/pcsclite-protocol.md §5.2): clients see SCARD_STATE_UNAVAILABLE and SCARD_E_READER_UNAVAILABLE instead of the
   * name vanishing under them, and the slot keeps its place in the wire snapshot.
   */
  private fail(rec: RmReader, reason: string): void {
    rec.failure = reason;
    if (rec.published && !rec.gone && !this.shuttingDown) {
      rec.log.warn({ failure: reason }, 'reader failed: listed as SCARD_UNKNOWN until removed');
      rec.readerState = READER_STATE_VALUE.FAILED;
      rec.atr = new Uint8Array(0);
      rec.protocol = 0;
      this.disconnectDriver(rec);
      return;
    }
    rec.log.warn({ failure: reason }, 'reader not published');
    this.detach(rec, reason);
  }

  /** Unpublish, mark gone, close the handle. The record stays for diagnose() until PnP removal. */
  private detach(rec: RmReader, reason: string): void {
    const wasPublished = rec.published;
    rec.published = false;
    rec.slot = -1;
    rec.gone = true;
    rec.failure ??= wasPublished || this.shuttingDown ? null : reason;
    this.disconnectDriver(rec);
  }

  /**
   * The reader stops talking to its driver: the lock is dropped, the card monitor stopped, the handle closed
   * (which cancels the tracking IRP), and lock waiters woken to see the new state.
   */
  private disconnectDriver(rec: RmReader): void {
    rec.lockOwner = 0;
    rec.lockCount = 0;
    this.monitors.get(rec)?.stop();
    rec.io?.close();
    wakeAll(rec.lockWaiters);
    this.changes.emit();
  }

  private remove(symbolicLink: string): void {
    const rec = this.records.get(symbolicLink);
    if (!rec) return;
    rec.log.info({ name: rec.name }, 'reader removed');
    this.detach(rec, 'removed');
    this.records.delete(symbolicLink);
    this.monitors.delete(rec);
    this.changes.emit();
  }

  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    for (const u of this.unsubscribe.splice(0)) u();
    for (const rec of this.records.values()) this.detach(rec, 'shutdown');
    this.records.clear();
    this.monitors.clear();
    this.changes.emit();
    // Closing the handles cancelled the tracking IRPs; wait for the loops to see it.
    await Promise.all(this.running);
  }
}
