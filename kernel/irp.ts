// I/O request packets with the real life cycle: one system buffer (METHOD_BUFFERED), IoStatus, pending,
// an exchange-arbitrated cancel routine, exactly-once completion and an owning file object (docs/smclib.md §3.3).

import { readU32LE } from './bytes.js';
import { NTSTATUS, asNtStatus, formatNtStatus, type NtStatus } from './ntstatus.js';
import { acquireSystemBuffer, releaseSystemBuffer } from './system-buffer-pool.js';

export const IRP_MJ_CREATE = 0x00;
export const IRP_MJ_CLOSE = 0x02;
export const IRP_MJ_DEVICE_CONTROL = 0x0e;
export const IRP_MJ_CLEANUP = 0x12;

export interface IoStatusBlock {
  Status: NtStatus;
  Information: number;
}

/** Runs with the IRP already claimed (its cancel routine exchanged to null); it must complete the IRP. */
export type CancelRoutine = (irp: Irp) => void;
/** Called synchronously after completion, most recently registered first (like IoSetCompletionRoutine). */
export type CompletionRoutine = (irp: Irp) => void;

/** A host bug in the IRP life cycle (double completion, completing with a cancel routine set, ...). */
export class IrpLifecycleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IrpLifecycleError';
  }
}

let nextFileObjectId = 1;

/**
 * The kernel object behind one open handle. It lists its outstanding IRPs so IRP_MJ_CLEANUP can cancel them
 * ("Closing the file handle automatically unsubscribes the event", docs/smclib.md §3.3).
 */
export class FileObject {
  readonly id = nextFileObjectId++;
  private readonly outstanding = new Set<Irp>();
  cleanedUp = false;
  closed = false;

  /** IRPs issued on this handle and not yet completed, oldest first. */
  pendingIrps(): Irp[] {
    return [...this.outstanding];
  }

  /** @internal called by Irp */
  track(irp: Irp): void {
    this.outstanding.add(irp);
  }

  /** @internal called by Irp */
  untrack(irp: Irp): void {
    this.outstanding.delete(irp);
  }
}

export interface IrpInit {
  majorFunction?: number;
  ioControlCode?: number;
  input?: Uint8Array;
  outputBufferLength?: number;
  fileObject?: FileObject | null;
  /**
   * Take the system buffer from a shared free list. The creator then owns its return: once it has read the
   * output it calls releaseSystemBuffer(), after which the buffer belongs to the next IRP.
   */
  pooledBuffer?: boolean;
}

const RELEASED = new Uint8Array(0);

let nextIrpId = 1;

export class Irp {
  readonly id = nextIrpId++;
  readonly majorFunction: number;
  readonly ioControlCode: number;
  readonly inputBufferLength: number;
  readonly outputBufferLength: number;
  private buffer: Uint8Array;
  private readonly pooled: boolean;
  readonly fileObject: FileObject | null;
  readonly ioStatus: IoStatusBlock = { Status: NTSTATUS.STATUS_PENDING, Information: 0 };
  /** Per-driver scratch space (Tail.Overlay.DriverContext): the reader device keeps its trace entry here. */
  readonly driverContext: Record<string, unknown> = {};
  /** Resolves with the final IoStatus once, on completion. */
  readonly completion: Promise<IoStatusBlock>;

  private cancelFlag = false;
  private cancelRoutine: CancelRoutine | null = null;
  private pendingReturnedFlag = false;
  private completedFlag = false;
  private readonly completionRoutines: CompletionRoutine[] = [];
  private resolveCompletion!: (status: IoStatusBlock) => void;

  constructor(init: IrpInit = {}) {
    const input = init.input ?? new Uint8Array(0);
    const outLen = init.outputBufferLength ?? 0;
    if (!Number.isSafeInteger(outLen) || outLen < 0) throw new RangeError(`outputBufferLength must be a non-negative integer, got ${outLen}`);
    this.majorFunction = init.majorFunction ?? IRP_MJ_DEVICE_CONTROL;
    this.ioControlCode = (init.ioControlCode ?? 0) >>> 0;
    this.inputBufferLength = input.length;
    this.outputBufferLength = outLen;
    this.pooled = init.pooledBuffer === true;
    const size = Math.max(input.length, outLen);
    this.buffer = this.pooled ? acquireSystemBuffer(size) : new Uint8Array(size);
    this.buffer.set(input);
    this.fileObject = init.fileObject ?? null;
    this.fileObject?.track(this);
    this.completion = new Promise((resolve) => {
      this.resolveCompletion = resolve;
    });
  }

  /**
   * METHOD_BUFFERED: a single buffer of max(in, out) bytes, holding the input on arrival and the output on
   * completion. Request and reply alias it (docs/smclib.md §2).
   */
  get systemBuffer(): Uint8Array {
    if (this.buffer === RELEASED) throw new IrpLifecycleError(`IRP ${this.id}: system buffer used after it was released`);
    return this.buffer;
  }

  /**
   * Returns a pooled system buffer after completion (the I/O manager's copy-back is done). A no-op for IRPs
   * built without `pooledBuffer`, and when called again.
   */
  releaseSystemBuffer(): void {
    if (!this.completedFlag) throw new IrpLifecycleError(`IRP ${this.id}: system buffer released before completion`);
    if (!this.pooled || this.buffer === RELEASED) return;
    const buffer = this.buffer;
    this.buffer = RELEASED;
    releaseSystemBuffer(buffer);
  }

  get completed(): boolean {
    return this.completedFlag;
  }

  /** Irp->Cancel: set once IoCancelIrp has been called. */
  get cancelled(): boolean {
    return this.cancelFlag;
  }

  /** Irp->PendingReturned. */
  get pendingReturned(): boolean {
    return this.pendingReturnedFlag;
  }

  /** IoMarkIrpPending. */
  markPending(): void {
    if (this.completedFlag) throw new IrpLifecycleError(`IRP ${this.id}: markPending after completion`);
    this.pendingReturnedFlag = true;
  }

  /**
   * IoSetCancelRoutine: atomically exchanges the cancel routine and returns the previous one. A null return when
   * clearing means IoCancelIrp already claimed the IRP, and its cancel routine owns the completion.
   */
  setCancelRoutine(routine: CancelRoutine | null): CancelRoutine | null {
    if (this.completedFlag && routine !== null) throw new IrpLifecycleError(`IRP ${this.id}: cancel routine set after completion`);
    const previous = this.cancelRoutine;
    this.cancelRoutine = routine;
    return previous;
  }

  /**
   * IoCancelIrp: sets Cancel, claims the cancel routine by exchange and calls it. Returns false when there was
   * no cancel routine (the IRP is not cancelable right now, or has completed).
   */
  cancel(): boolean {
    if (this.completedFlag) return false;
    this.cancelFlag = true;
    const routine = this.setCancelRoutine(null);
    if (routine === null) return false;
    routine(this);
    return true;
  }

  /** IoSetCompletionRoutine-style hook, called synchronously inside complete(). */
  onCompletion(routine: CompletionRoutine): void {
    if (this.completedFlag) throw new IrpLifecycleError(`IRP ${this.id}: completion routine added after completion`);
    this.completionRoutines.push(routine);
  }

  /**
   * IoCompleteRequest. Exactly once: a second completion, completing with STATUS_PENDING, or completing while a
   * cancel routine is still set are host bugs (Driver Verifier would bug-check) and throw.
   */
  complete(status: NtStatus = this.ioStatus.Status, information: number = this.ioStatus.Information): void {
    if (this.completedFlag) {
      throw new IrpLifecycleError(`IRP ${this.id} completed twice (second status ${formatNtStatus(status)})`);
    }
    if (status >>> 0 === NTSTATUS.STATUS_PENDING) throw new IrpLifecycleError(`IRP ${this.id}: completed with STATUS_PENDING`);
    if (this.cancelRoutine !== null) throw new IrpLifecycleError(`IRP ${this.id}: completed with its cancel routine still set`);
    this.completedFlag = true;
    this.ioStatus.Status = asNtStatus(status);
    this.ioStatus.Information = information;
    this.fileObject?.untrack(this);
    for (let i = this.completionRoutines.length - 1; i >= 0; i--) this.completionRoutines[i](this);
    this.resolveCompletion({ ...this.ioStatus });
  }

  /** The first DWORD of the input (little-endian), or undefined if the input is shorter than 4 bytes. */
  inputDword(offset = 0): number | undefined {
    if (offset < 0 || this.inputBufferLength < offset + 4) return undefined;
    const b = this.systemBuffer;
    return readU32LE(b, offset);
  }

  /** The valid output as a copy: min(Information, OutputBufferLength) bytes of the system buffer. */
  output(): Uint8Array {
    const n = Math.max(0, Math.min(this.ioStatus.Information, this.outputBufferLength));
    return this.systemBuffer.slice(0, n);
  }
}
