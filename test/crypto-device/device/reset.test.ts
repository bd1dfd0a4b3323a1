// Reset while a command runs (docs/crypto-device.md "Reset"): the command ends with no ready/error, the registers are
// cleared, interrupt 3 arrives, and after it the device writes no DMA memory. Also bus reset and destroy mid-run.

import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PciCryptoDeviceModel } from '../../../crypto-device/device/index.js';
import { COMMAND, ERROR, IRQ_NUM, STATE } from '../../../crypto-device/device/registers.js';
import { IrqRecorder, MiB, freeBuffer, makeDevice, placeBuffer, program, rd, settle, waitIdle, wr } from './harness.js';

const digest = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function until(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

describe('reset during a running command', () => {
  let dev: PciCryptoDeviceModel;
  beforeAll(async () => {
    // Small chunks make a 24 MiB request take long enough to be caught mid-way.
    dev = await makeDevice({ interruptMode: 'msi-multi', chunkBytes: 4096 });
  });
  afterAll(() => dev.destroy());

  it('cuts the command short: reset interrupt only, registers cleared, no DMA after the reset interrupt', async () => {
    wr(dev, 'INTERRUPT_FLAG', 0xff);
    const size = 24 * MiB;
    const input = placeBuffer(dev, size, { contiguous: true, data: new Uint8Array(size).fill(0x31) });
    const out = placeBuffer(dev, size, { data: new Uint8Array(size).fill(0xcc) });
    let atReset: string | undefined;
    const vectors: number[] = [];
    const disconnect = dev.connectInterrupt((v) => {
      vectors.push(v);
      if (v === IRQ_NUM.RESET) atReset = digest(out.read()); // what OUT holds when the reset interrupt arrives
      return true;
    });
    try {
      program(dev, { listPfn: input.listPfn, length: size }, { listPfn: out.listPfn, length: size });
      wr(dev, 'COMMAND', COMMAND.AES_CBC_ENCRYPT);
      await until(() => rd(dev, 'STATE') === STATE.AES_CBC, 'AES to start');
      wr(dev, 'COMMAND', COMMAND.RESET);
      await until(() => atReset !== undefined, 'reset interrupt');
      await waitIdle(dev);
      await settle(5);
      expect(vectors).toEqual([IRQ_NUM.RESET]);
      expect(digest(out.read())).toBe(atReset); // nothing written after the reset interrupt
      const got = out.read();
      expect(got[0]).not.toBe(0xcc); // it had started...
      expect(got[size - 1]).toBe(0xcc); // ...and was cut short
      for (let off = 0; off < 0x1c; off += 4) expect(dev.mmioRead(off, 4), `offset ${off}`).toBe(off === 0 ? 0xff000000 : 0);
      expect(rd(dev, 'MSI_RESET_FLAG')).toBe(1);

      // The device is usable again at once.
      const small = placeBuffer(dev, 3, { data: new TextEncoder().encode('123') });
      const dg = placeBuffer(dev, 32);
      program(dev, { listPfn: small.listPfn, length: 3 }, { listPfn: dg.listPfn, length: 32 });
      wr(dev, 'COMMAND', COMMAND.SHA256);
      await until(() => vectors.length === 2, 'ready');
      expect(vectors[1]).toBe(IRQ_NUM.READY);
      expect(Buffer.from(dg.read()).toString('hex')).toBe('a665a45920422f9d417e4867efdc4fb8a04a1f3fff1fa07e998e86f7f7a27ae3');
      for (const b of [small, dg]) freeBuffer(dev, b);
    } finally {
      disconnect();
      freeBuffer(dev, input);
      freeBuffer(dev, out);
    }
  });

  it('a reset clears a sticky ErrorCode', async () => {
    wr(dev, 'INTERRUPT_FLAG', 0xff);
    const rec = new IrqRecorder(dev);
    try {
      program(dev, undefined, undefined);
      wr(dev, 'COMMAND', COMMAND.SHA256); // all DMA registers 0: OUT address 0 is a DMA error
      await rec.waitFor(1);
      await waitIdle(dev);
      expect(rd(dev, 'ERROR_CODE')).toBe(ERROR.DMA);
      wr(dev, 'COMMAND', COMMAND.RESET);
      await rec.waitFor(2);
      expect(rec.events.map((e) => e.vector)).toEqual([IRQ_NUM.ERROR, IRQ_NUM.RESET]);
      expect(rd(dev, 'ERROR_CODE')).toBe(ERROR.NONE);
    } finally {
      rec.disconnect();
    }
  });

  it('a bus reset mid-command ends it silently and zeroes the registers', async () => {
    wr(dev, 'INTERRUPT_FLAG', 0xff);
    const size = 16 * MiB;
    const input = placeBuffer(dev, size, { contiguous: true });
    const out = placeBuffer(dev, 32);
    const rec = new IrqRecorder(dev);
    try {
      program(dev, { listPfn: input.listPfn, length: size }, { listPfn: out.listPfn, length: 32 });
      wr(dev, 'COMMAND', COMMAND.SHA256);
      await until(() => rd(dev, 'STATE') === STATE.SHA2, 'SHA to start');
      const before = Buffer.from(dev.memory.bytes.subarray(out.pages[0], out.pages[0] + 32)).toString('hex');
      dev.busReset(); // returns only once the worker has left the command
      await settle(10);
      expect(Buffer.from(dev.memory.bytes.subarray(out.pages[0], out.pages[0] + 32)).toString('hex')).toBe(before);
      for (let off = 0; off < 0x20; off += 4) expect(dev.mmioRead(off, 4)).toBe(0);
      expect(rec.events).toEqual([]);
    } finally {
      rec.disconnect();
      freeBuffer(dev, input);
      freeBuffer(dev, out);
    }
  });

  it('a device whose worker dies reports an internal error instead of hanging the driver', async () => {
    const d = await makeDevice({ guestMemoryBytes: 1 * MiB, interruptMode: 'msi-multi' });
    try {
      wr(d, 'INTERRUPT_FLAG', 0xff);
      const rec = new IrqRecorder(d);
      await (d as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
      await rec.waitFor(1);
      expect(rec.events[0].vector).toBe(IRQ_NUM.ERROR);
      expect(rd(d, 'ERROR_CODE')).toBe(ERROR.INTERNAL);
    } finally {
      await d.destroy();
    }
  });

  it('destroy() mid-command stops the worker promptly', async () => {
    const d = await makeDevice({ chunkBytes: 4096, guestMemoryBytes: 32 * MiB });
    const size = 24 * MiB;
    const input = placeBuffer(d, size, { contiguous: true });
    const out = placeBuffer(d, 32);
    program(d, { listPfn: input.listPfn, length: size }, { listPfn: out.listPfn, length: 32 });
    wr(d, 'COMMAND', COMMAND.SHA256);
    await d.destroy();
    await d.destroy(); // idempotent
    expect(() => d.mmioRead(0, 4)).not.toThrow();
  });
});
