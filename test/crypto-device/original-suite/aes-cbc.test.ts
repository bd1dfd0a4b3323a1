// Counterparts of the original CryptoDevice_AesCbc tests (15): argument checks, round trips, in place, bad
// output length, bad address and page alignments with guard pages, compared with node:crypto.

import { describe, expect, it } from 'vitest';
import { useOriginalFixture } from './fixture.js';
import type { NtStatusName } from '../../../kernel/ntstatus.js';
import { DEVICE_ERROR, aesOutputSize } from '../../../crypto-device/lib/contract.js';
import {
  PAGE,
  deviceStatus,
  expectNtStatus,
  expectSameBytes,
  pattern,
  refDecrypt,
  refEncrypt,
  type TestRig,
} from '../driver/harness.js';

type Direction = 'encrypt' | 'decrypt';

describe('CryptoDevice_AesCbc (original suite)', () => {
  let rig: TestRig;
  useOriginalFixture((r) => (rig = r));

  function run(direction: Direction, inAddress: bigint, inSize: number, outAddress: bigint, outSize: number): Promise<void> {
    return direction === 'encrypt'
      ? rig.ctrl.aesCbcEncryptAt(inAddress, inSize, outAddress, outSize)
      : rig.ctrl.aesCbcDecryptAt(inAddress, inSize, outAddress, outSize);
  }

  /**
   * The original's eight bad (pointer, size) combinations. Each must fail; the status says which layer refused:
   * a size-0 IN reaches the device as address 0 and is a DMA error there (sticky, so the test resets after it),
   * a null pointer with a size is refused by the driver before the device is touched.
   */
  async function badArgs(direction: Direction): Promise<void> {
    const dummy = rig.ctrl.allocUserBuffer(4);
    const d = dummy.address;
    const cases: Array<[bigint, number, bigint, number, NtStatusName, number]> = [
      [0n, 0, 0n, 0, 'STATUS_DEVICE_DATA_ERROR', DEVICE_ERROR.DMA],
      [d, 0, 0n, 0, 'STATUS_DEVICE_DATA_ERROR', DEVICE_ERROR.DMA],
      [0n, 0, d, 0, 'STATUS_DEVICE_DATA_ERROR', DEVICE_ERROR.DMA],
      [0n, 1, 0n, 0, 'STATUS_INVALID_USER_BUFFER', DEVICE_ERROR.NONE],
      [0n, 0, 0n, 1, 'STATUS_INVALID_USER_BUFFER', DEVICE_ERROR.NONE],
      [0n, 1, 0n, 1, 'STATUS_INVALID_USER_BUFFER', DEVICE_ERROR.NONE],
      [d, 1, 0n, 1, 'STATUS_INVALID_USER_BUFFER', DEVICE_ERROR.NONE],
      [0n, 1, d, 1, 'STATUS_INVALID_USER_BUFFER', DEVICE_ERROR.NONE],
    ];
    for (const [inAddr, inSize, outAddr, outSize, status, errorCode] of cases) {
      await expectNtStatus(run(direction, inAddr, inSize, outAddr, outSize), status);
      expect((await deviceStatus(rig.ctrl)).errorCode).toBe(errorCode);
      await rig.ctrl.reset();
    }
    expect(dummy.read()).toEqual(new Uint8Array(4));
    dummy.release();
  }

  /** Encrypt `plain` from one buffer to another, decrypt it back, check input untouched and results exact. */
  async function roundTrip(plain: Uint8Array): Promise<void> {
    const outSize = aesOutputSize(plain.length);
    const guarded = { guardPages: 1, guardByte: 0xa5 };
    const input = rig.ctrl.allocUserBuffer(plain.length, guarded);
    const encrypted = rig.ctrl.allocUserBuffer(outSize, guarded);
    const decrypted = rig.ctrl.allocUserBuffer(outSize, guarded);
    input.write(0, plain);
    await rig.ctrl.aesCbcEncryptAt(input.address, plain.length, encrypted.address, outSize);
    expectSameBytes(input.read(), plain, 'encrypt input');
    expectSameBytes(encrypted.read(), refEncrypt(plain), 'ciphertext');
    const ciphertext = encrypted.read();
    await rig.ctrl.aesCbcDecryptAt(encrypted.address, outSize, decrypted.address, outSize);
    expectSameBytes(encrypted.read(), ciphertext, 'decrypt input');
    expectSameBytes(decrypted.read(0, plain.length), plain, 'plaintext');
    expect(decrypted.read(plain.length).every((b) => b === 0)).toBe(true); // zero padding comes back as zeros
    for (const b of [input, encrypted, decrypted]) expect(b.guardsIntact()).toBe(true);
    for (const b of [input, encrypted, decrypted]) b.release();
  }

  /** The original's in-place variant: a roundup16 buffer holding the data, encrypted and decrypted in place. */
  async function roundTripInPlace(plain: Uint8Array): Promise<void> {
    const size = aesOutputSize(plain.length);
    const buf = rig.ctrl.allocUserBuffer(size, { guardPages: 1, guardByte: 0x3c });
    buf.write(0, plain);
    await rig.ctrl.aesCbcEncryptAt(buf.address, size, buf.address, size);
    const ciphertext = buf.read();
    expectSameBytes(ciphertext, refEncrypt(plain), 'in-place ciphertext');
    await rig.ctrl.aesCbcDecryptAt(buf.address, size, buf.address, size);
    expectSameBytes(buf.read(0, plain.length), plain, 'in-place plaintext');
    expectSameBytes(refDecrypt(ciphertext).subarray(0, plain.length), plain, 'reference decrypt');
    expect(buf.guardsIntact()).toBe(true);
    buf.release();
  }

  async function badOutLength(direction: Direction): Promise<void> {
    const input = rig.ctrl.allocUserBuffer(100);
    const out = rig.ctrl.allocUserBuffer(99, { guardPages: 1, guardByte: 0x5a });
    for (const outSize of [99, 0]) {
      await expectNtStatus(run(direction, input.address, 100, out.address, outSize), 'STATUS_DEVICE_DATA_ERROR');
      expect((await deviceStatus(rig.ctrl)).errorCode).toBe(DEVICE_ERROR.DMA);
      await rig.ctrl.reset();
    }
    expect(out.guardsIntact()).toBe(true);
    input.release();
    out.release();
  }

  async function badAddress(direction: Direction): Promise<void> {
    const input = rig.ctrl.allocUserBuffer(100);
    const out = rig.ctrl.allocUserBuffer(100);
    await expectNtStatus(run(direction, 1n, 100, out.address, 100), 'STATUS_ACCESS_VIOLATION');
    expect((await deviceStatus(rig.ctrl)).errorCode).toBe(DEVICE_ERROR.NONE);
    await expectNtStatus(run(direction, input.address, 100, 1n, 100), 'STATUS_ACCESS_VIOLATION');
    expect((await deviceStatus(rig.ctrl)).errorCode).toBe(DEVICE_ERROR.NONE);
    input.release();
    out.release();
  }

  /**
   * TestBufferAligments(size, sizeToEncrypt, inOffset, outOffset): IN and OUT each sit at their offset, with
   * guard pages on both sides; encrypt then decrypt, and no byte outside the data may change.
   */
  async function alignments(bufferSize: number, length: number, inOffset: number, outOffset: number, initVal: number): Promise<void> {
    expect(length + inOffset).toBeLessThanOrEqual(bufferSize);
    expect(length + outOffset).toBeLessThanOrEqual(bufferSize);
    const outSize = aesOutputSize(length);
    const guardByte = (initVal + 1) & 0xff;
    // IN is sized for the decrypt step (roundup16); during encrypt its tail beyond `length` is guard too.
    const input = rig.ctrl.allocUserBuffer(outSize, { offsetInPage: inOffset, guardPages: 1, guardByte });
    const output = rig.ctrl.allocUserBuffer(outSize, { offsetInPage: outOffset, guardPages: 1, guardByte });
    input.fill(guardByte);
    output.fill(guardByte);
    const plain = pattern(length, initVal);
    input.write(0, plain);

    await rig.ctrl.aesCbcEncryptAt(input.address, length, output.address, outSize);
    expect(input.guardsIntact()).toBe(true);
    expect(output.guardsIntact()).toBe(true);
    expectSameBytes(input.read(0, length), plain, 'encrypt input');
    expect(input.read(length).every((b) => b === guardByte)).toBe(true);
    const ciphertext = output.read();
    expectSameBytes(ciphertext, refEncrypt(plain), 'ciphertext');

    input.write(0, ciphertext);
    output.fill(guardByte);
    await rig.ctrl.aesCbcDecryptAt(input.address, outSize, output.address, outSize);
    expect(input.guardsIntact()).toBe(true);
    expect(output.guardsIntact()).toBe(true);
    expectSameBytes(output.read(0, length), plain, 'plaintext');
    expectSameBytes(input.read(), ciphertext, 'decrypt input');
    input.release();
    output.release();
  }

  const text = new TextEncoder().encode('1234567890qwertyuiopasdfghjklzxcvbnm');
  const bigA = new Uint8Array(100 * PAGE).fill(0x41);

  it('EncryptArgs: eight bad pointer/size combinations fail with the exact status', () => badArgs('encrypt'));
  it('DecryptArgs: eight bad pointer/size combinations fail with the exact status', () => badArgs('decrypt'));
  it('EncryptDecrypt: the 36-byte string through 48-byte buffers', async () => {
    expect(text.length).toBe(36);
    await roundTrip(text);
  });
  it('EncryptDecryptBigData: 409600 bytes of "A"', () => roundTrip(bigA));
  it('EncryptDecryptInPlace: the 36-byte string in one 48-byte buffer', () => roundTripInPlace(text));
  it('EncryptDecryptInPlaceBigData: 409600 bytes of "A" in place', () => roundTripInPlace(bigA));
  it('EncryptBadOutBufferLength: 100 in, 99 or 0 out is a DMA error', () => badOutLength('encrypt'));
  it('DecryptBadOutBufferLength: 100 in, 99 or 0 out is a DMA error', () => badOutLength('decrypt'));
  it('EncryptBadAddress: address 1 for IN or OUT fails and leaves ErrorCode 0', () => badAddress('encrypt'));
  it('DecryptBadAddress: address 1 for IN or OUT fails and leaves ErrorCode 0', () => badAddress('decrypt'));
  it('BufferOnePageAligned: (4096, 4096, 0, 0)', () => alignments(PAGE, PAGE, 0, 0, 11));
  it('BufferOnePageNotAligned: (8192, 4096, 100, 0) and (8192, 4096, 0, 100)', async () => {
    await alignments(2 * PAGE, PAGE, 100, 0, 22);
    await alignments(2 * PAGE, PAGE, 0, 100, 23);
  });
  it('BufferMiddleOfPage: (4096, 200, 100, 0) and (4096, 200, 0, 100)', async () => {
    await alignments(PAGE, 200, 100, 0, 33);
    await alignments(PAGE, 200, 0, 100, 34);
  });
  it('BufferTwoPageAligned: (8192, 8192, 0, 0)', () => alignments(2 * PAGE, 2 * PAGE, 0, 0, 44));
  it('BufferTwoPageNotAligned: (12288, 8192, 250, 0) and (12288, 8192, 0, 250)', async () => {
    await alignments(3 * PAGE, 2 * PAGE, 250, 0, 55);
    await alignments(3 * PAGE, 2 * PAGE, 0, 250, 55);
  });
});
