// Counts of the operations one caller of a device ran through this library: per operation, the calls and input
// bytes, and the failures by NTSTATUS name. Plain fields bumped per call; an observer (the service's /metrics)
// reads them when it wants them.

import { NtStatusError } from '../../kernel/ntstatus.js';
import type { CryptoDeviceControl, UserBuffer } from './contract.js';

/** Operation names, as /metrics labels them. */
export type DeviceOpName = 'sha256' | 'aes-cbc-encrypt' | 'aes-cbc-decrypt';

export interface DeviceOpTally {
  count: number;
  /** Input bytes handed to the device. */
  bytes: number;
}

export interface DeviceOpFailure {
  readonly op: DeviceOpName;
  /** The NTSTATUS name, or `exception` for anything that was not an NtStatusError. */
  readonly status: string;
  readonly count: number;
}

/** The operations a caller may run through a counted view. */
export type CountedOps = Pick<CryptoDeviceControl, 'sha256' | 'aesCbcEncrypt' | 'aesCbcDecrypt'>;

/** One caller's calls on one device, counted by the library that runs them (countedCalls). */
export interface CountedDeviceCalls extends CountedOps {
  readonly caller: string;
  readonly counts: DeviceOpCounts;
}

export class DeviceOpCounts {
  /** Fixed per operation, so counting a call is two additions. */
  readonly ops: Readonly<Record<DeviceOpName, DeviceOpTally>> = {
    sha256: { count: 0, bytes: 0 },
    'aes-cbc-encrypt': { count: 0, bytes: 0 },
    'aes-cbc-decrypt': { count: 0, bytes: 0 },
  };
  /** op + NUL + status → count; bounded by the operations times the NTSTATUS names the library throws. */
  private readonly failed = new Map<string, number>();

  fail(op: DeviceOpName, err: unknown): void {
    const key = `${op}\u0000${err instanceof NtStatusError ? err.code : 'exception'}`;
    this.failed.set(key, (this.failed.get(key) ?? 0) + 1);
  }

  failures(): DeviceOpFailure[] {
    return [...this.failed].map(([key, count]) => {
      const [op, status] = key.split('\u0000') as [DeviceOpName, string];
      return { op, status, count };
    });
  }
}

/**
 * `ops` counted under `caller` in `counts`: each call is tallied before it starts, a rejection by its status.
 * `ops` may be a device still being opened: calls made before it is open wait for it (and get its error if the
 * open fails), later ones go straight to it. The counts may be made first, so an observer can hold them from the
 * start.
 */
export function countedCalls(ops: CountedOps | Promise<CountedOps>, caller: string, counts = new DeviceOpCounts()): CountedDeviceCalls {
  let open: CountedOps | null = ops instanceof Promise ? null : ops;
  const opening = ops instanceof Promise ? ops.then((o) => (open = o)) : null;
  // A failed open is reported by whoever awaits `ops`; calls waiting here get the same error.
  opening?.catch(() => undefined);
  const { sha256, 'aes-cbc-encrypt': encrypt, 'aes-cbc-decrypt': decrypt } = counts.ops;
  const failSha = (err: unknown): never => {
    counts.fail('sha256', err);
    throw err;
  };
  const failEncrypt = (err: unknown): never => {
    counts.fail('aes-cbc-encrypt', err);
    throw err;
  };
  const failDecrypt = (err: unknown): never => {
    counts.fail('aes-cbc-decrypt', err);
    throw err;
  };
  return {
    caller,
    counts,
    sha256(data: Uint8Array | UserBuffer) {
      sha256.count += 1;
      sha256.bytes += data.length;
      return (open ? open.sha256(data) : opening!.then((o) => o.sha256(data))).catch(failSha);
    },
    aesCbcEncrypt(data: Uint8Array) {
      encrypt.count += 1;
      encrypt.bytes += data.length;
      return (open ? open.aesCbcEncrypt(data) : opening!.then((o) => o.aesCbcEncrypt(data))).catch(failEncrypt);
    },
    aesCbcDecrypt(data: Uint8Array) {
      decrypt.count += 1;
      decrypt.bytes += data.length;
      return (open ? open.aesCbcDecrypt(data) : opening!.then((o) => o.aesCbcDecrypt(data))).catch(failDecrypt);
    },
  };
}
