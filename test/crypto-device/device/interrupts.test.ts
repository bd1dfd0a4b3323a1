// Interrupt delivery (docs/crypto-device.md "Interrupt delivery"): the three modes x {ready, error, reset}, masking,
// the INTx level and shared-line semantics, the storm guard, and the fixed INTx lowering defect.

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { InterruptMode, PciCryptoDeviceModel } from '../../../crypto-device/device/index.js';
import { COMMAND, IRQ_BIT, IRQ_NUM } from '../../../crypto-device/device/registers.js';
import { IrqRecorder, makeDevice, placeBuffer, program, rd, settle, waitIdle, wr } from './harness.js';

/** Bounded poll for a condition the host thread will see after worker messages arrive. */
async function until(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

function startSha(dev: PciCryptoDeviceModel, ok: boolean): void {
  const input = placeBuffer(dev, 100, { data: new Uint8Array(100).fill(1) });
  const out = placeBuffer(dev, 32);
  program(dev, { listPfn: input.listPfn, length: 100 }, { listPfn: out.listPfn, length: ok ? 32 : 31 });
  wr(dev, 'COMMAND', COMMAND.SHA256);
}

const EVENTS = {
  ready: { irq: IRQ_NUM.READY, bit: IRQ_BIT.READY, flag: 'MSI_READY_FLAG', fire: (d: PciCryptoDeviceModel) => startSha(d, true) },
  error: { irq: IRQ_NUM.ERROR, bit: IRQ_BIT.ERROR, flag: 'MSI_ERROR_FLAG', fire: (d: PciCryptoDeviceModel) => startSha(d, false) }, // OUT size 31: DMA error
  reset: { irq: IRQ_NUM.RESET, bit: IRQ_BIT.RESET, flag: 'MSI_RESET_FLAG', fire: (d: PciCryptoDeviceModel) => wr(d, 'COMMAND', COMMAND.RESET) },
} as const;

describe('interrupt delivery', () => {
  let dev: PciCryptoDeviceModel;
  let disconnects: (() => void)[] = [];

  beforeAll(async () => {
    dev = await makeDevice({ guestMemoryBytes: 16 * 1024 * 1024, intxUnhandledLimit: 25 });
  });
  afterAll(() => dev.destroy());
  afterEach(async () => {
    for (const d of disconnects) d();
    disconnects = [];
    await waitIdle(dev);
    dev.busReset();
  });

  const recorder = (target = dev) => {
    const rec = new IrqRecorder(target);
    disconnects.push(rec.disconnect);
    return rec;
  };

  for (const mode of ['intx', 'msi', 'msi-multi'] as InterruptMode[]) {
    for (const [name, ev] of Object.entries(EVENTS)) {
      it(`${mode}: ${name} arrives as ${mode === 'msi-multi' ? `vector ${ev.irq}` : 'vector 0 with its flag set'}`, async () => {
        dev.setInterruptMode(mode);
        wr(dev, 'INTERRUPT_FLAG', 0xff);
        const rec = recorder();
        ev.fire(dev);
        await rec.waitFor(1);
        await waitIdle(dev);
        await settle();
        expect(rec.events).toHaveLength(1);
        if (mode === 'msi-multi') {
          expect(rec.events[0].vector).toBe(ev.irq);
          expect(rd(dev, ev.flag)).toBe(1); // multi-MSI: the driver need not read or clear flags
        } else {
          expect(rec.events[0]).toEqual({ vector: 0, flags: ev.bit });
        }
        expect(dev.intxAsserted).toBe(false); // INTx: the ISR cleared the flags, so the line dropped
      });
    }
  }

  for (const [name, ev] of Object.entries(EVENTS)) {
    it(`a masked ${name} interrupt still sets its flag but is not delivered`, async () => {
      dev.setInterruptMode('msi-multi');
      wr(dev, 'INTERRUPT_FLAG', 0xff & ~ev.bit);
      const rec = recorder();
      ev.fire(dev);
      await until(() => rd(dev, ev.flag) === 1, 'flag');
      await waitIdle(dev);
      await settle();
      expect(rec.events).toEqual([]);
      // Unmasked, the other events still arrive.
      wr(dev, 'STATE', 0); // error 3
      if (ev.irq !== IRQ_NUM.ERROR) {
        await rec.waitFor(1);
        expect(rec.events[0].vector).toBe(IRQ_NUM.ERROR);
      }
    });
  }

  it('InterruptFlag 0 (the bus-reset value) masks everything', async () => {
    dev.setInterruptMode('intx');
    const rec = recorder();
    wr(dev, 'COMMAND', COMMAND.RESET);
    await until(() => rd(dev, 'MSI_RESET_FLAG') === 1, 'reset flag');
    await settle();
    expect(rec.events).toEqual([]);
    expect(dev.intxAsserted).toBe(false);
  });

  it('INTx: the line stays up until all three flags are 0, MsiResetFlag included (fixed defect 2)', async () => {
    dev.setInterruptMode('intx');
    wr(dev, 'INTERRUPT_FLAG', 0xff);
    wr(dev, 'STATE', 0); // error 3: MsiErrorFlag
    wr(dev, 'COMMAND', COMMAND.RESET); // MsiResetFlag
    await until(() => rd(dev, 'MSI_RESET_FLAG') === 1 && dev.intxAsserted, 'line up with both flags');
    wr(dev, 'MSI_ERROR_FLAG', 0);
    wr(dev, 'MSI_READY_FLAG', 0);
    expect(dev.intxAsserted).toBe(true); // the original lowered it here, losing the reset interrupt
    wr(dev, 'MSI_RESET_FLAG', 0);
    expect(dev.intxAsserted).toBe(false);
  });

  it('INTx is level-triggered: the ISR is called again while the line stays up', async () => {
    dev.setInterruptMode('intx');
    wr(dev, 'INTERRUPT_FLAG', 0xff);
    let calls = 0;
    disconnects.push(
      dev.connectInterrupt((id) => {
        expect(id).toBe(0);
        calls++;
        if (calls === 3) for (const f of ['MSI_ERROR_FLAG', 'MSI_READY_FLAG', 'MSI_RESET_FLAG'] as const) wr(dev, f, 0);
        return true; // claims it, but only clears the flags on the third call
      }),
    );
    wr(dev, 'COMMAND', COMMAND.RESET);
    await until(() => calls >= 3 && !dev.intxAsserted, 'third call');
    await settle();
    expect(calls).toBe(3);
  });

  it('INTx shared line: a foreign ISR that finds no flag of its own says "not handled" and ours then runs', async () => {
    const other = await makeDevice({ guestMemoryBytes: 1024 * 1024 });
    try {
      dev.setInterruptMode('intx');
      wr(dev, 'INTERRUPT_FLAG', 0xff);
      const foreign = new IrqRecorder(other, { attach: false }); // the other device's driver ISR...
      disconnects.push(dev.connectInterrupt((id) => foreign.handle(id))); // ...on our line, connected first
      const ours = recorder();
      wr(dev, 'COMMAND', COMMAND.RESET);
      await ours.waitFor(1);
      expect(foreign.unhandled).toBeGreaterThanOrEqual(1);
      expect(foreign.events).toEqual([]);
      expect(ours.events).toEqual([{ vector: 0, flags: IRQ_BIT.RESET }]);
      expect(dev.intxAsserted).toBe(false);
    } finally {
      await other.destroy();
    }
  });

  it('INTx storm guard: delivery stops after N unhandled calls and resumes once the line has dropped', async () => {
    dev.setInterruptMode('intx');
    wr(dev, 'INTERRUPT_FLAG', 0xff);
    let calls = 0;
    disconnects.push(
      dev.connectInterrupt(() => {
        calls++;
        return false; // a broken driver: never claims, never clears
      }),
    );
    wr(dev, 'COMMAND', COMMAND.RESET);
    await until(() => calls >= 25, '25 unhandled calls');
    await settle(5);
    expect(calls).toBe(25);
    expect(dev.intxAsserted).toBe(true);
    wr(dev, 'MSI_RESET_FLAG', 0);
    expect(dev.intxAsserted).toBe(false);
    wr(dev, 'COMMAND', COMMAND.RESET);
    await until(() => calls >= 50, 'delivery resumed');
  });

  it('an ISR connected while the INTx line is up is interrupted at once; bus reset drops the line', async () => {
    dev.setInterruptMode('intx');
    wr(dev, 'INTERRUPT_FLAG', 0xff);
    wr(dev, 'COMMAND', COMMAND.RESET);
    await until(() => dev.intxAsserted, 'line up');
    const rec = recorder();
    await rec.waitFor(1);
    expect(rec.events[0].flags).toBe(IRQ_BIT.RESET);
    wr(dev, 'STATE', 0);
    await rec.waitFor(2);
    wr(dev, 'MSI_ERROR_FLAG', 1); // a driver writing a flag does not raise the line
    expect(dev.intxAsserted).toBe(false);
    dev.busReset();
    expect(dev.intxAsserted).toBe(false);
    expect(rd(dev, 'MSI_ERROR_FLAG')).toBe(0);
  });

  it('single MSI and multi-MSI never assert the INTx line; an ISR that throws is logged, not fatal', async () => {
    for (const mode of ['msi', 'msi-multi'] as const) {
      dev.setInterruptMode(mode);
      wr(dev, 'INTERRUPT_FLAG', 0xff);
      disconnects.push(
        dev.connectInterrupt(() => {
          throw new Error('buggy ISR');
        }),
      );
      const rec = recorder();
      wr(dev, 'COMMAND', COMMAND.RESET);
      await rec.waitFor(1);
      expect(dev.intxAsserted).toBe(false);
      for (const d of disconnects) d();
      disconnects = [];
    }
  });
});
