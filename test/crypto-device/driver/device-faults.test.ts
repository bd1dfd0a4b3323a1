// Device faults on demand (crypto-device/device/fault-injector.ts): what each one does to the registers, the exact
// NTSTATUS the driver answers through the control library, and the reset that brings the device back.

import { afterEach, describe, expect, it } from 'vitest';
import type { PciCryptoDeviceModel } from '../../../crypto-device/device/index.js';
import { COMMAND, IRQ, REG } from '../../../crypto-device/device/index.js';
import { DeviceFaultInjector, DeviceFaultSpecError, MAX_ARMED_DEVICE_FAULTS, type ArmedDeviceFault } from '../../../crypto-device/device/fault-injector.js';
import { RegisterFile } from '../../../crypto-device/device/registers.js';
import { SHA256_123, createRig, deviceStatus, expectNtStatus, hex, refEncrypt, waitUntil, type RigOptions, type TestRig } from './harness.js';

const ABC = new TextEncoder().encode('123');

describe('crypto device faults', () => {
  let rig: TestRig | undefined;
  afterEach(async () => {
    await rig?.dispose();
    rig = undefined;
  });

  async function open(options: RigOptions = {}): Promise<{ rig: TestRig; model: PciCryptoDeviceModel; fired: ArmedDeviceFault[] }> {
    rig = await createRig(options);
    const model = rig.device as PciCryptoDeviceModel;
    const fired: ArmedDeviceFault[] = [];
    model.faults.onFired = (f) => fired.push(f);
    return { rig, model, fired };
  }

  async function healthy(r: TestRig): Promise<void> {
    expect(hex(await r.ctrl.sha256(ABC))).toBe(SHA256_123);
    expect(await deviceStatus(r.ctrl)).toEqual({ state: 0, errorCode: 0 });
  }

  it('dma-error: the request fails STATUS_DEVICE_DATA_ERROR with ErrorCode 1, sticky until a reset', async () => {
    const { rig: r, model, fired } = await open();
    await healthy(r);
    model.armFault({ kind: 'dma-error' });
    await expectNtStatus(r.ctrl.sha256(ABC), 'STATUS_DEVICE_DATA_ERROR');
    expect(await r.ctrl.getStatus()).toMatchObject({ state: 0, errorCode: 1, errorName: 'DMA error' });
    expect(fired.map((f) => [f.kind, f.fired])).toEqual([['dma-error', 1]]);
    expect(model.faults.list()).toEqual([]); // one-shot: gone after firing
    // The contract's sticky ErrorCode: the driver refuses the next request without touching the device.
    await expectNtStatus(r.ctrl.aesCbcEncrypt(ABC), 'STATUS_DEVICE_DATA_ERROR');
    await r.ctrl.reset();
    await healthy(r);
  });

  it('latched-error now: ErrorCode 4 latched without a request; every request fails until a reset', async () => {
    const { rig: r, model } = await open();
    const armed = model.armFault({ kind: 'latched-error' }, true);
    expect(armed.fired).toBe(1);
    await waitUntil(async () => (await deviceStatus(r.ctrl)).errorCode === 4, 2000, 'latched ErrorCode');
    expect(r.driver.interrupts.errorEvent.isSet).toBe(true); // the error interrupt reached the driver's DPC
    for (let i = 0; i < 3; i++) await expectNtStatus(r.ctrl.sha256(ABC), 'STATUS_DEVICE_DATA_ERROR');
    await expectNtStatus(r.ctrl.aesCbcDecrypt(new Uint8Array(16)), 'STATUS_DEVICE_DATA_ERROR');
    await r.ctrl.reset();
    await healthy(r);
  });

  it('latched-error with a code on the 2nd encrypt; until cleared it comes back after each reset', async () => {
    const { rig: r, model } = await open();
    const f = model.armFault({ kind: 'latched-error', code: 2, once: false, trigger: { command: 'encrypt', nth: 2 } });
    expect(hex(await r.ctrl.aesCbcEncrypt(ABC))).toBe(refEncrypt(ABC).toString('hex'));
    await healthy(r); // a sha256 is not an encrypt: not counted
    await expectNtStatus(r.ctrl.aesCbcEncrypt(ABC), 'STATUS_DEVICE_DATA_ERROR');
    expect(await r.ctrl.getStatus()).toMatchObject({ errorCode: 2, errorName: 'reset error' });
    await r.ctrl.reset();
    await expectNtStatus(r.ctrl.aesCbcEncrypt(ABC), 'STATUS_DEVICE_DATA_ERROR');
    expect(model.faults.list()).toEqual([expect.objectContaining({ id: f.id, seen: 3, fired: 2 })]);
    expect(model.clearFaults(f.id)).toBe(1);
    await r.ctrl.reset();
    expect(hex(await r.ctrl.aesCbcEncrypt(ABC))).toBe(refEncrypt(ABC).toString('hex'));
  });

  it('never-ready on a reset: the driver waits its reset timeout and answers STATUS_DEVICE_BUSY; the device stays in State 1', async () => {
    const { rig: r, model } = await open({ resetTimeoutMs: 150 }); // production: 1000 ms (driver-rules.test.ts checks the default)
    model.armFault({ kind: 'never-ready', trigger: { command: 'reset' }, holdMs: 120_000 });
    await healthy(r); // a data command does not trigger it
    await expectNtStatus(r.ctrl.reset(), 'STATUS_DEVICE_BUSY');
    expect(await r.ctrl.getStatus()).toMatchObject({ state: 1, stateName: 'ResetState', errorCode: 0 });
    await expectNtStatus(r.ctrl.sha256(ABC), 'STATUS_DEVICE_BUSY'); // State not ready
    await expectNtStatus(r.ctrl.reset(), 'STATUS_DEVICE_BUSY'); // the driver will not write a reset over one in progress
    // Clearing the faults ends the hang: the reset written long ago completes now.
    expect(model.clearFaults()).toBe(0);
    await waitUntil(async () => (await deviceStatus(r.ctrl)).state === 0, 2000, 'reset completes');
    await healthy(r);
  });

  it('never-ready on a data command: the driver gives up with STATUS_IO_TIMEOUT; after the hold the device works', async () => {
    // The hold outlasts the command timeout and the driver's own reset timeout after it (300 ms) by far.
    const { rig: r, model } = await open({ commandTimeoutMs: 150, resetTimeoutMs: 150 });
    model.armFault({ kind: 'never-ready', holdMs: 1200 });
    await expectNtStatus(r.ctrl.sha256(ABC), 'STATUS_IO_TIMEOUT');
    // The driver's own reset after the timeout was not answered either.
    expect(await r.ctrl.getStatus()).toMatchObject({ state: 1, errorCode: 0 });
    await waitUntil(async () => (await deviceStatus(r.ctrl)).state === 0, 5000, 'hold ends');
    await healthy(r);
  });

  it('lost-interrupt: the device completes, the interrupt never arrives, the driver times out and resets', async () => {
    const { rig: r, model } = await open({ commandTimeoutMs: 150 });
    const before = r.driver.interrupts.counters.handled;
    model.armFault({ kind: 'lost-interrupt' });
    await expectNtStatus(r.ctrl.sha256(ABC), 'STATUS_IO_TIMEOUT');
    // The ready flag was set (the device finished); only the message was lost. The driver's reset did get through.
    expect(Number(model.mmioRead(REG.MSI_READY_FLAG.offset, 1))).toBe(1);
    expect(r.driver.interrupts.counters.handled - before).toBe(1); // the reset interrupt alone
    await healthy(r);
  });

  it('lost-interrupt on a line-based (INTx) device: the same timeout', async () => {
    const { rig: r, model } = await open({ commandTimeoutMs: 150, interruptMode: 'intx' });
    model.armFault({ kind: 'lost-interrupt', trigger: { command: 'decrypt' } });
    await healthy(r);
    await expectNtStatus(r.ctrl.aesCbcDecrypt(new Uint8Array(32)), 'STATUS_IO_TIMEOUT');
    await healthy(r);
  });

  it('a seeded probability hits the same commands every time', async () => {
    const pattern = async (): Promise<boolean[]> => {
      const { rig: r, model } = await open();
      model.armFault({ kind: 'dma-error', once: false, trigger: { probability: 0.5, seed: 42 } });
      const hits: boolean[] = [];
      for (let i = 0; i < 12; i++) {
        const failed = await r.ctrl.sha256(ABC).then(() => false, () => true);
        hits.push(failed);
        if (failed) await r.ctrl.reset();
      }
      await r.dispose();
      rig = undefined;
      return hits;
    };
    const first = await pattern();
    expect(first).toContain(true);
    expect(first).toContain(false);
    expect(await pattern()).toEqual(first);
  });

  it('afterMs: not before the delay (the injector alone, on a clock the test moves)', () => {
    let now = 1000;
    const regs = new RegisterFile();
    regs.locked(() => regs.set('INTERRUPT_FLAG', 0xff));
    const injector = new DeviceFaultInjector(() => undefined, () => now);
    injector.arm({ kind: 'dma-error', trigger: { afterMs: 500 } });
    expect(regs.locked(() => injector.onCommand(regs, COMMAND.SHA256))).toEqual({ run: true, irqs: [] });
    now += 499;
    expect(regs.locked(() => injector.onCommand(regs, COMMAND.AES_CBC_ENCRYPT)).run).toBe(true);
    now += 1;
    expect(regs.locked(() => injector.onCommand(regs, COMMAND.SHA256))).toEqual({ run: false, irqs: [IRQ.ERROR] });
    expect(regs.locked(() => [regs.get('ERROR_CODE'), regs.get('MSI_ERROR_FLAG'), regs.get('STATE'), regs.get('COMMAND')])).toEqual([1, 1, 0, 0]);
    expect(injector.idle).toBe(true); // one-shot: nothing armed any more
  });

  it('bounded and validated', async () => {
    const { model } = await open();
    for (let i = 0; i < MAX_ARMED_DEVICE_FAULTS; i++) model.armFault({ kind: 'dma-error', trigger: { nth: 1000 } });
    expect(() => model.armFault({ kind: 'dma-error' })).toThrow(/at most 32/);
    expect(model.clearFaults()).toBe(MAX_ARMED_DEVICE_FAULTS);
    const bad: [object, RegExp][] = [
      [{ kind: 'fire' }, /unknown device fault kind/],
      [{ kind: 'dma-error', trigger: { command: 'reset' } }, /not on a reset/],
      [{ kind: 'dma-error', trigger: { nth: 0 } }, /nth/],
      [{ kind: 'never-ready', holdMs: 120_001 }, /holdMs/],
      [{ kind: 'dma-error', code: 4 }, /"code" is for latched-error/],
      [{ kind: 'latched-error', code: 5 }, /ErrorCode 1..4/],
      [{ kind: 'lost-interrupt', trigger: { probability: 0 } }, /probability/],
    ];
    for (const [spec, message] of bad) expect(() => model.armFault(spec as never)).toThrow(message);
    expect(() => model.armFault({ kind: 'dma-error' }, true)).toThrow(DeviceFaultSpecError);
    expect(model.faults.list()).toEqual([]);
  });
});
