// Reset while a 256 MiB request runs: the request ends STATUS_CANCELLED, the reset interrupt arrives, and the
// OUT buffer and guard pages prove the device wrote nothing after it (docs/crypto-device.md "Reset").

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRig, expectNtStatus, expectSameBytes, refEncrypt, waitUntil, withTimeout, type TestRig } from './harness.js';

const MiB = 1024 * 1024;
const SIZE = 256 * MiB;
const UNTOUCHED = 0xc3;

describe('reset during a 256 MiB request', () => {
  let rig: TestRig;
  beforeAll(async () => {
    // 1 GiB of guest RAM is virtual: the SharedArrayBuffer commits pages only as they are touched.
    rig = await createRig({ guestMemoryBytes: 1024 * MiB, interruptMode: 'msi-multi' });
  });
  afterAll(async () => {
    await rig?.dispose();
  });

  it('cancels the request, and nothing is written after the reset interrupt', async () => {
    expect(rig.ctrl.maxRequestBytes).toBe(SIZE);
    const input = rig.ctrl.allocUserBuffer(SIZE);
    input.fill(0x41);
    const output = rig.ctrl.allocUserBuffer(SIZE, { guardPages: 1, guardByte: UNTOUCHED });
    output.fill(UNTOUCHED);

    const running = rig.ctrl.aesCbcEncryptBuffer(input, output);
    // Wait until the device has really started writing ciphertext, then reset.
    await waitUntil(() => output.read(0, 16).some((b) => b !== UNTOUCHED), 10_000, 'first ciphertext block');
    const resetCountBefore = rig.driver.interrupts.counters.handled;
    await withTimeout(rig.ctrl.reset(), 5_000, 'reset');
    const snapshot = output.read(); // right after the reset event
    expect(rig.driver.interrupts.resetEvent.isSet).toBe(true);
    expect(rig.driver.interrupts.counters.handled).toBeGreaterThan(resetCountBefore);

    await expectNtStatus(withTimeout(running, 5_000, 'cancelled request'), 'STATUS_CANCELLED');
    expect(rig.driver.interrupts.readyEvent.isSet).toBe(false); // a cut-short command raises no ready

    // Give a misbehaving device every chance to keep writing, then compare.
    await new Promise((r) => setTimeout(r, 300));
    expectSameBytes(output.read(), snapshot, 'OUT after the reset');
    expect(output.guardsIntact()).toBe(true);

    // The written part is an exact CBC prefix of the whole request; the rest was never touched.
    const written = Math.ceil(Buffer.from(snapshot.buffer, snapshot.byteOffset, snapshot.length).indexOf(Buffer.alloc(16, UNTOUCHED)) / 16) * 16;
    expect(written).toBeGreaterThan(0);
    expect(written).toBeLessThan(SIZE);
    expectSameBytes(snapshot.subarray(0, written), refEncrypt(input.read(0, written)), 'ciphertext prefix');
    const rest = snapshot.subarray(written);
    const untouchedChunk = new Uint8Array(MiB).fill(UNTOUCHED);
    for (let pos = 0; pos < rest.length; pos += MiB) {
      const part = rest.subarray(pos, Math.min(rest.length, pos + MiB));
      expect(Buffer.from(part.buffer, part.byteOffset, part.length).equals(untouchedChunk.subarray(0, part.length))).toBe(true);
    }
    expect(input.read(0, 4096).every((b) => b === 0x41)).toBe(true);

    // And the device works normally again.
    expect((await rig.ctrl.getStatus()).stateName).toBe('ReadyState');
    input.release();
    output.release();
  });
});
