// Counterparts of the original CryptoDevice_Sha256 tests (11), through the control library's pointer and
// Uint8Array forms, compared with node:crypto (docs/crypto-device.md "The original test suite").

import { describe, expect, it } from 'vitest';
import { useOriginalFixture } from './fixture.js';
import { DEVICE_ERROR } from '../../../crypto-device/lib/contract.js';
import { PAGE, SHA256_123, SHA256_EMPTY, deviceStatus, expectNtStatus, expectSameBytes, hex, pattern, refSha256, type TestRig } from '../driver/harness.js';

describe('CryptoDevice_Sha256 (original suite)', () => {
  let rig: TestRig;
  useOriginalFixture((r) => (rig = r));

  /** TestHash(sizeOfBuffer, offset, length, initVal): hash part of a filled buffer, compare with an independent hash. */
  async function testHash(bufferSize: number, offset: number, length: number, initVal: number): Promise<void> {
    // Guard pages on both sides (docs/crypto-device.md "The original test suite": guard bytes must stay untouched).
    const guardByte = (initVal + 0x80) & 0xff;
    const buf = rig.ctrl.allocUserBuffer(bufferSize, { contiguous: false, guardPages: 1, guardByte });
    try {
      // The original fills with initVal only; a per-byte pattern that also changes per page additionally catches
      // pages walked in the wrong order, which a constant fill cannot.
      const content = pattern(bufferSize, initVal);
      buf.write(0, content);
      const digest = await rig.ctrl.sha256At(buf.address + BigInt(offset), length);
      expect(hex(digest)).toBe(refSha256(content.subarray(offset, offset + length)));
      expectSameBytes(buf.read(), content, "data after hashing");
      expect(buf.guardsIntact()).toBe(true);
    } finally {
      buf.release();
    }
  }

  it('FuncInterfaces: the pointer form and the Uint8Array/UserBuffer forms give the same digest', async () => {
    const data = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 0);
    const buf = rig.ctrl.allocUserBuffer(data.length);
    buf.write(0, data);
    const viaPointer = await rig.ctrl.sha256At(buf.address, buf.length);
    const viaBytes = await rig.ctrl.sha256(data);
    const viaBuffer = await rig.ctrl.sha256(buf);
    buf.release();
    expect(viaBytes).toEqual(viaPointer);
    expect(viaBuffer).toEqual(viaPointer);
    expect(hex(viaPointer)).toBe(refSha256(data));
  });

  it('NullBuffer: null with size 0 hashes nothing, null with size 1 is STATUS_INVALID_USER_BUFFER', async () => {
    expect(hex(await rig.ctrl.sha256At(0n, 0))).toBe(SHA256_EMPTY);
    await expectNtStatus(rig.ctrl.sha256At(0n, 1), 'STATUS_INVALID_USER_BUFFER');
    expect((await deviceStatus(rig.ctrl)).errorCode).toBe(DEVICE_ERROR.NONE);
  });

  it('ZeroLength: a real buffer with length 0 gives the hash of nothing', async () => {
    const buf = rig.ctrl.allocUserBuffer(1);
    buf.write(0, Uint8Array.of(1));
    expect(hex(await rig.ctrl.sha256At(buf.address, 0))).toBe(SHA256_EMPTY);
    expect(hex(await rig.ctrl.sha256(new Uint8Array(0)))).toBe(SHA256_EMPTY);
    buf.release();
  });

  it('HashSize: the digest is 32 bytes in every form', async () => {
    expect(await rig.ctrl.sha256(Uint8Array.of(0))).toHaveLength(32);
    const buf = rig.ctrl.allocUserBuffer(1);
    expect(await rig.ctrl.sha256At(buf.address, 1)).toHaveLength(32);
    buf.release();
  });

  it('Basic: SHA-256("123") is the known answer', async () => {
    expect(hex(await rig.ctrl.sha256(new TextEncoder().encode('123')))).toBe(SHA256_123);
  });

  it('OnePageAligned: (4096, 0, 4096)', () => testHash(PAGE, 0, PAGE, 11));
  it('OnePageNonAligned: (8192, 100, 4096)', () => testHash(2 * PAGE, 100, PAGE, 22));
  it('MiddleOfPage: (4096, 200, 10)', () => testHash(PAGE, 200, 10, 33));
  it('TwoPagesAligned: (8192, 0, 8192)', () => testHash(2 * PAGE, 0, 2 * PAGE, 44));
  it('TwoPagesNonAligned: (12288, 300, 8192)', () => testHash(3 * PAGE, 300, 2 * PAGE, 55));
  it('BigData: (100 pages, 300, 99 pages)', () => testHash(100 * PAGE, 300, 99 * PAGE, 66));
});
