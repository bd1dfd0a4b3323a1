// Test harness: one emulated device with its driver started, a scattering user address space, an open handle
// and the control library over it; plus independent node:crypto references for the known answers.

import { createCipheriv, createDecipheriv, createHash } from 'node:crypto';
import { expect } from 'vitest';
import { NtStatusError, ntStatusName, type NtStatusName } from '../../../kernel/ntstatus.js';
import type { CryptoDeviceOptions, GuestMemory, InterruptMode, PciCryptoDevice } from '../../../crypto-device/device/contract.js';
import { createPciCryptoDevice } from '../../../crypto-device/device/index.js';
import { CryptoDeviceDriver, type DriverFileHandle } from '../../../crypto-device/driver/crypto-device-driver.js';
import { UserAddressSpace } from '../../../kernel/user-address-space.js';
import { CryptoDeviceCtrl } from '../../../crypto-device/lib/crypto-device-ctrl.js';

export const KEY_STRING = 'secret';
export const FIXED_IV = Buffer.from('32ad5cdf529aae2be15c7e2ea19e5163', 'hex');
export const SHA256_EMPTY = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
export const SHA256_123 = 'a665a45920422f9d417e4867efdc4fb8a04a1f3fff1fa07e998e86f7f7a27ae3';
export const PAGE = 4096;

export interface TestRig {
  device: PciCryptoDevice;
  driver: CryptoDeviceDriver;
  handle: DriverFileHandle;
  ctrl: CryptoDeviceCtrl;
  space: UserAddressSpace;
  dispose(): Promise<void>;
}

export interface RigOptions extends CryptoDeviceOptions {
  interruptMode?: InterruptMode;
  resetTimeoutMs?: number;
  commandTimeoutMs?: number;
  /** Wraps the device before the driver sees it (fault injection). */
  wrap?: (device: PciCryptoDevice) => PciCryptoDevice;
}

/** Device + driver + scattered user pages, so every buffer of more than one page is really scatter-gather. */
export async function createRig(options: RigOptions = {}): Promise<TestRig> {
  const { interruptMode, resetTimeoutMs, commandTimeoutMs, wrap, ...deviceOptions } = options;
  const real = await createPciCryptoDevice({ keyString: KEY_STRING, guestMemoryBytes: 64 * 1024 * 1024, ...deviceOptions });
  const device = wrap ? wrap(real) : real;
  const space = new UserAddressSpace(device.memory, { defaultContiguous: false });
  const driver = new CryptoDeviceDriver(device, { interruptMode, resetTimeoutMs, commandTimeoutMs, addressSpace: space });
  driver.start();
  const handle = driver.open();
  const ctrl = new CryptoDeviceCtrl(handle, {
    index: 0,
    vendorId: device.pci.vendorId,
    deviceId: device.pci.deviceId,
    revision: device.pci.revision,
    engine: device.engine,
    interruptMode: driver.interruptMode,
    guestMemoryBytes: device.memory.sizeBytes,
  });
  return {
    device,
    driver,
    handle,
    ctrl,
    space,
    async dispose() {
      try {
        await withTimeout(driver.stop(), 5000, 'driver stop');
      } finally {
        await real.destroy();
      }
    },
  };
}

/** Key = SHA-256(key string), as the device derives it. */
export function aesKey(keyString = KEY_STRING): Buffer {
  return createHash('sha256').update(keyString).digest();
}

/** Independent AES-256-CBC with the device's rules applied here: fixed IV, zero padding, nothing stripped. */
export function refEncrypt(data: Uint8Array, keyString = KEY_STRING): Buffer {
  const cipher = createCipheriv('aes-256-cbc', aesKey(keyString), FIXED_IV);
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(zeroPad(data)), cipher.final()]);
}

export function refDecrypt(data: Uint8Array, keyString = KEY_STRING): Buffer {
  const decipher = createDecipheriv('aes-256-cbc', aesKey(keyString), FIXED_IV);
  decipher.setAutoPadding(false);
  return Buffer.concat([decipher.update(zeroPad(data)), decipher.final()]);
}

export function refSha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export function zeroPad(data: Uint8Array): Buffer {
  const padded = Buffer.alloc(Math.ceil(data.length / 16) * 16);
  padded.set(data);
  return padded;
}

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

/** Asserts that `promise` rejects with NtStatusError carrying exactly `name`. */
export async function expectNtStatus(promise: Promise<unknown>, name: NtStatusName): Promise<void> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err, `expected ${name}, got success`).toBeInstanceOf(NtStatusError);
  expect(ntStatusName((err as NtStatusError).status)).toBe(name);
}

/** Device State and ErrorCode through GET_STATUS. */
export async function deviceStatus(ctrl: CryptoDeviceCtrl): Promise<{ state: number; errorCode: number }> {
  const s = await ctrl.getStatus();
  return { state: s.state, errorCode: s.errorCode };
}

/** Bounded wait: a hung promise fails the test instead of hanging it. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Polls `predicate` every few ms until it holds; fails after `ms`. */
export async function waitUntil(predicate: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** A minimal GuestMemory for unit tests of the address space and page lists (no device needed). */
export class FakeGuestMemory implements GuestMemory {
  readonly bytes: Uint8Array;
  private readonly used: Uint8Array;
  constructor(readonly sizeBytes: number) {
    this.bytes = new Uint8Array(sizeBytes);
    this.used = new Uint8Array(sizeBytes / PAGE);
    this.used[0] = 1;
  }
  get freePageCount(): number {
    return this.used.reduce((n, u) => n + (u ? 0 : 1), 0);
  }
  allocPage(): number {
    return this.allocPages(1)[0];
  }
  allocPages(count: number, options?: { contiguous?: boolean }): number[] {
    if (options?.contiguous) {
      for (let start = 1; start + count <= this.used.length; start++) {
        let ok = true;
        for (let i = 0; i < count && ok; i++) ok = this.used[start + i] === 0;
        if (ok) {
          const pages: number[] = [];
          for (let i = 0; i < count; i++) {
            this.used[start + i] = 1;
            pages.push((start + i) * PAGE);
          }
          return pages;
        }
      }
      throw new Error('no contiguous run');
    }
    // Scattered: take free pages from the top down, so neighbours in virtual order are never adjacent upwards.
    const pages: number[] = [];
    for (let p = this.used.length - 1; p > 0 && pages.length < count; p--) {
      if (this.used[p] === 0) pages.push(p * PAGE);
    }
    if (pages.length < count) throw new Error('guest memory exhausted');
    for (const phys of pages) this.used[phys / PAGE] = 1;
    return pages;
  }
  freePages(pages: readonly number[]): void {
    for (const phys of pages) this.used[phys / PAGE] = 0;
  }
}

/** Bytes that differ from position to position and from page to page, seeded by `seed`. */
export function pattern(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (seed + i * 7 + Math.floor(i / PAGE) * 13) & 0xff;
  return out;
}

/** Fast byte-equality assertion (vitest's deep equality is slow on large arrays). */
export function expectSameBytes(actual: Uint8Array, expected: Uint8Array, what = 'bytes'): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  const same = Buffer.from(actual.buffer, actual.byteOffset, actual.length).equals(Buffer.from(expected.buffer, expected.byteOffset, expected.length));
  if (!same) {
    let i = 0;
    while (actual[i] === expected[i]) i++;
    expect.fail(`${what} differ first at offset ${i}: ${actual[i]} vs ${expected[i]}`);
  }
}
