// The user-mode side of DeviceIoControl for METHOD_BUFFERED: probe the caller's buffers by address, copy the
// input into a system buffer, call the driver, copy Information bytes back (what the Windows I/O manager does).

import { NTSTATUS, type NtStatus } from './ntstatus.js';
import type { UserAddressSpace } from './user-address-space.js';

/** An open handle on a driver that takes METHOD_BUFFERED I/O controls. */
export interface IoControlTarget {
  deviceIoControl(code: number, input: Uint8Array, outputLength: number): Promise<{ status: NtStatus; information: number; output: Uint8Array }>;
}

export interface UserIoControlResult {
  status: NtStatus;
  /** Bytes written to the output buffer. */
  information: number;
}

/**
 * DeviceIoControl(handle, code, inAddress, inLength, outAddress, outLength). A buffer whose pages cannot be
 * probed (null with a length, unmapped, past the user range) fails with STATUS_ACCESS_VIOLATION before the
 * driver is called, as ProbeForRead/ProbeForWrite raise it.
 */
export async function deviceIoControlByAddress(
  handle: IoControlTarget,
  space: UserAddressSpace,
  code: number,
  inAddress: bigint,
  inLength: number,
  outAddress: bigint,
  outLength: number,
): Promise<UserIoControlResult> {
  if (!probe(space, inAddress, inLength) || !probe(space, outAddress, outLength)) {
    return { status: NTSTATUS.STATUS_ACCESS_VIOLATION, information: 0 };
  }
  const systemBuffer = inLength > 0 ? space.read(inAddress, inLength) : new Uint8Array(0);
  const completion = await handle.deviceIoControl(code, systemBuffer, outLength);
  const information = Math.min(completion.information, outLength);
  if (information > 0) space.write(outAddress, completion.output.subarray(0, information));
  return { status: completion.status, information };
}

function probe(space: UserAddressSpace, address: bigint, length: number): boolean {
  if (length === 0) return true;
  return space.checkRange(address, length) === NTSTATUS.STATUS_SUCCESS && space.isMapped(address, length);
}
