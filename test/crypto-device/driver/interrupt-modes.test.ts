// Interrupt modes × {ready, error, reset} through the driver's ISR/DPC, power transitions, and the shared-line
// "not handled" answer (docs/crypto-device.md "Interrupt delivery").

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InterruptMode } from '../../../crypto-device/device/contract.js';
import { DEVICE_ERROR } from '../../../crypto-device/lib/contract.js';
import { SHA256_123, createRig, deviceStatus, expectNtStatus, hex, withTimeout, type TestRig } from './harness.js';

const FLAGS = [0x1c, 0x1d, 0x1e];

// One device per mode; the cases run in order on it (error leaves ErrorCode 1, which reset then clears).
describe.each<InterruptMode>(['intx', 'msi', 'msi-multi'])('interrupt mode %s', (mode) => {
  let rig: TestRig;
  beforeAll(async () => {
    rig = await createRig({ interruptMode: mode });
  });
  afterAll(async () => {
    await rig?.dispose();
  });

  it('is granted at prepare-hardware and D0 entry enables every interrupt', async () => {
    expect(rig.device.interruptMode).toBe(mode);
    expect(rig.driver.interruptMode).toBe(mode);
    expect(rig.device.mmioRead(0x03, 1)).toBe(0xff);
    expect(rig.driver.powerState).toBe('D0');
  });

  it('ready: a request completes through ISR → DPC → ready event', async () => {
    const before = { ...rig.driver.interrupts.counters };
    const digest = await withTimeout(rig.ctrl.sha256(new TextEncoder().encode('123')), 10_000, 'sha256');
    expect(hex(digest)).toBe(SHA256_123);
    expect(rig.driver.interrupts.readyEvent.isSet).toBe(true);
    expect(rig.driver.interrupts.counters.handled).toBeGreaterThan(before.handled);
    expect(rig.driver.interrupts.counters.dpcs).toBeGreaterThan(before.dpcs);
    for (const flag of FLAGS) expect(rig.device.mmioRead(flag, 1)).toBe(0);
    expect(rig.device.intxAsserted).toBe(false);
  });

  it('error: a DMA error ends the request with STATUS_DEVICE_DATA_ERROR through the error event', async () => {
    const input = rig.ctrl.allocUserBuffer(100);
    const output = rig.ctrl.allocUserBuffer(99);
    await expectNtStatus(withTimeout(rig.ctrl.aesCbcEncryptAt(input.address, 100, output.address, 99), 10_000, 'aes'), 'STATUS_DEVICE_DATA_ERROR');
    expect(rig.driver.interrupts.errorEvent.isSet).toBe(true);
    expect(rig.driver.interrupts.readyEvent.isSet).toBe(false);
    expect((await deviceStatus(rig.ctrl)).errorCode).toBe(DEVICE_ERROR.DMA);
    for (const flag of FLAGS) expect(rig.device.mmioRead(flag, 1)).toBe(0);
    expect(rig.device.intxAsserted).toBe(false);
  });

  it('reset: the reset request returns once the reset interrupt arrived and clears the error', async () => {
    const input = rig.ctrl.allocUserBuffer(16);
    await expectNtStatus(rig.ctrl.aesCbcEncryptAt(input.address, 16, input.address, 0), 'STATUS_DEVICE_DATA_ERROR');
    rig.driver.interrupts.resetEvent.clear();
    await withTimeout(rig.ctrl.reset(), 5_000, 'reset');
    expect(rig.driver.interrupts.resetEvent.isSet).toBe(true);
    expect(rig.driver.logic.cancelEvent.isSet).toBe(true);
    expect(await deviceStatus(rig.ctrl)).toEqual({ state: 0, errorCode: 0 });
    expect(rig.device.intxAsserted).toBe(false);
  });

  it('D0 exit disables every interrupt', async () => {
    await rig.driver.stop(); // last case: the rig is disposed afterwards
    expect(rig.device.mmioRead(0x03, 1)).toBe(0x00);
    expect(rig.driver.powerState).toBe('D3');
  });
});

describe('shared line: the ISR answers "not handled" when no flag is set', () => {
  it.each<InterruptMode>(['intx', 'msi'])('%s: message 0 with all three flags clear is not ours', async (mode) => {
    const rig = await createRig({ interruptMode: mode });
    try {
      const { counters } = rig.driver.interrupts;
      expect(rig.driver.interrupts.isr(0)).toBe(false);
      expect(counters.notHandled).toBe(1);
      expect(rig.driver.interrupts.readyEvent.isSet).toBe(false);
      // Once a flag is really set (a completed request), message 0 is ours again.
      await rig.ctrl.sha256(Uint8Array.of(1));
      expect(counters.handled).toBeGreaterThan(0);
      expect(rig.driver.interrupts.isr(0)).toBe(false);
      expect(counters.notHandled).toBe(2);
    } finally {
      await rig.dispose();
    }
  });

  it('msi-multi: an unknown vector is not ours', async () => {
    const rig = await createRig({ interruptMode: 'msi-multi' });
    try {
      expect(rig.driver.interrupts.isr(7)).toBe(false);
      expect(rig.driver.interrupts.isr(0)).toBe(false);
    } finally {
      await rig.dispose();
    }
  });
});
