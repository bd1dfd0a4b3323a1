// Test double for fault injection only: a reader interface whose IOCTL answers a test scripts (attribute
// failures, a tracking IRP that fails after publication), behind a minimal ReaderBus. Everything else in
// the RM tests runs on the real reader stack.

import { NTSTATUS, asNtStatus } from '../../kernel/ntstatus.js';
import type { IoResult, PendingIo, ReaderBus, ReaderBusEvents, ReaderDeviceInterface, ReaderFileHandle, VirtualReader } from '../../smcard/reader/contract.js';
import { IOCTL_SMARTCARD, dword, readDword } from '../../service/rm/reader-ioctl.js';
import { SCARD_ATTR } from '../../service/contract/pcsclite.js';

const done = (status: number, output: Uint8Array = new Uint8Array(0)): IoResult => ({ status: asNtStatus(status), information: output.length, output });

/** What the scripted device does with a tracking IRP: pend it, or complete it at once with a status. */
export type TrackingAnswer = 'pend' | number;

export class ScriptedDevice implements ReaderDeviceInterface {
  readonly attrs = new Map<number, Uint8Array | number>([
    [SCARD_ATTR.VENDOR_NAME, new Uint8Array(Buffer.from('Bix\0'))],
    [SCARD_ATTR.VENDOR_IFD_TYPE, new Uint8Array(Buffer.from('VIRTUAL_CARD_READER\0'))],
    [SCARD_ATTR.DEVICE_UNIT, dword(0)],
    [SCARD_ATTR.CHARACTERISTICS, dword(0)],
  ]);
  atr = Uint8Array.from([0x3b, 0x80, 0x80, 0x01, 0x01]);
  /** Answer for the n-th tracking IRP (0-based). Default: always pend. */
  tracking: (wantPresent: boolean, n: number) => TrackingAnswer = () => 'pend';
  private trackingCount = 0;
  private pendingTrack: { resolve: (r: IoResult) => void } | null = null;
  opened = 0;
  closed = 0;
  /** Called each time a tracking IRP is pended (lets a test drive insert/remove cycles). */
  onPended: (() => void) | null = null;

  constructor(readonly symbolicLink: string) {}

  /** Complete the pending tracking IRP (an insertion or removal, or an error). */
  completeTracking(status: number): void {
    const p = this.pendingTrack;
    this.pendingTrack = null;
    p?.resolve(done(status));
  }

  open(): ReaderFileHandle {
    this.opened++;
    return {
      deviceIoControl: (code, input) => this.ioctl(code, input),
      close: () => {
        this.closed++;
        this.completeTracking(NTSTATUS.STATUS_CANCELLED);
      },
    };
  }

  private ioctl(code: number, input: Uint8Array): PendingIo {
    const now = (r: IoResult): PendingIo => ({ result: Promise.resolve(r), pended: Promise.resolve(false), cancel: () => undefined });
    switch (code) {
      case IOCTL_SMARTCARD.GET_ATTRIBUTE: {
        const v = this.attrs.get(readDword(input) ?? 0);
        if (v === undefined) return now(done(NTSTATUS.STATUS_NOT_SUPPORTED));
        return now(typeof v === 'number' ? done(v) : done(NTSTATUS.STATUS_SUCCESS, v));
      }
      case IOCTL_SMARTCARD.GET_STATE:
        return now(done(NTSTATUS.STATUS_SUCCESS, dword(5)));
      case IOCTL_SMARTCARD.POWER:
        return now(done(NTSTATUS.STATUS_SUCCESS, readDword(input) === 0 ? new Uint8Array(0) : this.atr));
      case IOCTL_SMARTCARD.IS_PRESENT:
      case IOCTL_SMARTCARD.IS_ABSENT: {
        const answer = this.tracking(code === IOCTL_SMARTCARD.IS_PRESENT, this.trackingCount++);
        if (answer !== 'pend') return now(done(answer));
        const result = new Promise<IoResult>((resolve) => (this.pendingTrack = { resolve }));
        this.onPended?.();
        return { result, pended: Promise.resolve(true), cancel: () => this.completeTracking(NTSTATUS.STATUS_CANCELLED) };
      }
      default:
        return now(done(NTSTATUS.STATUS_INVALID_DEVICE_REQUEST));
    }
  }
}

/** Just enough PnP for the RM: arrival/removal events and the reader list. */
export class ScriptedBus implements ReaderBus {
  private readonly list: VirtualReader[] = [];
  private readonly listeners = { arrival: new Set<ReaderBusEvents['arrival']>(), removal: new Set<ReaderBusEvents['removal']>() };

  add(device: ScriptedDevice): VirtualReader {
    const reader = {
      device,
      unitNo: this.list.length,
      variant: 'correct',
      card: null,
      insertCard: () => {
        throw new Error('scripted device: no slot');
      },
      removeCard: () => null,
      trace: () => [],
      traceText: () => '',
    } satisfies VirtualReader;
    this.list.push(reader);
    for (const l of this.listeners.arrival) l(device, reader);
    return reader;
  }

  addReader(): VirtualReader {
    throw new Error('scripted bus: use add()');
  }

  removeReader(reader: VirtualReader): void {
    this.list.splice(this.list.indexOf(reader), 1);
    for (const l of this.listeners.removal) l(reader.device, reader);
  }

  readers(): readonly VirtualReader[] {
    return [...this.list];
  }

  on<E extends keyof ReaderBusEvents>(event: E, listener: ReaderBusEvents[E]): () => void {
    const set = this.listeners[event] as Set<ReaderBusEvents[E]>;
    set.add(listener);
    return () => void set.delete(listener);
  }
}
