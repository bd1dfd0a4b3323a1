// BAR0 semantics: widths, little-endian layout, read-only fields, error 3 cases, the four fixed defects, bounds,
// the 8-byte split, reset and bus reset (docs/crypto-device.md "Register file", "Register writes", "Reset").

import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { PciCryptoDeviceModel } from '../../../crypto-device/device/index.js';
import { COMMAND, ERROR, IRQ_NUM, REG, STATE } from '../../../crypto-device/device/registers.js';
import { IrqRecorder, MiB, makeDevice, placeBuffer, program, rd, settle, waitIdle, wr } from './harness.js';

describe('BAR0 register file', () => {
  let dev: PciCryptoDeviceModel;
  let rec: IrqRecorder;
  const logs: { msg: string; offset?: number }[] = [];

  beforeAll(async () => {
    const stream = { write: (s: string) => logs.push(JSON.parse(s) as { msg: string }) };
    dev = await makeDevice({ interruptMode: 'msi-multi', logger: pino({ level: 'debug' }, stream) });
    rec = new IrqRecorder(dev);
  });
  afterAll(() => dev.destroy());
  beforeEach(async () => {
    dev.busReset();
    wr(dev, 'INTERRUPT_FLAG', 0xff);
    rec.events.length = 0;
    logs.length = 0;
  });

  it('comes out of power-on with every register 0 (InterruptFlag 0 = all interrupts disabled)', async () => {
    const fresh = await makeDevice();
    try {
      for (let off = 0; off < 0x20; off += 4) expect(fresh.mmioRead(off, 4)).toBe(0);
      expect(fresh.pci).toEqual({ vendorId: 0x1111, deviceId: 0x2222, revision: 0, name: 'pci-crypto' });
      expect(fresh.interruptMode).toBe('intx');
    } finally {
      await fresh.destroy();
    }
  });

  it('is little-endian and reads raw bytes across fields', () => {
    wr(dev, 'DMA_IN_ADDRESS', 0x11223344);
    expect(dev.mmioRead(0x04, 1)).toBe(0x44);
    expect(dev.mmioRead(0x07, 1)).toBe(0x11);
    expect(dev.mmioRead(0x05, 2)).toBe(0x2233);
    wr(dev, 'INTERRUPT_FLAG', 0xab);
    // ErrorCode | State << 8 | Command << 16 | InterruptFlag << 24
    expect(dev.mmioRead(0x00, 4)).toBe(0xab000000);
  });

  it('stores InterruptFlag and the DMA registers truncated to the field width', () => {
    dev.mmioWrite(REG.INTERRUPT_FLAG.offset, 4, 0x1234_56f1);
    expect(rd(dev, 'INTERRUPT_FLAG')).toBe(0xf1);
    dev.mmioWrite(REG.DMA_OUT_SIZE.offset, 2, 0x12345);
    expect(rd(dev, 'DMA_OUT_SIZE')).toBe(0x2345); // the access carries 2 bytes; the field takes them zero-extended
    dev.mmioWrite(REG.DMA_IN_SIZE.offset, 4, 0xffff_ffff);
    expect(rd(dev, 'DMA_IN_SIZE')).toBe(0xffff_ffff);
    dev.mmioWrite(REG.DMA_IN_PAGES_COUNT.offset, 4, -1);
    expect(rd(dev, 'DMA_IN_PAGES_COUNT')).toBe(0xffff_ffff);
    for (const name of ['DMA_IN_ADDRESS', 'DMA_OUT_ADDRESS', 'DMA_OUT_PAGES_COUNT'] as const) {
      wr(dev, name, 0xdead_beef);
      expect(rd(dev, name)).toBe(0xdead_beef);
    }
  });

  it('ignores writes that do not start at a field', () => {
    wr(dev, 'DMA_IN_ADDRESS', 0x11223344);
    dev.mmioWrite(0x05, 1, 0xff);
    dev.mmioWrite(0x06, 2, 0xffff);
    dev.mmioWrite(0x1f, 1, 0xff);
    expect(rd(dev, 'DMA_IN_ADDRESS')).toBe(0x11223344);
    expect(dev.mmioRead(0x1f, 1)).toBe(0);
  });

  it('stores Msi*Flag writes as written', () => {
    dev.mmioWrite(REG.MSI_READY_FLAG.offset, 1, 5);
    dev.mmioWrite(REG.MSI_RESET_FLAG.offset, 4, 0x1ff);
    expect(rd(dev, 'MSI_READY_FLAG')).toBe(5);
    expect(rd(dev, 'MSI_RESET_FLAG')).toBe(0xff);
    expect(rd(dev, 'MSI_ERROR_FLAG')).toBe(0);
  });

  it('reads 0 above 0x1F and drops writes there', () => {
    for (const name of Object.keys(REG) as (keyof typeof REG)[]) if (name !== 'ERROR_CODE' && name !== 'STATE' && name !== 'COMMAND') wr(dev, name, 0xffffffff);
    for (const off of [0x20, 0x24, 0x100, 0x800, 0xffc]) {
      expect(dev.mmioRead(off, 4)).toBe(0);
      dev.mmioWrite(off, 4, 0xffffffff);
      expect(dev.mmioRead(off, 4)).toBe(0);
    }
    expect(dev.mmioRead(0x1e, 4)).toBe(0xff); // MsiResetFlag, then 0x1F and two bytes past the file
    expect(rec.events).toEqual([]);
  });

  it('splits an 8-byte access into two 4-byte ones, low first', () => {
    dev.mmioWrite(0x04, 8, 0x0000_0005_0000_0007n);
    expect(rd(dev, 'DMA_IN_ADDRESS')).toBe(7);
    expect(rd(dev, 'DMA_IN_PAGES_COUNT')).toBe(5);
    expect(dev.mmioRead(0x04, 8)).toBe(0x0000_0005_0000_0007n);
    dev.mmioWrite(0x10, 8, 0xffff_ffff_ffff_fffen);
    expect(rd(dev, 'DMA_OUT_ADDRESS')).toBe(0xffff_fffe);
    expect(rd(dev, 'DMA_OUT_PAGES_COUNT')).toBe(0xffff_ffff);
    expect(dev.mmioRead(0xff8, 8)).toBe(0n);
  });

  it('treats out-of-range and bad-size accesses as guest mistakes: read 0, write dropped, no throw', () => {
    const bad: [number, number][] = [[4096, 1], [4095, 2], [4093, 4], [4092, 8], [-1, 1], [1.5, 1], [0, 3], [0, 0], [Number.NaN, 1]];
    for (const [off, size] of bad) {
      expect(() => dev.mmioRead(off, size as 1)).not.toThrow();
      expect(dev.mmioRead(off, size as 1)).toBe(size === 8 ? 0n : 0);
      expect(() => dev.mmioWrite(off, size as 1, 0xff)).not.toThrow();
    }
    expect(() => dev.mmioWrite(0x03, 1, 'junk' as unknown as number)).not.toThrow();
    expect(rd(dev, 'INTERRUPT_FLAG')).toBe(0); // junk value counts as 0
    expect(logs.some((l) => l.msg.includes('outside BAR0'))).toBe(true);
  });

  describe('fixed defects (DEVIATIONS.md)', () => {
    it('1: accepts an access that ends exactly at the last byte of BAR0', () => {
      expect(dev.mmioRead(0xfff, 1)).toBe(0);
      expect(dev.mmioRead(0xffc, 4)).toBe(0);
      dev.mmioWrite(0xfff, 1, 1);
      dev.mmioWrite(0xffe, 2, 1);
      expect(logs.filter((l) => l.msg.includes('outside BAR0'))).toEqual([]);
      dev.mmioRead(0xfff, 2);
      expect(logs.filter((l) => l.msg.includes('outside BAR0'))).toHaveLength(1);
    });

    it('3: an invalid Command value (0 included) raises error 3, is not stored and never runs', async () => {
      for (const value of [0, 5, 0x80, 0xff]) {
        dev.busReset();
        wr(dev, 'INTERRUPT_FLAG', 0xff);
        rec.events.length = 0;
        wr(dev, 'COMMAND', value);
        expect(rd(dev, 'COMMAND')).toBe(COMMAND.IDLE);
        expect(rd(dev, 'ERROR_CODE')).toBe(ERROR.WRITE_IO);
        expect(rd(dev, 'MSI_ERROR_FLAG')).toBe(1);
        await rec.waitFor(1);
        // A later legitimate wake (a reset) must not run the invalid value as a no-op "ready".
        wr(dev, 'COMMAND', COMMAND.RESET);
        await rec.waitFor(2);
        await settle();
        expect(rec.events.map((e) => e.vector)).toEqual([IRQ_NUM.ERROR, IRQ_NUM.RESET]);
      }
    });

    it('4: a command written while busy is error 3 and the running command completes', async () => {
      const size = 24 * MiB;
      const input = placeBuffer(dev, size, { contiguous: true });
      input.write(new Uint8Array(size).fill(0x5a));
      const out = placeBuffer(dev, 32);
      program(dev, { listPfn: input.listPfn, length: size }, { listPfn: out.listPfn, length: 32 });
      wr(dev, 'COMMAND', COMMAND.SHA256);
      wr(dev, 'COMMAND', COMMAND.AES_CBC_ENCRYPT); // microseconds later: hashing 24 MiB is still going
      expect(rd(dev, 'COMMAND')).toBe(COMMAND.SHA256);
      expect(rd(dev, 'ERROR_CODE')).toBe(ERROR.WRITE_IO);
      await rec.waitFor(2);
      expect(rec.events.map((e) => e.vector)).toEqual([IRQ_NUM.ERROR, IRQ_NUM.READY]);
      const { createHash } = await import('node:crypto');
      expect(Buffer.from(out.read()).toString('hex')).toBe(createHash('sha256').update(new Uint8Array(size).fill(0x5a)).digest('hex'));
      await waitIdle(dev);
      expect(rd(dev, 'ERROR_CODE')).toBe(ERROR.WRITE_IO); // sticky until a reset
    });
  });

  it('raises error 3 for a write to ErrorCode or State and stores nothing', async () => {
    for (const name of ['ERROR_CODE', 'STATE'] as const) {
      dev.busReset();
      wr(dev, 'INTERRUPT_FLAG', 0xff);
      rec.events.length = 0;
      wr(dev, name, 2);
      expect(rd(dev, 'ERROR_CODE')).toBe(ERROR.WRITE_IO);
      expect(rd(dev, 'STATE')).toBe(STATE.READY);
      expect(rd(dev, 'MSI_ERROR_FLAG')).toBe(1);
      await rec.waitFor(1);
      expect(rec.events[0].vector).toBe(IRQ_NUM.ERROR);
    }
  });

  it('reset clears ErrorCode, State, Command and the DMA registers, keeps InterruptFlag and flags, raises 3', async () => {
    wr(dev, 'STATE', 0); // error 3: ErrorCode 3 and MsiErrorFlag 1
    await rec.waitFor(1);
    dev.mmioWrite(REG.MSI_ERROR_FLAG.offset, 1, 1); // the driver has not cleared it
    wr(dev, 'INTERRUPT_FLAG', 0xf7);
    for (const name of ['DMA_IN_ADDRESS', 'DMA_IN_PAGES_COUNT', 'DMA_IN_SIZE', 'DMA_OUT_ADDRESS', 'DMA_OUT_PAGES_COUNT', 'DMA_OUT_SIZE'] as const) {
      wr(dev, name, 0x1234);
    }
    wr(dev, 'COMMAND', COMMAND.RESET);
    await rec.waitFor(2);
    expect(rec.events[1].vector).toBe(IRQ_NUM.RESET);
    expect(dev.mmioRead(0x00, 4)).toBe(0xf7000000);
    for (let off = 0x04; off < 0x1c; off += 4) expect(dev.mmioRead(off, 4)).toBe(0);
    expect(rd(dev, 'MSI_ERROR_FLAG')).toBe(1);
    expect(rd(dev, 'MSI_RESET_FLAG')).toBe(1);
  });

  it('logs guest mistakes at debug level and never the key string or key', async () => {
    program(dev, undefined, undefined);
    wr(dev, 'COMMAND', COMMAND.AES_CBC_ENCRYPT); // IN address 0: DMA error, logged by the worker
    await rec.waitFor(1);
    await settle();
    const text = JSON.stringify(logs);
    expect(text).toContain('guest DMA error');
    expect(logs.every((l) => (l as unknown as { level: number }).level === 20)).toBe(true);
    expect(text).not.toContain('secret');
    expect(text).not.toContain('2bb80d537b1da3e38bd30361aa855686');
  });

  it('bus reset zeroes every register', () => {
    for (const name of ['INTERRUPT_FLAG', 'DMA_IN_ADDRESS', 'DMA_OUT_SIZE', 'MSI_READY_FLAG'] as const) wr(dev, name, 0x77);
    wr(dev, 'STATE', 1);
    dev.busReset();
    for (let off = 0; off < 0x20; off += 4) expect(dev.mmioRead(off, 4)).toBe(0);
  });
});
