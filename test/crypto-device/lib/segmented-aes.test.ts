// Segmented AES of the Uint8Array API (crypto-device/lib/segmented-aes.ts): byte-identical to one request over the
// whole input for sizes around segment boundaries, one device request per segment, and a reset between two
// segments ending the call as a reset during one request does.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CryptoDeviceCtrl, DEFAULT_AES_SEGMENT_BYTES } from '../../../crypto-device/lib/crypto-device-ctrl.js';
import { IOCTL_CRYPTO_DEVICE_AES_CBC_DECRYPT, IOCTL_CRYPTO_DEVICE_AES_CBC_ENCRYPT } from '../../../crypto-device/driver/ioctl-codes.js';
import { createRig, expectNtStatus, expectSameBytes, hex, pattern, refDecrypt, refEncrypt, withTimeout, type TestRig } from '../driver/harness.js';

/** Ready interrupts so far: one per device request that completed. */
function readyCount(rig: TestRig): number {
  return rig.driver.interrupts.counters.handled;
}

describe('segmented AES-CBC (Uint8Array API)', () => {
  let rig: TestRig;
  beforeAll(async () => {
    rig = await createRig({ guestMemoryBytes: 64 * 1024 * 1024 });
  });
  afterAll(async () => {
    await rig?.dispose();
  });

  /** A second library object on the rig's handle, with small segments (never closed: the handle is the rig's). */
  function ctrlWithSegments(aesSegmentBytes: number): CryptoDeviceCtrl {
    return new CryptoDeviceCtrl(rig.handle, rig.ctrl.info, { aesSegmentBytes });
  }

  it('defaults to 8 MiB segments and refuses a segment size that is not a positive multiple of 16', () => {
    expect(DEFAULT_AES_SEGMENT_BYTES).toBe(8 * 1024 * 1024);
    expect(rig.ctrl.aesSegmentBytes).toBe(DEFAULT_AES_SEGMENT_BYTES);
    for (const bad of [0, -16, 8, 4100, 1.5 * 16]) expect(() => ctrlWithSegments(bad)).toThrow(RangeError);
  });

  for (const seg of [4096, 4096 + 48]) {
    it(`matches node:crypto (zero padding, fixed IV) around ${seg}-byte segment boundaries, both directions`, async () => {
      const ctrl = ctrlWithSegments(seg);
      for (const n of [1, 15, 16, seg - 1, seg, seg + 1, seg + 15, seg + 16, seg + 17, 2 * seg - 1, 2 * seg + 7, 3 * seg, 5 * seg + 33]) {
        const data = pattern(n, n & 0xff);
        const enc = await ctrl.aesCbcEncrypt(data);
        expect(enc.length).toBe(Math.ceil(n / 16) * 16);
        expectSameBytes(enc, refEncrypt(data), `encrypt ${n}`);
        // Decrypt arbitrary bytes (not only our own ciphertext), so every block's chaining is checked.
        expectSameBytes(await ctrl.aesCbcDecrypt(data), refDecrypt(data), `decrypt ${n}`);
        expectSameBytes((await ctrl.aesCbcDecrypt(enc)).subarray(0, n), data, `round trip ${n}`);
      }
    });
  }

  it('sends one device request per segment and leaves guest memory as it found it', async () => {
    const ctrl = ctrlWithSegments(4096);
    const free = rig.device.memory.freePageCount;
    const mapped = rig.space.mappedPageCount;
    const before = readyCount(rig);
    const data = pattern(3 * 4096 + 5, 3);
    expectSameBytes(await ctrl.aesCbcEncrypt(data), refEncrypt(data), 'encrypt');
    expect(readyCount(rig) - before).toBe(4);
    expectSameBytes(await rig.ctrl.aesCbcEncrypt(data), refEncrypt(data), 'one request');
    expect(readyCount(rig) - before).toBe(5);
    expect(rig.device.memory.freePageCount).toBe(free);
    expect(rig.space.mappedPageCount).toBe(mapped);
  });

  it('out of guest memory: STATUS_INSUFFICIENT_RESOURCES, and the buffer it did get is given back', async () => {
    const ctrl = ctrlWithSegments(4096);
    // Room for one segment buffer but not two.
    const filler = rig.space.allocBuffer((rig.device.memory.freePageCount - 1) * 4096, { zero: false });
    try {
      expect(rig.device.memory.freePageCount).toBe(1);
      await expectNtStatus(ctrl.aesCbcEncrypt(pattern(3 * 4096, 1)), 'STATUS_INSUFFICIENT_RESOURCES');
      expect(rig.device.memory.freePageCount).toBe(1);
    } finally {
      filler.release();
    }
  });

  for (const [name, code] of [
    ['encrypt', IOCTL_CRYPTO_DEVICE_AES_CBC_ENCRYPT],
    ['decrypt', IOCTL_CRYPTO_DEVICE_AES_CBC_DECRYPT],
  ] as const) {
    it(`${name}: a reset between two segments ends the call STATUS_CANCELLED and frees its guest buffers`, async () => {
      const ctrl = ctrlWithSegments(4096);
      const free = rig.device.memory.freePageCount;
      const mapped = rig.space.mappedPageCount;
      // Reset right after the second segment's request completes, before the library starts the third.
      const logic = rig.driver.logic;
      const original = logic.commandRequest.bind(logic);
      let completed = 0;
      let reset: Promise<void> | undefined;
      logic.commandRequest = async (...args) => {
        const status = await original(...args);
        if (++completed === 2) reset = ctrl.reset();
        return status;
      };
      try {
        const data = pattern(5 * 4096, 7);
        const call = code === IOCTL_CRYPTO_DEVICE_AES_CBC_ENCRYPT ? ctrl.aesCbcEncrypt(data) : ctrl.aesCbcDecrypt(data);
        await expectNtStatus(withTimeout(call, 5_000, 'segmented call'), 'STATUS_CANCELLED');
        await withTimeout(reset!, 5_000, 'reset');
        expect(completed).toBe(2); // the third segment never reached the driver
      } finally {
        logic.commandRequest = original;
      }
      expect(rig.device.memory.freePageCount).toBe(free);
      expect(rig.space.mappedPageCount).toBe(mapped);
      // The device is fine afterwards, and the next call runs whole.
      expect((await ctrl.getStatus()).errorCode).toBe(0);
      const again = pattern(2 * 4096 + 1, 9);
      expectSameBytes(await ctrl.aesCbcEncrypt(again), refEncrypt(again), 'after the reset');
      expect(hex(await ctrl.aesCbcEncrypt(new Uint8Array(16)))).toBe('32d6e396f76ea81ee5f9bb9643c259db');
    });
  }

  it('a reset while a segment runs ends the call STATUS_CANCELLED too, and queued calls then succeed', async () => {
    const ctrl = ctrlWithSegments(64 * 1024);
    const data = pattern(24 * 1024 * 1024, 1);
    // Both outcomes get their handlers now: the call may end (between two segments) before the reset resolves.
    const cancelled = expectNtStatus(withTimeout(ctrl.aesCbcEncrypt(data), 5_000, 'cancelled call'), 'STATUS_CANCELLED');
    const queued = withTimeout(ctrl.aesCbcEncrypt(new Uint8Array(16)), 5_000, 'queued call');
    queued.catch(() => undefined); // awaited below
    // The first segment is in flight once the driver is busy.
    await withTimeout(
      (async () => {
        while (!rig.driver.logic.busy) await new Promise((r) => setImmediate(r));
      })(),
      5_000,
      'first segment in flight',
    );
    await withTimeout(ctrl.reset(), 5_000, 'reset');
    await cancelled;
    expect(hex(await queued)).toBe('32d6e396f76ea81ee5f9bb9643c259db');
  });
});
