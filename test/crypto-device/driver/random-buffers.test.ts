// Property test: random buffer sizes and in-page offsets (IN and OUT independently, scattered pages) through
// the full driver path always match node:crypto, and guard bytes around both buffers never change.

import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aesOutputSize } from '../../../crypto-device/lib/contract.js';
import { createRig, expectSameBytes, hex, pattern, refDecrypt, refEncrypt, refSha256, type TestRig } from './harness.js';

describe('random buffers through the driver', () => {
  let rig: TestRig;
  beforeAll(async () => {
    rig = await createRig({ guestMemoryBytes: 64 * 1024 * 1024 });
  });
  afterAll(async () => {
    await rig?.dispose();
  });

  it('SHA-256 and AES-CBC match node:crypto for any size and offsets', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 40_000 }),
        fc.integer({ min: 0, max: 4095 }),
        fc.integer({ min: 0, max: 4095 }),
        fc.integer({ min: 0, max: 255 }),
        fc.boolean(),
        async (length, inOffset, outOffset, seed, decrypt) => {
          const data = pattern(length, seed);
          const outSize = aesOutputSize(length);
          const input = rig.ctrl.allocUserBuffer(length, { offsetInPage: inOffset, guardPages: 1, guardByte: 0xa5 });
          const output = rig.ctrl.allocUserBuffer(outSize, { offsetInPage: outOffset, guardPages: 1, guardByte: 0x5a });
          try {
            input.write(0, data);
            expect(hex(await rig.ctrl.sha256At(input.address, length))).toBe(refSha256(data));
            if (decrypt) await rig.ctrl.aesCbcDecryptAt(input.address, length, output.address, outSize);
            else await rig.ctrl.aesCbcEncryptAt(input.address, length, output.address, outSize);
            expectSameBytes(output.read(), decrypt ? refDecrypt(data) : refEncrypt(data), 'AES output');
            expectSameBytes(input.read(), data, 'input untouched');
            expect(input.guardsIntact()).toBe(true);
            expect(output.guardsIntact()).toBe(true);
          } finally {
            input.release();
            output.release();
          }
        },
      ),
      { numRuns: 60, seed: 20261120 },
    );
    expect(rig.space.mappedPageCount).toBe(0);
  });
});
