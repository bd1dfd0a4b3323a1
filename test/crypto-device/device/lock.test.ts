// The register lock shared by the host thread and the device worker: mutual exclusion under contention.

import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { tsWorkerBootstrap } from '../../../crypto-device/device/pci-crypto-device.js';
import { RegisterFile } from '../../../crypto-device/device/registers.js';

/** Starts a .ts worker the way the device does under tsx. */
function tsWorker(file: URL, workerData: unknown): Worker {
  return new Worker(tsWorkerBootstrap(file), { eval: true, workerData });
}

describe('RegisterFile.locked', () => {
  it('keeps a read-modify-write exact while two threads hammer it', async () => {
    const regs = new RegisterFile();
    const rounds = 200_000;
    const worker = tsWorker(new URL('./fixtures/lock-stress-worker.ts', import.meta.url), { sab: regs.sab, rounds });
    const done = new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    // Wait until the worker is really running, so the two loops overlap.
    await new Promise<void>((resolve) => {
      const poll = (): void => (regs.locked(() => regs.get('DMA_IN_SIZE')) > 0 ? resolve() : void setTimeout(poll, 1));
      poll();
    });
    for (let i = 0; i < rounds; i++) regs.locked(() => regs.set('DMA_IN_SIZE', regs.get('DMA_IN_SIZE') + 1));
    await done;
    await worker.terminate();
    expect(regs.locked(() => regs.get('DMA_IN_SIZE'))).toBe(2 * rounds);
  }, 60_000);
});
