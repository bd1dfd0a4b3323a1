// The two bounded polls that stand in for cross-thread wake-ups: the idle worker polls its doorbell, and the host
// keeps its event loop turning (setImmediate) while a command runs. Neither may change what the device does,
// block the host loop, or outlive the command.

import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { COMMAND } from '../../../crypto-device/device/registers.js';
import type { PciCryptoDeviceModel } from '../../../crypto-device/device/index.js';
import { IrqRecorder, MiB, hex, makeDevice, placeBuffer, program, wr } from './harness.js';

/** Runs one SHA-256 command over `data` and resolves with the digest once the ready interrupt arrived. */
async function sha(dev: PciCryptoDeviceModel, rec: IrqRecorder, data: Uint8Array, contiguous = true): Promise<string> {
  const input = placeBuffer(dev, data.length, { data, contiguous });
  const output = placeBuffer(dev, 32);
  program(dev, { listPfn: input.listPfn, length: data.length }, { listPfn: output.listPfn, length: 32 });
  const before = rec.events.length;
  wr(dev, 'COMMAND', COMMAND.SHA256);
  await rec.waitFor(before + 1);
  expect(rec.events[before]).toEqual({ vector: 2, flags: 2 }); // the ready vector, with only the ready flag set
  const digest = hex(output.read());
  dev.memory.freePages([...input.pages, ...input.listPages, ...output.pages, ...output.listPages]);
  return digest;
}

const pendingImmediates = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Immediate').length;

describe('doorbell and completion polls', () => {
  let dev: PciCryptoDeviceModel | undefined;
  afterEach(async () => {
    await dev?.destroy();
    dev = undefined;
  });

  it('rejects out-of-range poll windows before starting a worker', async () => {
    await expect(makeDevice({ doorbellPollMicros: -1 })).rejects.toThrow(/doorbellPollMicros must be in \[0, 10000\]/);
    await expect(makeDevice({ doorbellPollMicros: 10_001 })).rejects.toThrow(RangeError);
    await expect(makeDevice({ doorbellPollMicros: Number.NaN })).rejects.toThrow(RangeError);
    await expect(makeDevice({ completionPollMicros: -5 })).rejects.toThrow(/completionPollMicros must be in \[0, 100000\]/);
    await expect(makeDevice({ completionPollMicros: 100_001 })).rejects.toThrow(RangeError);
  });

  for (const polls of [
    { doorbellPollMicros: 0, completionPollMicros: 0 },
    { doorbellPollMicros: 200, completionPollMicros: 2000 },
    { doorbellPollMicros: 10_000, completionPollMicros: 100_000 },
  ]) {
    it(`back-to-back commands give the same digests with polls ${JSON.stringify(polls)}`, async () => {
      dev = await makeDevice({ interruptMode: 'msi-multi', ...polls });
      wr(dev, 'INTERRUPT_FLAG', 0xff);
      const rec = new IrqRecorder(dev, { clearFlags: true });
      for (let i = 0; i < 40; i++) {
        const data = new Uint8Array(1 + i * 997).fill(i);
        expect(await sha(dev, rec, data, i % 2 === 0)).toBe(createHash('sha256').update(data).digest('hex'));
      }
      expect(rec.events).toHaveLength(40);
    });
  }

  it('keeps serving timers while it polls for a long command, and stops polling once the command ends', async () => {
    // 4 KiB chunks over 32 MiB of scattered pages: thousands of chunks, far longer than one event-loop turn.
    dev = await makeDevice({ interruptMode: 'msi-multi', chunkBytes: 4096, guestMemoryBytes: 96 * MiB, completionPollMicros: 100_000 });
    wr(dev, 'INTERRUPT_FLAG', 0xff);
    const rec = new IrqRecorder(dev, { clearFlags: true });
    const data = new Uint8Array(32 * MiB).fill(0x42);
    const input = placeBuffer(dev, data.length, { data });
    const output = placeBuffer(dev, 32);
    program(dev, { listPfn: input.listPfn, length: data.length }, { listPfn: output.listPfn, length: 32 });
    let timerFiredBeforeReady = false;
    const timer = new Promise<void>((resolve) =>
      setTimeout(() => {
        timerFiredBeforeReady = rec.events.length === 0;
        resolve();
      }, 0),
    );
    wr(dev, 'COMMAND', COMMAND.SHA256);
    expect(pendingImmediates()).toBeGreaterThan(0); // the poll is running
    await rec.waitFor(1, 30_000);
    await timer;
    expect(timerFiredBeforeReady).toBe(true); // a synchronous spin would have run the timer only after "ready"
    expect(hex(output.read())).toBe(createHash('sha256').update(data).digest('hex'));
    await new Promise((r) => setTimeout(r, 5));
    expect(pendingImmediates()).toBe(0); // no poll left behind (it would also keep the process alive)
  });
});
