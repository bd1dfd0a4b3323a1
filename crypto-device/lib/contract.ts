// The user-mode contract of the crypto device (the CryptoDeviceCtrl role): what smcard/ and service/ call.
// Implemented by crypto-device/lib/crypto-device-ctrl.ts on top of the driver's I/O controls.

import type { EngineName, InterruptMode } from '../device/contract.js';
import type { UserBuffer } from '../../kernel/user-buffer.js';

/** Device State and ErrorCode register values, from the one register table. */
export { STATE as DEVICE_STATE, ERROR as DEVICE_ERROR } from '../device/registers.js';

export interface DeviceStatus {
  state: number;
  /** `ReadyState`, `ResetState`, `AesCbcState`, `Sha2State` (lib/status-names.ts) */
  stateName: string;
  errorCode: number;
  /** `no error`, `DMA error`, `reset error`, `write I/O error`, `internal error` (lib/status-names.ts) */
  errorName: string;
}

/** A buffer in the simulated user address space; defined with the address space the driver owns. */
export type { UserBuffer } from '../../kernel/user-buffer.js';

export interface CryptoDeviceInfo {
  index: number;
  vendorId: number;
  deviceId: number;
  revision: number;
  engine: EngineName;
  interruptMode: InterruptMode;
  guestMemoryBytes: number;
}

/** What every implementation of `allocUserBuffer` honours (the concrete library also takes test-only placement options). */
export interface UserBufferOptions {
  /** Zero the pages (default true). Pass false only when the caller writes every byte before any is read. */
  zero?: boolean;
}

/**
 * One opened device. Methods throw `NtStatusError` (kernel/ntstatus.ts) carrying the driver's NTSTATUS.
 * Requests are queued in FIFO order by this object, so concurrent callers never see STATUS_DEVICE_BUSY
 * from each other; the driver-level busy rule is still reachable through `ioControl`.
 */
export interface CryptoDeviceControl {
  readonly info: CryptoDeviceInfo;
  /** Largest input one request accepts (bytes). */
  readonly maxRequestBytes: number;
  sha256(data: Uint8Array | UserBuffer): Promise<Uint8Array>;
  /** Output is roundup16(input) bytes: zero padding, fixed IV, key = SHA-256(key string). */
  aesCbcEncrypt(data: Uint8Array): Promise<Uint8Array>;
  aesCbcDecrypt(data: Uint8Array): Promise<Uint8Array>;
  /** In-buffer forms for large data; `output` may be `input` (in place). */
  aesCbcEncryptBuffer(input: UserBuffer, output: UserBuffer): Promise<void>;
  aesCbcDecryptBuffer(input: UserBuffer, output: UserBuffer): Promise<void>;
  /** A buffer in the device's user address space, zeroed unless `options.zero` is false. */
  allocUserBuffer(length: number, options?: UserBufferOptions): UserBuffer;
  reset(): Promise<void>;
  getStatus(): Promise<DeviceStatus>;
  /** Raw DeviceIoControl on the open handle, for tests and tools. */
  ioControl(code: number, input: Uint8Array, outputLength: number): Promise<{ status: number; information: number; output: Uint8Array }>;
  /** Closes the handle (the driver resets the device on close). */
  close(): Promise<void>;
}

/** Bytes of output AES produces for `inputLength` bytes of input. */
export function aesOutputSize(inputLength: number): number {
  return Math.ceil(inputLength / 16) * 16;
}
