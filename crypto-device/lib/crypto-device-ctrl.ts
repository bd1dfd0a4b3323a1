// The CryptoDeviceCtrl-style user library: Uint8Array and UserBuffer calls over the driver's I/O controls,
// FIFO-queued, with failures thrown as NtStatusError (docs/crypto-device.md "The driver (WDF) and its I/O controls").

import { AsyncMutex } from '../../kernel/async-mutex.js';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { NTSTATUS, type NtStatus } from '../../kernel/ntstatus.js';
import { ntError } from '../../kernel/nt-error.js';
import type { DriverFileHandle } from '../driver/crypto-device-driver.js';
import { deviceIoControlByAddress, type UserIoControlResult } from '../../kernel/io-manager.js';
import {
  DEVICE_STATUS_SIZE,
  IOCTL_CRYPTO_DEVICE_AES_CBC_DECRYPT,
  IOCTL_CRYPTO_DEVICE_AES_CBC_ENCRYPT,
  IOCTL_CRYPTO_DEVICE_GET_STATUS,
  IOCTL_CRYPTO_DEVICE_RESET,
  IOCTL_CRYPTO_DEVICE_SHA256,
  encodeBufferInOut,
} from '../driver/ioctl-codes.js';
import { MappedUserBuffer, type AllocBufferOptions, type UserAddressSpace } from '../../kernel/user-address-space.js';
import { aesOutputSize, type CryptoDeviceControl, type CryptoDeviceInfo, type DeviceStatus, type UserBuffer } from './contract.js';
import { describeStatus } from './status-names.js';
import { segmentedAesCbc, type SegmentIo } from './segmented-aes.js';
import { DEVICE_IV } from '../device/index.js';

export const SHA256_SIZE = 32;
export const AES_BLOCK_SIZE = 16;
export const DEFAULT_MAX_REQUEST_BYTES = 256 * 1024 * 1024;
/** Copies between JS memory and guest memory go in slices this big, yielding in between, so the event loop stays responsive. */
const COPY_SLICE_BYTES = 1024 * 1024;

/**
 * Segments of a Uint8Array AES call (segmented-aes.ts): the device works on one while the host copies the
 * neighbours in and out (docs/crypto-device.md "The Uint8Array API: segmented AES").
 */
export const DEFAULT_AES_SEGMENT_BYTES = 8 * 1024 * 1024;

export interface CryptoDeviceCtrlOptions {
  /** Largest input of one request. Default 256 MiB, never more than half of guest memory. */
  maxRequestBytes?: number;
  /** Largest segment of a Uint8Array AES call (a positive multiple of 16; tests make it small). */
  aesSegmentBytes?: number;
}

export class CryptoDeviceCtrl implements CryptoDeviceControl {
  readonly maxRequestBytes: number;
  /** FIFO: concurrent callers of one handle wait their turn instead of meeting the driver's STATUS_DEVICE_BUSY. */
  private readonly queue = new AsyncMutex();
  /**
   * The OUT buffer of queued SHA-256 requests, mapped once instead of per request (map, zero and unmap cost more
   * than hashing 4 KiB). The FIFO runs one job at a time, so only one request can own it.
   */
  private digestBuffer: MappedUserBuffer | null = null;
  /** A reset in progress; queued requests start only after it, instead of meeting STATUS_DEVICE_BUSY. */
  private resetting: Promise<unknown> | null = null;
  /** Resets (and closes) sent through this handle: a segmented call that sees it move ends STATUS_CANCELLED. */
  private resets = 0;
  readonly aesSegmentBytes: number;

  constructor(
    private readonly handle: DriverFileHandle,
    readonly info: CryptoDeviceInfo,
    options: CryptoDeviceCtrlOptions = {},
  ) {
    // Half of guest RAM: an in-place AES request needs one buffer of roundup16(n) plus its page list.
    const bound = Math.floor(info.guestMemoryBytes / 2 / AES_BLOCK_SIZE) * AES_BLOCK_SIZE;
    this.maxRequestBytes = Math.min(options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES, bound);
    this.aesSegmentBytes = options.aesSegmentBytes ?? DEFAULT_AES_SEGMENT_BYTES;
    if (!Number.isSafeInteger(this.aesSegmentBytes) || this.aesSegmentBytes <= 0 || this.aesSegmentBytes % AES_BLOCK_SIZE !== 0) {
      throw new RangeError(`aesSegmentBytes must be a positive multiple of 16, got ${this.aesSegmentBytes}`);
    }
  }

  /** The process address space user buffers live in. */
  get addressSpace(): UserAddressSpace {
    return this.handle.addressSpace;
  }

  get isClosed(): boolean {
    return this.handle.isClosed;
  }

  /** Requests waiting in (or running from) the FIFO. */
  get queuedRequests(): number {
    return this.queue.pending;
  }

  // ---- Uint8Array / UserBuffer API (the contract) ----

  async sha256(data: Uint8Array | UserBuffer): Promise<Uint8Array> {
    if (!(data instanceof Uint8Array)) {
      const buffer = this.ownBuffer(data, 'data');
      return this.enqueue(() => this.sha256Serialized(buffer.address, buffer.length));
    }
    this.checkSize(data.length);
    return this.enqueue(async () => {
      if (data.length === 0) return this.sha256Serialized(0n, 0);
      const buffer = this.addressSpace.allocBuffer(data.length, { zero: false });
      try {
        await copyIn(buffer, data);
        return await this.sha256Serialized(buffer.address, buffer.length);
      } finally {
        buffer.release();
      }
    });
  }

  aesCbcEncrypt(data: Uint8Array): Promise<Uint8Array> {
    return this.aesBytes(IOCTL_CRYPTO_DEVICE_AES_CBC_ENCRYPT, data);
  }

  aesCbcDecrypt(data: Uint8Array): Promise<Uint8Array> {
    return this.aesBytes(IOCTL_CRYPTO_DEVICE_AES_CBC_DECRYPT, data);
  }

  aesCbcEncryptBuffer(input: UserBuffer, output: UserBuffer): Promise<void> {
    return this.aesBuffers(IOCTL_CRYPTO_DEVICE_AES_CBC_ENCRYPT, input, output);
  }

  aesCbcDecryptBuffer(input: UserBuffer, output: UserBuffer): Promise<void> {
    return this.aesBuffers(IOCTL_CRYPTO_DEVICE_AES_CBC_DECRYPT, input, output);
  }

  /** A zeroed buffer in this device's user address space (contiguous guest pages when available). */
  allocUserBuffer(length: number, options?: AllocBufferOptions): MappedUserBuffer {
    if (!Number.isInteger(length) || length <= 0) throw ntError(NTSTATUS.STATUS_INVALID_PARAMETER, `buffer length must be a positive integer, got ${length}`);
    return this.addressSpace.allocBuffer(length, options);
  }

  /** Not queued: a reset must be able to cancel the request that is running. */
  async reset(): Promise<void> {
    this.resets++;
    const pending = this.handle.deviceIoControl(IOCTL_CRYPTO_DEVICE_RESET, new Uint8Array(0), 0);
    const settled = pending.then(
      () => undefined,
      () => undefined,
    );
    this.resetting = settled;
    void settled.then(() => {
      if (this.resetting === settled) this.resetting = null;
    });
    throwIfFailed((await pending).status);
  }

  /** Not queued: status can be read while a long request runs. */
  async getStatus(): Promise<DeviceStatus> {
    const result = await this.handle.deviceIoControl(IOCTL_CRYPTO_DEVICE_GET_STATUS, new Uint8Array(0), DEVICE_STATUS_SIZE);
    throwIfFailed(result.status);
    return describeStatus(result.output[0], result.output[1]);
  }

  /** Raw DeviceIoControl with an in-memory system buffer; bypasses the FIFO so the driver's busy rule shows. */
  ioControl(code: number, input: Uint8Array, outputLength: number): Promise<{ status: number; information: number; output: Uint8Array }> {
    if (code >>> 0 === IOCTL_CRYPTO_DEVICE_RESET) this.resets++;
    return this.handle.deviceIoControl(code, input, outputLength);
  }

  async close(): Promise<void> {
    this.resets++; // the driver resets the device on close
    this.digestBuffer?.release();
    this.digestBuffer = null;
    await this.handle.close();
  }

  // ---- Pointer forms: the original CryptoDeviceCtrl signatures (address + size in the user address space) ----

  /** Sha256(const void* buffer, size_t size): IN is the caller's buffer, OUT a fresh 32-byte buffer. */
  async sha256At(address: bigint, size: number): Promise<Uint8Array> {
    const digest = this.addressSpace.allocBuffer(SHA256_SIZE);
    try {
      await this.inOut(IOCTL_CRYPTO_DEVICE_SHA256, address, size, digest.address, SHA256_SIZE);
      return digest.read();
    } finally {
      digest.release();
    }
  }

  /** sha256At for jobs run by the FIFO: same IOCTL, but the digest lands in the handle's reusable buffer. */
  private async sha256Serialized(address: bigint, size: number): Promise<Uint8Array> {
    if (this.digestBuffer === null || this.digestBuffer.isReleased) this.digestBuffer = this.addressSpace.allocBuffer(SHA256_SIZE);
    await this.inOut(IOCTL_CRYPTO_DEVICE_SHA256, address, size, this.digestBuffer.address, SHA256_SIZE);
    return this.digestBuffer.read();
  }

  aesCbcEncryptAt(inAddress: bigint, inSize: number, outAddress: bigint, outSize: number): Promise<void> {
    return this.inOut(IOCTL_CRYPTO_DEVICE_AES_CBC_ENCRYPT, inAddress, inSize, outAddress, outSize);
  }

  aesCbcDecryptAt(inAddress: bigint, inSize: number, outAddress: bigint, outSize: number): Promise<void> {
    return this.inOut(IOCTL_CRYPTO_DEVICE_AES_CBC_DECRYPT, inAddress, inSize, outAddress, outSize);
  }

  /** DeviceIoControl with user addresses for both buffers (METHOD_BUFFERED probing, as the I/O manager does). */
  deviceIoControlAt(code: number, inAddress: bigint, inLength: number, outAddress: bigint, outLength: number): Promise<UserIoControlResult> {
    return deviceIoControlByAddress(this.handle, this.addressSpace, code, inAddress, inLength, outAddress, outLength);
  }

  // ---- internals ----

  /** FIFO, and never overlapping a reset the library itself sent. */
  private enqueue<T>(job: () => Promise<T>): Promise<T> {
    return this.queue.run(async () => {
      while (this.resetting) await this.resetting;
      return job();
    });
  }

  private async inOut(code: number, inAddress: bigint, inSize: number, outAddress: bigint, outSize: number): Promise<void> {
    const request = encodeBufferInOut({ in: { address: inAddress, size: inSize }, out: { address: outAddress, size: outSize } });
    const result = await this.handle.deviceIoControl(code, request, 0);
    throwIfFailed(result.status);
  }

  private aesBytes(code: number, data: Uint8Array): Promise<Uint8Array> {
    // The device would take an empty input as a DMA error, which is sticky until a reset; refuse it here so
    // one bad caller cannot wedge a device that REST and the card share.
    if (data.length === 0) return Promise.reject(ntError(NTSTATUS.STATUS_INVALID_PARAMETER, 'AES-CBC input must not be empty'));
    try {
      this.checkSize(data.length);
    } catch (err) {
      return Promise.reject(err);
    }
    const direction = code === IOCTL_CRYPTO_DEVICE_AES_CBC_ENCRYPT ? 'encrypt' : 'decrypt';
    return this.enqueue(() => {
      const resetsBefore = this.resets;
      const io: SegmentIo = {
        space: this.addressSpace,
        // In place: each guest buffer holds IN and then OUT, half the guest memory of separate buffers.
        request: async (address, inSize, outSize) => {
          try {
            await this.inOut(code, address, inSize, address, outSize);
          } catch (err) {
            // A reset between two segments can make the next one meet STATUS_DEVICE_BUSY (or a closed handle):
            // the call ends as a reset during one request ends it.
            throw this.resets !== resetsBefore ? ntError(NTSTATUS.STATUS_CANCELLED) : err;
          }
        },
        checkpoint: () => {
          if (this.resets !== resetsBefore) throw ntError(NTSTATUS.STATUS_CANCELLED, 'a reset came between two segments of the request');
        },
      };
      return segmentedAesCbc(io, direction, data, this.aesSegmentBytes, DEVICE_IV);
    });
  }

  private aesBuffers(code: number, input: UserBuffer, output: UserBuffer): Promise<void> {
    try {
      const inBuf = this.ownBuffer(input, 'input');
      const outBuf = this.ownBuffer(output, 'output');
      if (inBuf.length === 0) throw ntError(NTSTATUS.STATUS_INVALID_PARAMETER, 'AES-CBC input must not be empty');
      this.checkSize(inBuf.length);
      if (outBuf.length < aesOutputSize(inBuf.length)) {
        throw ntError(NTSTATUS.STATUS_BUFFER_TOO_SMALL, `output needs ${aesOutputSize(inBuf.length)} bytes, has ${outBuf.length}`);
      }
      return this.enqueue(() => this.inOut(code, inBuf.address, inBuf.length, outBuf.address, aesOutputSize(inBuf.length)));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  private ownBuffer(buffer: UserBuffer, what: string): UserBuffer {
    if (!(buffer instanceof MappedUserBuffer) || buffer.isReleased || !this.addressSpace.isMapped(buffer.address, buffer.length)) {
      throw ntError(NTSTATUS.STATUS_INVALID_PARAMETER, `${what} is not a live buffer of this device (use allocUserBuffer)`);
    }
    return buffer;
  }

  private checkSize(length: number): void {
    if (length > this.maxRequestBytes) {
      throw ntError(NTSTATUS.STATUS_INVALID_PARAMETER, `request of ${length} bytes exceeds the ${this.maxRequestBytes}-byte limit`);
    }
  }
}

function throwIfFailed(status: NtStatus): void {
  if (status !== NTSTATUS.STATUS_SUCCESS) throw ntError(status);
}

async function copyIn(buffer: UserBuffer, data: Uint8Array): Promise<void> {
  for (let pos = 0; pos < data.length; pos += COPY_SLICE_BYTES) {
    if (pos > 0) await yieldToLoop();
    buffer.write(pos, data.subarray(pos, Math.min(data.length, pos + COPY_SLICE_BYTES)));
  }
}
