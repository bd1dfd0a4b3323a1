// The per-reader IOCTL trace: a bounded ring buffer of IRPs, rendered like the forum thread's debugger log
// (docs/background.md: `EvtIoDeviceControl ... IoControlCode 3211308` / `LibComplete called: status 80000011`).

import { performance } from 'node:perf_hooks';
import type { Irp } from '../../kernel/irp.js';
import { NTSTATUS, ntStatusName } from '../../kernel/ntstatus.js';
import { IOCTL_SMARTCARD, ioctlName } from '../constants/ioctl.js';
import { scardAttrName } from '../constants/scard-attributes.js';
import { winScardProtocolNames, winScardPowerName } from '../constants/scard.js';
import type { IoctlTraceEntry } from './contract.js';

const TRACE_KEY = 'vscr.trace';

/** The minor code's display name, for the IOCTLs whose first input DWORD is one (docs/smclib.md §3.1.3). */
function minorName(code: number, minor: number): string | undefined {
  switch (code) {
    case IOCTL_SMARTCARD.GET_ATTRIBUTE:
    case IOCTL_SMARTCARD.SET_ATTRIBUTE:
      return scardAttrName(minor);
    case IOCTL_SMARTCARD.POWER:
      return winScardPowerName(minor);
    case IOCTL_SMARTCARD.SET_PROTOCOL:
      return winScardProtocolNames(minor);
    default:
      return undefined;
  }
}

const MINOR_IOCTLS = new Set<number>([IOCTL_SMARTCARD.GET_ATTRIBUTE, IOCTL_SMARTCARD.SET_ATTRIBUTE, IOCTL_SMARTCARD.POWER, IOCTL_SMARTCARD.SET_PROTOCOL]);

/** The ring's own record: every field always present (one object shape), optional ones undefined until known. */
interface LiveEntry extends IoctlTraceEntry {
  startedAt: number;
  callbacks: string[];
}

function blankEntry(): LiveEntry {
  return {
    seq: 0,
    time: 0,
    startedAt: 0,
    ioControlCode: 0,
    ioControlName: '',
    inputLength: 0,
    outputLength: 0,
    status: undefined,
    statusName: undefined,
    information: undefined,
    pending: false,
    durationMs: undefined,
    minorCode: undefined,
    minorName: undefined,
    requestId: undefined,
    callbacks: [],
    pendedAtSomePoint: false,
  };
}

/** The public copy: optional fields still undefined are left out, as if never set. */
function publicEntry(e: LiveEntry): IoctlTraceEntry {
  const out: IoctlTraceEntry = {
    seq: e.seq,
    time: e.time,
    ioControlCode: e.ioControlCode,
    ioControlName: e.ioControlName,
    inputLength: e.inputLength,
    outputLength: e.outputLength,
    pending: e.pending,
    callbacks: [...e.callbacks],
    pendedAtSomePoint: e.pendedAtSomePoint,
  };
  if (e.status !== undefined) out.status = e.status;
  if (e.statusName !== undefined) out.statusName = e.statusName;
  if (e.information !== undefined) out.information = e.information;
  if (e.durationMs !== undefined) out.durationMs = e.durationMs;
  if (e.minorCode !== undefined) out.minorCode = e.minorCode;
  if (e.minorName !== undefined) out.minorName = e.minorName;
  if (e.requestId !== undefined) out.requestId = e.requestId;
  return out;
}

/** Completes an IRP's entry; one shared routine (the entry rides on the IRP) rather than a closure per IRP. */
function finishEntry(irp: Irp): void {
  const entry = irp.driverContext[TRACE_KEY] as LiveEntry | undefined;
  if (!entry) return;
  entry.pending = false;
  entry.status = irp.ioStatus.Status;
  entry.statusName = ntStatusName(irp.ioStatus.Status);
  entry.information = irp.ioStatus.Information;
  entry.durationMs = Math.round((performance.now() - entry.startedAt) * 1000) / 1000;
}

export class IoctlTrace {
  /** A ring: `start` is the oldest entry once it has filled up (no shifting per IRP). */
  private ring: LiveEntry[] = [];
  private start = 0;
  private seq = 0;

  constructor(
    readonly capacity: number,
    /** The driver name in front of `!` in the text, like `VPJSCReader!` in the forum log. */
    readonly driverName = 'VscrReader',
  ) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError(`trace capacity must be a positive integer, got ${capacity}`);
  }

  /**
   * Records an arriving IRP; its entry is finished by the IRP's own completion. Once the ring is full the oldest
   * entry is rewritten in place (unless its IRP is still pending): a busy reader then allocates nothing here,
   * where one new entry per IRP lived just long enough to be copied by every scavenge and promoted.
   */
  begin(irp: Irp): void {
    let entry: LiveEntry;
    if (this.ring.length < this.capacity) {
      entry = blankEntry();
      this.ring.push(entry);
    } else {
      const oldest = this.ring[this.start];
      entry = oldest.pending ? blankEntry() : oldest;
      this.ring[this.start] = entry;
      this.start = (this.start + 1) % this.capacity;
    }
    const code = irp.ioControlCode;
    const minor = MINOR_IOCTLS.has(code) ? irp.inputDword() : undefined;
    entry.seq = ++this.seq;
    entry.time = Date.now();
    entry.startedAt = performance.now();
    entry.ioControlCode = code;
    entry.ioControlName = ioctlName(code);
    entry.inputLength = irp.inputBufferLength;
    entry.outputLength = irp.outputBufferLength;
    entry.status = undefined;
    entry.statusName = undefined;
    entry.information = undefined;
    entry.pending = true;
    entry.durationMs = undefined;
    entry.minorCode = minor;
    entry.minorName = minor === undefined ? undefined : minorName(code, minor);
    entry.requestId = irp.id;
    entry.callbacks.length = 0;
    entry.pendedAtSomePoint = false;
    irp.driverContext[TRACE_KEY] = entry;
    irp.onCompletion(finishEntry);
  }

  /** The dispatch routine saw SmartcardDeviceControl return STATUS_PENDING. */
  markPending(irp: Irp): void {
    const entry = irp.driverContext[TRACE_KEY] as LiveEntry | undefined;
    if (entry) entry.pendedAtSomePoint = true;
  }

  /** A driver callback was entered for this IRP (`CBCardTracking: Entry` in the forum log). */
  noteCallback(irp: Irp | null, name: string): void {
    const entry = irp?.driverContext[TRACE_KEY] as LiveEntry | undefined;
    entry?.callbacks.push(name);
  }

  entries(): IoctlTraceEntry[] {
    return this.ordered().map(publicEntry);
  }

  clear(): void {
    this.ring = [];
    this.start = 0;
  }

  /** The entries oldest first. */
  private ordered(): LiveEntry[] {
    return this.start === 0 ? this.ring : [...this.ring.slice(this.start), ...this.ring.slice(0, this.start)];
  }

  /**
   * One block per IRP, oldest first, in the forum log's shape (docs/background.md), with names added after the numbers:
   *   VscrReader!EvtIoDeviceControl Request 0x… OutputBufferLength 0 InputBufferLength 0 IoControlCode 3211308 (IOCTL_SMARTCARD_IS_ABSENT)
   *   VscrReader!CBCardTracking: Entry                      (one line per driver callback entered)
   *   VscrReader!EvtIoDeviceControl Request 0x… pending: status 103 (STATUS_PENDING)   (only if it pended)
   *   VscrReader!LibComplete called: status 80000011 (STATUS_DEVICE_BUSY), Context 00000000000000A1 Information 0 (0.012 ms)
   * An IRP still pending has no LibComplete line yet.
   */
  text(): string {
    const d = this.driverName;
    const lines: string[] = [];
    for (const e of this.ordered()) {
      const id = (e.requestId ?? e.seq).toString(16).toUpperCase().padStart(16, '0');
      let line = `${d}!EvtIoDeviceControl Request 0x${id} OutputBufferLength ${e.outputLength} InputBufferLength ${e.inputLength} IoControlCode ${e.ioControlCode} (${e.ioControlName})`;
      if (e.minorCode !== undefined) line += ` Minor 0x${e.minorCode.toString(16).toUpperCase().padStart(8, '0')} (${e.minorName})`;
      lines.push(line);
      for (const cb of e.callbacks ?? []) lines.push(`${d}!${cb}: Entry`);
      if (e.pendedAtSomePoint) lines.push(`${d}!EvtIoDeviceControl Request 0x${id} pending: status ${NTSTATUS.STATUS_PENDING.toString(16)} (STATUS_PENDING)`);
      if (!e.pending && e.status !== undefined) {
        // The forum prints `status %x` (80000011, 0) and `Context %p` (the request, no 0x).
        const after = e.pendedAtSomePoint ? ' after pending' : '';
        lines.push(`${d}!LibComplete called: status ${e.status.toString(16)} (${e.statusName}), Context ${id} Information ${e.information}${after} (${e.durationMs} ms)`);
      }
    }
    return lines.length ? `${lines.join('\n')}\n` : '';
  }
}
