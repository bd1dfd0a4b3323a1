// The RM's only door to a reader: DeviceIoControl on the opened interface, serialised per reader like
// pcsc-lite's ifdwrapper mutex. Codes and buffer layouts follow smclib.md §1.1, §3.2 and §5.8.

import { ctlCode, FILE_DEVICE_SMARTCARD } from '../../kernel/ctl-code.js';
import { NTSTATUS, NtStatusError } from '../../kernel/ntstatus.js';
import type { IoResult, PendingIo, ReaderFileHandle } from '../../smcard/reader/contract.js';

/** SCARD_CTL_CODE(fn) = CTL_CODE(FILE_DEVICE_SMARTCARD, fn, METHOD_BUFFERED, FILE_ANY_ACCESS) (smclib.md §1.1). */
export function scardCtlCode(fn: number): number {
  return ctlCode(FILE_DEVICE_SMARTCARD, fn);
}

export const IOCTL_SMARTCARD = {
  POWER: scardCtlCode(1),
  GET_ATTRIBUTE: scardCtlCode(2),
  SET_ATTRIBUTE: scardCtlCode(3),
  CONFISCATE: scardCtlCode(4),
  TRANSMIT: scardCtlCode(5),
  EJECT: scardCtlCode(6),
  SWALLOW: scardCtlCode(7),
  IS_PRESENT: scardCtlCode(10),
  IS_ABSENT: scardCtlCode(11),
  SET_PROTOCOL: scardCtlCode(12),
  GET_STATE: scardCtlCode(14),
  GET_LAST_ERROR: scardCtlCode(15),
  GET_FEATURE_REQUEST: scardCtlCode(3400),
} as const;

const IOCTL_NAMES = new Map<number, string>(Object.entries(IOCTL_SMARTCARD).map(([k, v]) => [v, `IOCTL_SMARTCARD_${k}`]));

/** `IOCTL_SMARTCARD_IS_ABSENT`, or `IOCTL_0x…` for a code this table does not know. */
export function ioctlName(code: number): string {
  return IOCTL_NAMES.get(code >>> 0) ?? `IOCTL_0x${(code >>> 0).toString(16).toUpperCase().padStart(8, '0')}`;
}

/** SMCLIB CurrentState values returned by GET_STATE (smclib.md §1.2). */
export const SMCLIB_STATE = { UNKNOWN: 0, ABSENT: 1, PRESENT: 2, SWALLOWED: 3, POWERED: 4, NEGOTIABLE: 5, SPECIFIC: 6 } as const;
/** POWER minor codes (smclib.md §1.3). */
export const SCARD_POWER = { POWER_DOWN: 0, COLD_RESET: 1, WARM_RESET: 2 } as const;
/** Windows protocol bits where they differ from pcsc-lite's (RAW is 4 in pcsc-lite, 0x10000 in winsmcrd.h). */
export const WIN_PROTOCOL = { T0: 1, T1: 2, RAW: 0x10000 } as const;
/** MAXIMUM_ATR_LENGTH: POWER needs at least this much output (smclib.md §3.4). */
export const ATR_BUFFER = 33;

export function dword(value: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value >>> 0, true);
  return out;
}

export function readDword(bytes: Uint8Array, offset = 0): number | null {
  if (bytes.length < offset + 4) return null;
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(offset, true);
}

function failed(status: number): IoResult {
  return { status: status >>> 0, information: 0, output: new Uint8Array(0) };
}

/** A reader handle with typed IOCTL helpers; never throws, every outcome is an NTSTATUS. */
export class ReaderIo {
  private tail: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(private readonly handle: ReaderFileHandle) {}

  /** One IOCTL, queued behind the previous one on this reader (card tracking excepted, see track()). */
  call(code: number, input: Uint8Array, outputLength: number): Promise<IoResult> {
    const run = async (): Promise<IoResult> => {
      if (this.closed) return failed(NTSTATUS.STATUS_NO_SUCH_DEVICE);
      try {
        return await this.handle.deviceIoControl(code, input, outputLength).result;
      } catch (err) {
        return failed(err instanceof NtStatusError ? err.status : NTSTATUS.STATUS_UNSUCCESSFUL);
      }
    };
    const next = this.tail.then(run, run);
    this.tail = next.catch(() => undefined);
    return next;
  }

  /**
   * IS_PRESENT / IS_ABSENT. Not serialised: the IRP stays pending for the card's lifetime and SMCLIB lets
   * other IOCTLs through meanwhile (smclib.md §3.3).
   */
  track(wantPresent: boolean): PendingIo {
    const code = wantPresent ? IOCTL_SMARTCARD.IS_PRESENT : IOCTL_SMARTCARD.IS_ABSENT;
    if (this.closed) return { result: Promise.resolve(failed(NTSTATUS.STATUS_CANCELLED)), cancel: () => undefined };
    try {
      const io = this.handle.deviceIoControl(code, new Uint8Array(0), 0);
      const result = io.result.catch((err: unknown) => failed(err instanceof NtStatusError ? err.status : NTSTATUS.STATUS_UNSUCCESSFUL));
      return { result, cancel: () => io.cancel() };
    } catch (err) {
      return { result: Promise.resolve(failed(err instanceof NtStatusError ? err.status : NTSTATUS.STATUS_UNSUCCESSFUL)), cancel: () => undefined };
    }
  }

  getAttribute(attrId: number, outputLength: number): Promise<IoResult> {
    return this.call(IOCTL_SMARTCARD.GET_ATTRIBUTE, dword(attrId), outputLength);
  }

  setAttribute(attrId: number, value: Uint8Array): Promise<IoResult> {
    const input = new Uint8Array(4 + value.length);
    input.set(dword(attrId), 0);
    input.set(value, 4);
    return this.call(IOCTL_SMARTCARD.SET_ATTRIBUTE, input, 0);
  }

  /** GET_STATE → SMCLIB CurrentState, or the failing status. */
  async getState(): Promise<{ status: number; state: number }> {
    const r = await this.call(IOCTL_SMARTCARD.GET_STATE, new Uint8Array(0), 4);
    const state = readDword(r.output.subarray(0, r.information));
    return { status: r.status, state: state ?? SMCLIB_STATE.UNKNOWN };
  }

  power(minor: number): Promise<IoResult> {
    return this.call(IOCTL_SMARTCARD.POWER, dword(minor), minor === SCARD_POWER.POWER_DOWN ? 0 : ATR_BUFFER);
  }

  setProtocol(mask: number): Promise<IoResult> {
    return this.call(IOCTL_SMARTCARD.SET_PROTOCOL, dword(mask), 4);
  }

  /** TRANSMIT with the 8-byte SCARD_IO_REQUEST header in front (smclib.md §3.6, §5.4). */
  transmit(protocol: number, apdu: Uint8Array, maxResponse: number): Promise<IoResult> {
    const input = new Uint8Array(8 + apdu.length);
    input.set(dword(protocol), 0);
    input.set(dword(8), 4);
    input.set(apdu, 8);
    return this.call(IOCTL_SMARTCARD.TRANSMIT, input, 8 + maxResponse);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.handle.close();
    } catch {
      // Closing a handle of a device already surprise-removed may throw; the handle is gone either way.
    }
  }
}
