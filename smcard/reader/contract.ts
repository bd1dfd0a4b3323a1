// The contract between the reader stack (kernel side) and the resource manager (user side): device interfaces
// of class GUID_DEVINTERFACE_SMARTCARD_READER, opened as files and driven only by DeviceIoControl.
// Implemented under smcard/reader/; consumed by service/rm/.

import type { NtStatus } from '../../kernel/ntstatus.js';
import type { VirtualCard } from '../card/contract.js';

export const GUID_DEVINTERFACE_SMARTCARD_READER = '{50DD5230-BA8A-11D1-BF5D-0000F805F530}';

export interface IoResult {
  /** NTSTATUS the IRP completed with. */
  status: NtStatus;
  /** IoStatus.Information: bytes of `output` that are valid. */
  information: number;
  /** The output buffer, `information` bytes long. */
  output: Uint8Array;
}

/** An issued DeviceIoControl (overlapped): its completion and CancelIo. */
export interface PendingIo {
  readonly result: Promise<IoResult>;
  /**
   * What the driver's dispatch returned: true for STATUS_PENDING (the IRP completes later, e.g. card tracking),
   * false when it completed the IRP at once. DeviceIoControl's own return value in the real stack.
   */
  readonly pended: Promise<boolean>;
  /** CancelIo for this request; completes it with STATUS_CANCELLED if it is still pending and cancelable. */
  cancel(): void;
}

/** A handle from CreateFile on the reader's interface. */
export interface ReaderFileHandle {
  deviceIoControl(ioControlCode: number, input: Uint8Array, outputLength: number): PendingIo;
  /** IRP_MJ_CLEANUP then IRP_MJ_CLOSE: pending IRPs of this handle complete with STATUS_CANCELLED. */
  close(): void;
}

/** A device interface instance as PnP reports it. */
export interface ReaderDeviceInterface {
  /** e.g. `\\?\ROOT#SMARTCARDREADER#0000#{50dd5230-...}\DEV0` */
  readonly symbolicLink: string;
  /** CreateFile. The device is exclusive: a second open throws NtStatusError(STATUS_SHARING_VIOLATION). */
  open(): ReaderFileHandle;
}

export type ReaderDriverVariant =
  /** Card tracking keeps the notification IRP pending with a cancel routine (docs/smclib.md §3.3). */
  | 'correct'
  /** The forum thread's driver (docs/background.md): the tracking callback returns STATUS_SUCCESS and leaves NotificationIrp set. */
  | 'forum-broken';

export interface VirtualReaderOptions {
  vendorName?: string; // default 'vscr'
  ifdType?: string; // default 'Virtual Reader'
  unitNo?: number; // default: assigned by the bus, zero-based
  variant?: ReaderDriverVariant;
  /** Capacity of the IOCTL trace ring buffer. Default 1024. */
  traceCapacity?: number;
  /** SMCLIB [I] configuration points (smcard/smclib/options.ts). Optional. */
  smclib?: Partial<import('../smclib/options.js').SmclibOptions>;
  /** Reader-driver configuration points (smcard/reader/driver-config.ts). Optional. */
  driver?: Partial<import('./driver-config.js').ReaderDriverConfig>;
  /** A PIN-pad reader (PC/SC part 10 secure PIN entry, docs/pinpad.md); true takes the default pad. */
  pinpad?: boolean | Partial<import('./pinpad/part10.js').PinpadProperties>;
}

export interface IoctlTraceEntry {
  seq: number;
  /** ms since the epoch when the IRP arrived. */
  time: number;
  ioControlCode: number;
  /** `IOCTL_SMARTCARD_IS_ABSENT` */
  ioControlName: string;
  inputLength: number;
  outputLength: number;
  /** Undefined while pending. */
  status?: number;
  statusName?: string;
  information?: number;
  pending: boolean;
  durationMs?: number;
  /** The first input DWORD for POWER, SET_PROTOCOL, GET/SET_ATTRIBUTE (the minor code), when present. */
  minorCode?: number;
  /** Optional: the IRP id, shown as `Request 0x…` in traceText(). */
  requestId?: number;
  /** Optional: display name of the minor code (`SCARD_ATTR_VENDOR_NAME`, `SCARD_COLD_RESET`, ...). */
  minorName?: string;
  /** Optional: driver callbacks entered for this IRP, in order (`CBCardTracking`, ...). */
  callbacks?: string[];
  /** Optional: true once the IRP was returned STATUS_PENDING (stays true after it completes). */
  pendedAtSomePoint?: boolean;
}

/** What the outside world (the service, tests) does to a virtual reader: the card slot and the trace. */
export interface VirtualReader {
  readonly device: ReaderDeviceInterface;
  readonly unitNo: number;
  readonly variant: ReaderDriverVariant;
  readonly card: VirtualCard | null;
  /** The keypad of a PIN-pad reader (driven from outside), null for a plain reader. */
  readonly keypad?: import('./pinpad/keypad.js').Keypad | null;
  /** Faults armed on this reader (docs/faults.md). */
  readonly faults?: import('./faults/reader-faults.js').ReaderFaults;
  insertCard(card: VirtualCard): void;
  /** Removes the card (if any) and returns it. */
  removeCard(): VirtualCard | null;
  /** A power failure nobody is told of (docs/faults.md); false when the slot is empty. */
  cutCardPower?(): Promise<boolean>;
  trace(): readonly IoctlTraceEntry[];
  /** The trace in the shape of the forum's debugger log. */
  traceText(): string;
}

export interface ReaderBusEvents {
  arrival: (iface: ReaderDeviceInterface, reader: VirtualReader) => void;
  removal: (iface: ReaderDeviceInterface, reader: VirtualReader) => void;
}

/**
 * Command and response APDUs the readers of one bus handed to their cards and got back, since the bus was made
 * (every path to a card: TRANSMIT, faults that let the command through, PIN-pad verification). Read-only view.
 */
export interface ApduCounts {
  readonly commands: number;
  readonly commandBytes: number;
  /** Responses are fewer than commands by the transmits that failed. */
  readonly responses: number;
  readonly responseBytes: number;
}

/** PnP for virtual readers: AddDevice / surprise removal, and interface arrival notifications. */
export interface ReaderBus {
  /** What the bus's readers carried to and from their cards (the service reads it for /metrics). */
  readonly apduCounts: ApduCounts;
  addReader(options?: VirtualReaderOptions): VirtualReader;
  /** Surprise removal: pending IRPs complete with STATUS_DEVICE_REMOVED or CANCELLED, then `removal` fires. */
  removeReader(reader: VirtualReader): void;
  readers(): readonly VirtualReader[];
  on<E extends keyof ReaderBusEvents>(event: E, listener: ReaderBusEvents[E]): () => void;
}
