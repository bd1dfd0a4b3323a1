// Page-list walking (docs/crypto-device.md "DMA page lists") and the DMA-error rules of SHA-256 and AES-256-CBC,
// through the real device, plus the DmaCursor walker on its own.

import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DmaCursor, type DmaSegment } from '../../../crypto-device/device/dma.js';
import { DEVICE_IV, deriveDeviceKey } from '../../../crypto-device/device/commands.js';
import { PagedGuestMemory } from '../../../crypto-device/device/guest-memory.js';
import type { PciCryptoDeviceModel } from '../../../crypto-device/device/index.js';
import { COMMAND, ERROR, IRQ_NUM, PAGE_SIZE } from '../../../crypto-device/device/registers.js';
import { nativeEngine } from '../../../crypto-device/engines/index.js';
import { IrqRecorder, MiB, freeBuffer, hex, makeDevice, placeBuffer, program, rd, waitIdle, wr, writeEntries, type PlacedBuffer } from './harness.js';

const KEY = deriveDeviceKey(nativeEngine, 'secret');
const pad16 = (d: Uint8Array) => {
  const p = new Uint8Array(Math.ceil(d.length / 16) * 16);
  p.set(d);
  return p;
};
const refEncrypt = (d: Uint8Array) => {
  const c = createCipheriv('aes-256-cbc', KEY, DEVICE_IV).setAutoPadding(false);
  return new Uint8Array(Buffer.concat([c.update(pad16(d)), c.final()]));
};
const refDecrypt = (d: Uint8Array) => {
  const c = createDecipheriv('aes-256-cbc', KEY, DEVICE_IV).setAutoPadding(false);
  return new Uint8Array(Buffer.concat([c.update(d), c.final()]));
};
const sha = (d: Uint8Array) => createHash('sha256').update(d).digest('hex');

describe('DMA through the device', () => {
  let dev: PciCryptoDeviceModel;
  let rec: IrqRecorder;
  let placed: PlacedBuffer[] = [];
  const place = (...args: Parameters<typeof placeBuffer> extends [unknown, ...infer R] ? R : never) => {
    const b = placeBuffer(dev, ...args);
    placed.push(b);
    return b;
  };

  /** Programs and runs one command; resolves with the interrupt vector it ended with. */
  async function run(command: number, input: PlacedBuffer | undefined, output: PlacedBuffer | undefined, sizes?: { inSize?: number; outSize?: number; inPages?: number }) {
    program(
      dev,
      input && { listPfn: input.listPfn, length: sizes?.inSize ?? input.length, pagesCount: sizes?.inPages ?? input.pages.length },
      output && { listPfn: output.listPfn, length: sizes?.outSize ?? output.length },
    );
    const before = rec.events.length;
    wr(dev, 'COMMAND', command);
    await rec.waitFor(before + 1);
    await waitIdle(dev);
    return rec.events[before].vector;
  }

  beforeAll(async () => {
    // 4 KiB chunks, like the original, so a fault in page k leaves exactly pages 0..k-1 moved.
    dev = await makeDevice({ interruptMode: 'msi-multi', chunkBytes: 4096 });
    rec = new IrqRecorder(dev);
  });
  afterAll(() => dev.destroy());
  beforeEach(() => {
    for (const b of placed) freeBuffer(dev, b);
    placed = [];
    wr(dev, 'INTERRUPT_FLAG', 0xff);
    wr(dev, 'COMMAND', COMMAND.RESET); // clears a sticky ErrorCode from the previous case
    return rec.waitFor(rec.events.length + 1);
  });

  it('hashes scattered pages with an in-page first offset', async () => {
    for (const [length, offset] of [[3 * PAGE_SIZE + 500, 300], [10, 4090], [PAGE_SIZE, 0], [8192, 100], [1, 4095]]) {
      const data = randomBytes(length);
      const input = place(length, { offset, data });
      const out = place(32, { offset: 4080 }); // the digest itself straddles two OUT pages
      expect(await run(COMMAND.SHA256, input, out)).toBe(IRQ_NUM.READY);
      expect(hex(out.read())).toBe(sha(data));
    }
  });

  it('encrypts and decrypts across scattered pages with different IN and OUT offsets', async () => {
    const data = randomBytes(12288 - 250 - 7);
    const input = place(data.length, { offset: 250, data });
    const out = place(pad16(data).length, { offset: 100 });
    expect(await run(COMMAND.AES_CBC_ENCRYPT, input, out)).toBe(IRQ_NUM.READY);
    expect(hex(out.read())).toBe(hex(refEncrypt(data)));
    const back = place(out.length, { offset: 4000 });
    expect(await run(COMMAND.AES_CBC_DECRYPT, out, back)).toBe(IRQ_NUM.READY);
    expect(hex(back.read())).toBe(hex(pad16(data)));
    expect(hex(input.read())).toBe(hex(data)); // encrypt leaves its input unchanged
  });

  it('works in place (IN and OUT the same list)', async () => {
    const data = randomBytes(409600);
    const buf = place(data.length, { offset: 16, data });
    expect(await run(COMMAND.AES_CBC_ENCRYPT, buf, buf)).toBe(IRQ_NUM.READY);
    expect(hex(buf.read())).toBe(hex(refEncrypt(data)));
    expect(await run(COMMAND.AES_CBC_DECRYPT, buf, buf)).toBe(IRQ_NUM.READY);
    expect(hex(buf.read())).toBe(hex(data));
  });

  it('writes only roundup16(IN size) bytes of a larger OUT buffer', async () => {
    const data = randomBytes(100);
    const input = place(100, { data });
    const out = place(200, { data: new Uint8Array(200).fill(0xee) });
    expect(await run(COMMAND.AES_CBC_ENCRYPT, input, out)).toBe(IRQ_NUM.READY);
    const got = out.read();
    expect(hex(got.subarray(0, 112))).toBe(hex(refEncrypt(data)));
    expect(got.subarray(112).every((b) => b === 0xee)).toBe(true);
  });

  it('never reads the page count register', async () => {
    const data = randomBytes(3 * PAGE_SIZE);
    const input = place(data.length, { data, offset: 10 });
    const out = place(32);
    for (const inPages of [0, 1, 0xffff_ffff]) {
      expect(await run(COMMAND.SHA256, input, out, { inPages })).toBe(IRQ_NUM.READY);
      expect(hex(out.read())).toBe(sha(data));
    }
  });

  it('an IN entry of 0 is a DMA error; output already written stays written', async () => {
    const data = randomBytes(8 * PAGE_SIZE);
    const input = place(data.length, { data });
    const out = place(data.length, { data: new Uint8Array(data.length).fill(0xcc) });
    writeEntries(dev, input.listPfn * PAGE_SIZE + 5 * 8, [0]); // entry 5 := 0
    expect(await run(COMMAND.AES_CBC_ENCRYPT, input, out)).toBe(IRQ_NUM.ERROR);
    expect(rd(dev, 'ERROR_CODE')).toBe(ERROR.DMA);
    const got = out.read();
    expect(hex(got.subarray(0, 5 * PAGE_SIZE))).toBe(hex(refEncrypt(data.subarray(0, 5 * PAGE_SIZE))));
    expect(got.subarray(5 * PAGE_SIZE).every((b) => b === 0xcc)).toBe(true);
  });

  it('an OUT entry of 0 is a DMA error; pages before it stay written', async () => {
    const data = randomBytes(6 * PAGE_SIZE);
    const input = place(data.length, { data });
    const out = place(data.length, { data: new Uint8Array(data.length).fill(0xcc) });
    writeEntries(dev, out.listPfn * PAGE_SIZE + 3 * 8, [0]);
    expect(await run(COMMAND.AES_CBC_DECRYPT, input, out)).toBe(IRQ_NUM.ERROR);
    expect(rd(dev, 'ERROR_CODE')).toBe(ERROR.DMA);
    expect(hex(out.read(3 * PAGE_SIZE))).toBe(hex(refDecrypt(data.subarray(0, 3 * PAGE_SIZE))));
    const page3 = dev.memory.bytes.subarray(out.pages[3], out.pages[3] + PAGE_SIZE);
    expect(page3.every((b) => b === 0xcc)).toBe(true);
  });

  it('entries above 44 bits or outside guest RAM, and lists outside RAM, are DMA errors (no host exception)', async () => {
    const ramTop = dev.memory.sizeBytes;
    const cases: { entries?: (number | bigint)[]; listPfn?: number }[] = [
      { entries: [ramTop] },
      { entries: [ramTop - 16, ramTop] }, // the last 16 bytes of RAM, then a page past its end
      { entries: [2 ** 40] },
      { entries: [2n ** 44n] },
      { entries: [0xffff_ffff_ffff_ffffn] },
      { listPfn: ramTop / PAGE_SIZE },
      { listPfn: 0xffff_ffff },
    ];
    for (const c of cases) {
      const input = place(64, { data: randomBytes(64) });
      if (c.entries) writeEntries(dev, input.listPfn * PAGE_SIZE, c.entries);
      const out = place(32, { data: new Uint8Array(32).fill(0xcc) });
      program(dev, { listPfn: c.listPfn ?? input.listPfn, length: 64 }, { listPfn: out.listPfn, length: 32 });
      const before = rec.events.length;
      wr(dev, 'COMMAND', COMMAND.SHA256);
      await rec.waitFor(before + 1);
      expect(rec.events[before].vector, JSON.stringify(c, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))).toBe(IRQ_NUM.ERROR);
      expect(rd(dev, 'ERROR_CODE')).toBe(ERROR.DMA);
      expect(out.read().every((b) => b === 0xcc)).toBe(true);
      await waitIdle(dev);
      wr(dev, 'COMMAND', COMMAND.RESET);
      await rec.waitFor(before + 2);
    }
    // Still a working device afterwards.
    const data = randomBytes(1000);
    const input = place(1000, { data });
    const out = place(32);
    expect(await run(COMMAND.SHA256, input, out)).toBe(IRQ_NUM.READY);
    expect(hex(out.read())).toBe(sha(data));
  });

  it('SHA-256 DMA-error rules: OUT address 0, OUT size < 32, IN address 0 with IN size != 0', async () => {
    const input = place(10, { data: randomBytes(10) });
    const out = place(32);
    program(dev, { listPfn: input.listPfn, length: 10 }, { listPfn: 0, length: 32 });
    const cases: [string, () => void][] = [
      ['OUT address 0', () => program(dev, { listPfn: input.listPfn, length: 10 }, { listPfn: 0, length: 32 })],
      ['OUT size 31', () => program(dev, { listPfn: input.listPfn, length: 10 }, { listPfn: out.listPfn, length: 31 })],
      ['OUT size 0', () => program(dev, { listPfn: input.listPfn, length: 10 }, { listPfn: out.listPfn, length: 0 })],
      ['IN address 0, size 1', () => program(dev, { listPfn: 0, length: 1 }, { listPfn: out.listPfn, length: 32 })],
    ];
    for (const [name, setup] of cases) {
      setup();
      const before = rec.events.length;
      wr(dev, 'COMMAND', COMMAND.SHA256);
      await rec.waitFor(before + 1);
      expect(rec.events[before].vector, name).toBe(IRQ_NUM.ERROR);
      expect(rd(dev, 'ERROR_CODE'), name).toBe(ERROR.DMA);
      await waitIdle(dev);
      wr(dev, 'COMMAND', COMMAND.RESET);
      await rec.waitFor(before + 2);
    }
    // IN address 0 with size 0 is fine: the hash of nothing.
    expect(await run(COMMAND.SHA256, undefined, out)).toBe(IRQ_NUM.READY);
    expect(hex(out.read())).toBe(sha(new Uint8Array(0)));
  });

  it('AES DMA-error rules: IN address 0, IN size 0, OUT address 0, OUT size < roundup16(IN size)', async () => {
    const input = place(100, { data: randomBytes(100) });
    const out = place(112);
    const cases: [string, number, number, number, number][] = [
      ['IN address 0', 0, 100, out.listPfn, 112],
      ['IN size 0', input.listPfn, 0, out.listPfn, 112],
      ['OUT address 0', input.listPfn, 100, 0, 112],
      ['OUT size 99', input.listPfn, 100, out.listPfn, 99],
      ['OUT size 111', input.listPfn, 100, out.listPfn, 111],
      ['OUT size 0', input.listPfn, 100, out.listPfn, 0],
    ];
    for (const command of [COMMAND.AES_CBC_ENCRYPT, COMMAND.AES_CBC_DECRYPT]) {
      for (const [name, inPfn, inSize, outPfn, outSize] of cases) {
        program(dev, { listPfn: inPfn, length: inSize }, { listPfn: outPfn, length: outSize });
        const before = rec.events.length;
        wr(dev, 'COMMAND', command);
        await rec.waitFor(before + 1);
        expect(rec.events[before].vector, name).toBe(IRQ_NUM.ERROR);
        expect(rd(dev, 'ERROR_CODE'), name).toBe(ERROR.DMA);
        await waitIdle(dev);
        wr(dev, 'COMMAND', COMMAND.RESET);
        await rec.waitFor(before + 2);
      }
    }
  });

  it('uses a later entry that is not page-aligned as it stands, up to its page end', async () => {
    const a = dev.memory.allocPage();
    const b = dev.memory.allocPage();
    const list = dev.memory.allocPage();
    const data = randomBytes(PAGE_SIZE + 100);
    dev.memory.bytes.set(data.subarray(0, PAGE_SIZE), a);
    dev.memory.bytes.set(data.subarray(PAGE_SIZE), b + 10);
    writeEntries(dev, list, [a, b + 10]);
    const out = place(32);
    program(dev, { listPfn: list / PAGE_SIZE, length: data.length }, { listPfn: out.listPfn, length: 32 });
    const before = rec.events.length;
    wr(dev, 'COMMAND', COMMAND.SHA256);
    await rec.waitFor(before + 1);
    expect(rec.events[before].vector).toBe(IRQ_NUM.READY);
    expect(hex(out.read())).toBe(sha(data));
    dev.memory.freePages([a, b, list]);
  });

  it('handles a large contiguous request (coalesced runs) and a large scattered one alike', async () => {
    const data = randomBytes(3 * MiB + 123);
    for (const contiguous of [true, false]) {
      const input = place(data.length, { data, contiguous, offset: 64 });
      const out = place(pad16(data).length, { contiguous });
      expect(await run(COMMAND.AES_CBC_ENCRYPT, input, out)).toBe(IRQ_NUM.READY);
      expect(sha(out.read())).toBe(sha(refEncrypt(data)));
    }
  });
});

describe('DmaCursor', () => {
  const mem = new PagedGuestMemory(1 * MiB);
  const view = new DataView(mem.sab);
  const list = (entries: number[]) => {
    const page = mem.allocPage();
    entries.forEach((e, i) => view.setBigUint64(page + i * 8, BigInt(e), true));
    return page / PAGE_SIZE;
  };

  it('coalesces physically adjacent pages into one segment', () => {
    const pages = mem.allocPages(4, { contiguous: true });
    const cur = new DmaCursor(mem.bytes, view, list([pages[0] + 100, pages[1], pages[2], pages[3]]), 4 * PAGE_SIZE - 100);
    const segs: DmaSegment[] = [];
    expect(cur.take(65536, segs)).toBe(4 * PAGE_SIZE - 100);
    expect(segs).toEqual([{ start: pages[0] + 100, length: 4 * PAGE_SIZE - 100 }]);
    expect(cur.remaining).toBe(0);
  });

  it('keeps scattered pages apart and respects maxBytes across calls', () => {
    const pages = mem.allocPages(3);
    expect(pages[1]).not.toBe(pages[0] + PAGE_SIZE); // the allocator scatters by default
    const cur = new DmaCursor(mem.bytes, view, list(pages), 3 * PAGE_SIZE);
    const segs: DmaSegment[] = [];
    expect(cur.take(5000, segs)).toBe(5000);
    expect(segs).toEqual([
      { start: pages[0], length: PAGE_SIZE },
      { start: pages[1], length: 5000 - PAGE_SIZE },
    ]);
    segs.length = 0;
    expect(cur.take(65536, segs)).toBe(3 * PAGE_SIZE - 5000);
    expect(segs).toEqual([
      { start: pages[1] + 5000 - PAGE_SIZE, length: 2 * PAGE_SIZE - 5000 },
      { start: pages[2], length: PAGE_SIZE },
    ]);
  });

  it('records the fault and keeps what it took before it', () => {
    const pages = mem.allocPages(2);
    const cur = new DmaCursor(mem.bytes, view, list([pages[0], 0, pages[1]]), 3 * PAGE_SIZE);
    const segs: DmaSegment[] = [];
    expect(cur.take(65536, segs)).toBe(PAGE_SIZE);
    expect(cur.fault?.fault).toBe('zero-entry');
    expect(segs).toEqual([{ start: pages[0], length: PAGE_SIZE }]);
    expect(cur.take(65536, segs)).toBe(0);
  });

  it('reads nothing for a zero size', () => {
    const cur = new DmaCursor(mem.bytes, view, 0, 0);
    expect(cur.take(65536, [])).toBe(0);
    expect(cur.fault).toBeUndefined();
  });
});
