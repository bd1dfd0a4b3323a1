// The reader's device object: exclusive CREATE, IRP_MJ_DEVICE_CONTROL handed straight to SmartcardDeviceControl
// (docs/smclib.md §3.1.1, §4.4), CLEANUP cancelling a handle's pending IRPs, CLOSE, and surprise removal.

import type { Logger } from 'pino';
import { FileObject, Irp, IRP_MJ_DEVICE_CONTROL } from '../../kernel/irp.js';
import { NTSTATUS, NtStatusError, formatNtStatus, asNtStatus, type NtStatus } from '../../kernel/ntstatus.js';
import { SmartcardDeviceControl } from '../smclib/device-control.js';
import type { SmartcardExtension } from '../smclib/extension.js';
import { flushTrackingIrp } from './callbacks.js';
import type { IoResult, PendingIo, ReaderDeviceInterface, ReaderFileHandle } from './contract.js';
import type { ReaderDriverConfig } from './driver-config.js';
import type { IoctlTrace } from './trace.js';

/** A host bug seen while dispatching (an IRP life-cycle violation); kept for tests and diagnostics. */
export interface DriverFault {
  irpId: number;
  ioControlCode: number;
  message: string;
}

/**
 * The largest METHOD_BUFFERED system buffer this emulation allocates (1 MiB): far above any smart-card IOCTL
 * (an extended APDU response is 65538 bytes + 8), small enough that a bogus length cannot exhaust memory.
 */
export const MAX_SYSTEM_BUFFER = 0x100000;

/** What DeviceIoControl hands back for an IRP: its completion and CancelIo (a method, not a closure per IRP). */
class IssuedIrp implements PendingIo {
  constructor(
    readonly result: Promise<IoResult>,
    readonly pended: Promise<boolean>,
    private readonly irp: Irp,
  ) {}

  cancel(): void {
    this.irp.cancel();
  }
}

const NOT_PENDED = Promise.resolve(false);

function completedIo(status: NtStatus): PendingIo {
  return { result: Promise.resolve({ status, information: 0, output: new Uint8Array(0) }), pended: NOT_PENDED, cancel: () => undefined };
}

export class ReaderDevice implements ReaderDeviceInterface {
  private openFile: FileObject | null = null;
  private readonly outstanding = new Set<Irp>();
  private removedFlag = false;
  readonly faults: DriverFault[] = [];

  constructor(
    readonly symbolicLink: string,
    private readonly ext: SmartcardExtension,
    private readonly trace: IoctlTrace,
    private readonly config: ReaderDriverConfig,
    private readonly log: Logger,
  ) {
    ext.OsData.DeviceObject = this;
  }

  get removed(): boolean {
    return this.removedFlag;
  }

  /** True while a handle is open (the device is exclusive: the RM is its only client). */
  get isOpen(): boolean {
    return this.openFile !== null;
  }

  /** IRPs issued and not yet completed, on any handle. */
  outstandingIrps(): Irp[] {
    return [...this.outstanding];
  }

  /** Completion routine shared by every IRP (one closure per device instead of one per IRP). */
  private readonly forget = (irp: Irp): void => {
    this.outstanding.delete(irp);
  };

  /** IRP_MJ_CREATE. */
  open(): ReaderFileHandle {
    if (this.removedFlag) throw new NtStatusError(NTSTATUS.STATUS_NO_SUCH_DEVICE, `${this.symbolicLink}: device removed`);
    if (this.openFile) throw new NtStatusError(NTSTATUS.STATUS_SHARING_VIOLATION, `${this.symbolicLink}: already open (exclusive device)`);
    const file = new FileObject();
    this.openFile = file;
    this.log.debug({ file: file.id }, 'IRP_MJ_CREATE');
    return {
      deviceIoControl: (code, input, outputLength) => this.deviceIoControl(file, code, input, outputLength),
      close: () => this.cleanupAndClose(file),
    };
  }

  private deviceIoControl(file: FileObject, code: number, input: Uint8Array, outputLength: number): PendingIo {
    if (file.closed) throw new NtStatusError(NTSTATUS.STATUS_INVALID_HANDLE, 'DeviceIoControl on a closed handle');
    if (!(input instanceof Uint8Array)) throw new TypeError('input must be a Uint8Array');
    // The I/O manager fails these before any IRP exists, so the driver (and its trace) never sees them.
    if (!Number.isSafeInteger(outputLength) || outputLength < 0) return completedIo(NTSTATUS.STATUS_INVALID_PARAMETER);
    if (outputLength > MAX_SYSTEM_BUFFER || input.length > MAX_SYSTEM_BUFFER) return completedIo(NTSTATUS.STATUS_INSUFFICIENT_RESOURCES);
    const irp = new Irp({
      majorFunction: IRP_MJ_DEVICE_CONTROL,
      ioControlCode: code >>> 0,
      input,
      outputBufferLength: outputLength,
      fileObject: file,
      // Only this method hands the IRP out, and only as a copy of its output: the buffer can go back at once.
      pooledBuffer: true,
    });
    this.outstanding.add(irp);
    irp.onCompletion(this.forget);
    this.trace.begin(irp);
    const result: Promise<IoResult> = irp.completion.then((io) => {
      const output = irp.output();
      irp.releaseSystemBuffer();
      return { status: io.Status, information: io.Information, output };
    });
    let pended = NOT_PENDED;
    if (this.removedFlag) {
      irp.complete(this.config.removedDeviceStatus, 0);
    } else {
      pended = this.dispatch(irp);
    }
    return new IssuedIrp(result, pended, irp);
  }

  /** EvtIoDeviceControl: every IOCTL goes to the library at once (§3.1.1). Resolves true when it pended. */
  private async dispatch(irp: Irp): Promise<boolean> {
    try {
      const status = await SmartcardDeviceControl(this.ext, irp);
      if (status === NTSTATUS.STATUS_PENDING) {
        this.trace.markPending(irp);
        return true;
      } else if (!irp.completed) {
        // §3.1.2: a driver-parameter error comes back without completion; the driver completes it.
        irp.complete(asNtStatus(status), 0);
      }
      return false;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.faults.push({ irpId: irp.id, ioControlCode: irp.ioControlCode, message });
      this.log.error({ err, irp: irp.id }, 'driver fault while dispatching an IOCTL');
      if (!irp.completed) {
        irp.setCancelRoutine(null);
        irp.complete(NTSTATUS.STATUS_UNSUCCESSFUL, 0);
      }
      return false;
    }
  }

  /** IRP_MJ_CLEANUP then IRP_MJ_CLOSE: cancel this handle's pending IRPs (§3.3 item 4), release exclusivity. */
  private cleanupAndClose(file: FileObject): void {
    if (file.closed) return;
    file.cleanedUp = true;
    for (const irp of file.pendingIrps()) irp.cancel();
    file.closed = true;
    if (this.openFile === file) this.openFile = null;
    this.log.debug({ file: file.id }, 'IRP_MJ_CLEANUP + IRP_MJ_CLOSE');
  }

  /**
   * Surprise removal: the pending tracking IRP completes with config.removalTrackingStatus (CANCELLED), every
   * other outstanding IRP is cancelled (queued ones complete CANCELLED when they reach the library), and later
   * IOCTLs complete with config.removedDeviceStatus (DEVICE_REMOVED).
   */
  surpriseRemove(): void {
    if (this.removedFlag) return;
    this.removedFlag = true;
    flushTrackingIrp(this.ext, this.config.removalTrackingStatus);
    for (const irp of this.outstandingIrps()) irp.cancel();
    const left = this.outstanding.size;
    this.log.info({ stillOutstanding: left, trackingStatus: formatNtStatus(this.config.removalTrackingStatus) }, 'surprise removal');
  }
}
