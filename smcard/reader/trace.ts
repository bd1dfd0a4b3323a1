// The per-reader IOCTL trace: a bounded ring buffer of IRPs, rendered like the forum's debugger log
// (seeds/000: `EvtIoDeviceControl ... IoControlCode 3211308` / `LibComplete called: status 80000011`).

import { performance } from 'node:perf_hooks';
import type { Irp } from '../../kernel/irp.js';
import { NTSTATUS, ntStatusName } from '../../kernel/ntstatus.js';
import { IOCTL_SMARTCARD, ioctlName } from '../constants/ioctl.js';
import { scardAttrName } from '../constants/scard-attributes.js';
import { scardPowerName, scardProtocolNames } from '../constants/scard.js';
import type { IoctlTraceEntry } from './contract.js';

const TRACE_KEY = 'vscr.trace';

/** The minor code's display name, for the IOCTLs whose first input DWORD is one (smclib.md §3.1.3). */
function minorName(code: number, minor: number): string | undefined {
  switch (code) {
    case IOCTL_SMARTCARD.GET_ATTRIBUTE:
    case IOCTL_SMARTCARD.SET_ATTRIBUTE:
      return scardAttrName(minor);
    case IOCTL_SMARTCARD.POWER:
      return scardPowerName(minor);
    case IOCTL_SMARTCARD.SET_PROTOCOL:
      return scardProtocolNames(minor);
    default:
      return undefined;
  }
}

const MINOR_IOCTLS = new Set<number>([IOCTL_SMARTCARD.GET_ATTRIBUTE, IOCTL_SMARTCARD.SET_ATTRIBUTE, IOCTL_SMARTCARD.POWER, IOCTL_SMARTCARD.SET_PROTOCOL]);

interface LiveEntry extends IoctlTraceEntry {
  startedAt: number;
}

export class IoctlTrace {
  private readonly ring: LiveEntry[] = [];
  private seq = 0;

  constructor(
    readonly capacity: number,
    /** The driver name in front of `!` in the text, like `VPJSCReader!` in the forum log. */
    readonly driverName = 'VscrReader',
  ) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError(`trace capacity must be a positive integer, got ${capacity}`);
  }

  /** Records an arriving IRP; its entry is finished by the IRP's own completion. */
  begin(irp: Irp): void {
    const minor = MINOR_IOCTLS.has(irp.ioControlCode) ? irp.inputDword() : undefined;
    const entry: LiveEntry = {
      seq: ++this.seq,
      time: Date.now(),
      startedAt: performance.now(),
      ioControlCode: irp.ioControlCode,
      ioControlName: ioctlName(irp.ioControlCode),
      inputLength: irp.inputBufferLength,
      outputLength: irp.outputBufferLength,
      pending: true,
      requestId: irp.id,
      callbacks: [],
      pendedAtSomePoint: false,
    };
    if (minor !== undefined) {
      entry.minorCode = minor;
      entry.minorName = minorName(irp.ioControlCode, minor);
    }
    irp.driverContext[TRACE_KEY] = entry;
    this.ring.push(entry);
    if (this.ring.length > this.capacity) this.ring.shift();
    irp.onCompletion((done) => {
      entry.pending = false;
      entry.status = done.ioStatus.Status;
      entry.statusName = ntStatusName(done.ioStatus.Status);
      entry.information = done.ioStatus.Information;
      entry.durationMs = Math.round((performance.now() - entry.startedAt) * 1000) / 1000;
    });
  }

  /** The dispatch routine saw SmartcardDeviceControl return STATUS_PENDING. */
  markPending(irp: Irp): void {
    const entry = irp.driverContext[TRACE_KEY] as LiveEntry | undefined;
    if (entry) entry.pendedAtSomePoint = true;
  }

  /** A driver callback was entered for this IRP (`CBCardTracking: Entry` in the forum log). */
  noteCallback(irp: Irp | null, name: string): void {
    const entry = irp?.driverContext[TRACE_KEY] as LiveEntry | undefined;
    entry?.callbacks?.push(name);
  }

  entries(): IoctlTraceEntry[] {
    return this.ring.map(({ startedAt: _startedAt, ...rest }) => ({ ...rest, callbacks: rest.callbacks ? [...rest.callbacks] : undefined }));
  }

  clear(): void {
    this.ring.length = 0;
  }

  /**
   * One block per IRP, oldest first, in the forum log's shape (seeds/000), with names added after the numbers:
   *   VscrReader!EvtIoDeviceControl Request 0x… OutputBufferLength 0 InputBufferLength 0 IoControlCode 3211308 (IOCTL_SMARTCARD_IS_ABSENT)
   *   VscrReader!CBCardTracking: Entry                      (one line per driver callback entered)
   *   VscrReader!EvtIoDeviceControl Request 0x… pending: status 103 (STATUS_PENDING)   (only if it pended)
   *   VscrReader!LibComplete called: status 80000011 (STATUS_DEVICE_BUSY), Context 00000000000000A1 Information 0 (0.012 ms)
   * An IRP still pending has no LibComplete line yet.
   */
  text(): string {
    const d = this.driverName;
    const lines: string[] = [];
    for (const e of this.ring) {
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
