// The RM's only door to a reader: DeviceIoControl on the opened interface, serialised per reader like
// pcsc-lite's ifdwrapper mutex. Codes and buffer layouts follow docs/smclib.md §1.1, §3.2 and §5.8.

import { readU32LE, writeU32LE } from '../../kernel/bytes.js';
import { NTSTATUS, NtStatusError, asNtStatus, type NtStatus } from '../../kernel/ntstatus.js';
import { IOCTL_SMARTCARD } from '../../smcard/constants/ioctl.js';
import { WinScard } from '../../smcard/constants/scard.js';
import { MAXIMUM_ATR_LENGTH } from '../../smcard/constants/smclib.js';
import type { IoResult, PendingIo, ReaderFileHandle } from '../../smcard/reader/contract.js';
import type { WinProtocol } from './protocol-map.js';

// The codes are the reader stack's own table (docs/smclib.md §1.1): one definition for both sides of the IOCTL.
export { IOCTL_SMARTCARD, scardCtlCode } from '../../smcard/constants/ioctl.js';

/** SMCLIB CurrentState values returned by GET_STATE (docs/smclib.md §1.2), under short names. */
export const SMCLIB_STATE = {
  UNKNOWN: WinScard.UNKNOWN,
  ABSENT: WinScard.ABSENT,
  PRESENT: WinScard.PRESENT,
  SWALLOWED: WinScard.SWALLOWED,
  POWERED: WinScard.POWERED,
  NEGOTIABLE: WinScard.NEGOTIABLE,
  SPECIFIC: WinScard.SPECIFIC,
} as const;
/** POWER minor codes (docs/smclib.md §1.3). */
export const SMCLIB_POWER = { POWER_DOWN: WinScard.POWER_DOWN, COLD_RESET: WinScard.COLD_RESET, WARM_RESET: WinScard.WARM_RESET } as const;
/** POWER needs at least MAXIMUM_ATR_LENGTH bytes of output (docs/smclib.md §3.4). */
export const ATR_BUFFER = MAXIMUM_ATR_LENGTH;

/** Little-endian DWORD, written byte by byte: a DataView per call costs more than the IOCTL's own checks. */
export function dword(value: number): Uint8Array {
  const out = new Uint8Array(4);
  writeU32LE(out, 0, value);
  return out;
}

const NOT_PENDED = Promise.resolve(false);

export function readDword(bytes: Uint8Array, offset = 0): number | null {
  if (bytes.length < offset + 4) return null;
  return readU32LE(bytes, offset);
}

function failed(status: number): IoResult {
  return { status: asNtStatus(status), information: 0, output: new Uint8Array(0) };
}

function failedWith(err: unknown): IoResult {
  return failed(err instanceof NtStatusError ? err.status : NTSTATUS.STATUS_UNSUCCESSFUL);
}

/** A reader handle with typed IOCTL helpers; never throws, every outcome is an NTSTATUS. */
export class ReaderIo {
  /** Completion of the last queued IOCTL; never rejects. */
  private tail: Promise<IoResult> = Promise.resolve(failed(NTSTATUS.STATUS_SUCCESS));
  /** IOCTLs issued or queued and not yet completed: at zero a new one goes to the driver at once. */
  private inFlight = 0;
  private closed = false;

  constructor(private readonly handle: ReaderFileHandle) {}

  /** One IOCTL, queued behind the previous one on this reader (card tracking excepted, see track()). */
  call(code: number, input: Uint8Array, outputLength: number): Promise<IoResult> {
    const idle = this.inFlight === 0;
    this.inFlight++;
    // The idle case skips the queue: nothing can be ahead of this IRP, so the order is the same either way.
    const next = idle ? this.issue(code, input, outputLength) : this.tail.then(() => this.issue(code, input, outputLength));
    this.tail = next;
    return next;
  }

  /** DeviceIoControl now; every outcome (a throw included) becomes an IoResult, and the IOCTL leaves the count. */
  private issue(code: number, input: Uint8Array, outputLength: number): Promise<IoResult> {
    if (this.closed) return Promise.resolve(this.settled(failed(NTSTATUS.STATUS_NO_SUCH_DEVICE)));
    let io: PendingIo;
    try {
      io = this.handle.deviceIoControl(code, input, outputLength);
    } catch (err) {
      return Promise.resolve(this.settled(failedWith(err)));
    }
    return io.result.then(this.settled, this.settledWithError);
  }

  private readonly settled = (r: IoResult): IoResult => {
    this.inFlight--;
    return r;
  };

  private readonly settledWithError = (err: unknown): IoResult => this.settled(failedWith(err));

  /**
   * IS_PRESENT / IS_ABSENT. Not serialised: the IRP stays pending for the card's lifetime and SMCLIB lets
   * other IOCTLs through meanwhile (docs/smclib.md §3.3).
   */
  track(wantPresent: boolean): PendingIo {
    const code = wantPresent ? IOCTL_SMARTCARD.IS_PRESENT : IOCTL_SMARTCARD.IS_ABSENT;
    if (this.closed) return { result: Promise.resolve(failed(NTSTATUS.STATUS_CANCELLED)), pended: NOT_PENDED, cancel: () => undefined };
    try {
      const io = this.handle.deviceIoControl(code, new Uint8Array(0), 0);
      const result = io.result.catch(failedWith);
      return { result, pended: io.pended.catch(() => false), cancel: () => io.cancel() };
    } catch (err) {
      return { result: Promise.resolve(failedWith(err)), pended: NOT_PENDED, cancel: () => undefined };
    }
  }

  getAttribute(attrId: number, outputLength: number): Promise<IoResult> {
    return this.call(IOCTL_SMARTCARD.GET_ATTRIBUTE, dword(attrId), outputLength);
  }

  setAttribute(attrId: number, value: Uint8Array): Promise<IoResult> {
    const input = new Uint8Array(4 + value.length);
    writeU32LE(input, 0, attrId);
    input.set(value, 4);
    return this.call(IOCTL_SMARTCARD.SET_ATTRIBUTE, input, 0);
  }

  /** GET_STATE → SMCLIB CurrentState, or the failing status. */
  async getState(): Promise<{ status: NtStatus; state: number }> {
    const r = await this.call(IOCTL_SMARTCARD.GET_STATE, new Uint8Array(0), 4);
    const state = readDword(r.output.subarray(0, r.information));
    return { status: r.status, state: state ?? SMCLIB_STATE.UNKNOWN };
  }

  power(minor: number): Promise<IoResult> {
    return this.call(IOCTL_SMARTCARD.POWER, dword(minor), minor === SMCLIB_POWER.POWER_DOWN ? 0 : ATR_BUFFER);
  }

  /** SET_PROTOCOL with a Windows protocol mask (pcsc-lite's goes through protocol-map.ts first). */
  setProtocol(mask: WinProtocol): Promise<IoResult> {
    return this.call(IOCTL_SMARTCARD.SET_PROTOCOL, dword(mask), 4);
  }

  /** TRANSMIT with the 8-byte SCARD_IO_REQUEST header in front (docs/smclib.md §3.6, §5.4). */
  transmit(protocol: WinProtocol, apdu: Uint8Array, maxResponse: number): Promise<IoResult> {
    const input = new Uint8Array(8 + apdu.length);
    writeU32LE(input, 0, protocol);
    writeU32LE(input, 4, 8);
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
