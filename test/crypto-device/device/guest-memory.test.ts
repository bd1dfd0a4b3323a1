// Guest RAM and its page allocator: sizes up to 4 GiB, page 0 reserved, scattered by default, contiguous on request.

import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_GUEST_MEMORY_BYTES,
  GuestMemoryExhaustedError,
  MAX_GUEST_MEMORY_BYTES,
  PagedGuestMemory,
} from '../../../crypto-device/device/guest-memory.js';
import { COMMAND, IRQ_NUM, PAGE_SIZE } from '../../../crypto-device/device/registers.js';
import { IrqRecorder, makeDevice, program, wr, writeEntries } from './harness.js';

describe('guest memory', () => {
  it('defaults to 1 GiB and validates the size', () => {
    expect(new PagedGuestMemory().sizeBytes).toBe(DEFAULT_GUEST_MEMORY_BYTES);
    expect(DEFAULT_GUEST_MEMORY_BYTES).toBe(2 ** 30);
    for (const bad of [0, 4096, 4097, 1.5 * PAGE_SIZE, MAX_GUEST_MEMORY_BYTES + PAGE_SIZE, -8192, Number.NaN]) {
      expect(() => new PagedGuestMemory(bad)).toThrow(RangeError);
    }
  });

  it('never hands out page 0 and reports exhaustion with a typed error', () => {
    const mem = new PagedGuestMemory(16 * PAGE_SIZE);
    expect(mem.freePageCount).toBe(15);
    const pages = mem.allocPages(15);
    expect(pages).not.toContain(0);
    expect(new Set(pages).size).toBe(15);
    expect(pages.every((p) => p % PAGE_SIZE === 0 && p > 0 && p < mem.sizeBytes)).toBe(true);
    expect(mem.freePageCount).toBe(0);
    expect(() => mem.allocPage()).toThrow(GuestMemoryExhaustedError);
    mem.freePages(pages.slice(0, 3));
    expect(mem.freePageCount).toBe(3);
    expect(mem.allocPages(3).sort()).toEqual(pages.slice(0, 3).sort());
  });

  it('scatters pages by default: no page is followed by its physical successor', () => {
    const mem = new PagedGuestMemory(256 * PAGE_SIZE);
    mem.allocPages(5, { contiguous: true });
    const pages = mem.allocPages(100);
    for (let i = 1; i < pages.length; i++) expect(pages[i]).not.toBe(pages[i - 1] + PAGE_SIZE);
  });

  it('hands out contiguous runs on request, and fails cleanly when fragmented', () => {
    const mem = new PagedGuestMemory(64 * PAGE_SIZE);
    const run = mem.allocPages(10, { contiguous: true });
    run.forEach((p, i) => expect(p).toBe(run[0] + i * PAGE_SIZE));
    expect(run[0]).toBe(PAGE_SIZE); // first fit from the bottom, page 0 excluded
    // Fragment the rest: free every other page of a scattered allocation.
    const rest = mem.allocPages(mem.freePageCount);
    mem.freePages(rest.filter((_, i) => i % 2 === 0));
    expect(() => mem.allocPages(2, { contiguous: true })).toThrow(GuestMemoryExhaustedError);
    expect(mem.allocPages(2)).toHaveLength(2);
  });

  it('rejects freeing pages that are not allocated, without freeing anything', () => {
    const mem = new PagedGuestMemory(16 * PAGE_SIZE);
    const [a, b] = mem.allocPages(2);
    expect(() => mem.freePages([a, 0])).toThrow(RangeError);
    expect(() => mem.freePages([a, a])).toThrow(RangeError);
    expect(() => mem.freePages([a, b + 1])).toThrow(RangeError);
    expect(mem.freePageCount).toBe(13);
    mem.freePages([a, b]);
    expect(() => mem.freePages([a])).toThrow(RangeError);
    expect(mem.allocPages(0)).toEqual([]);
  });

  it('rejects bad device options with a RangeError before starting a worker', async () => {
    await expect(makeDevice({ guestMemoryBytes: MAX_GUEST_MEMORY_BYTES + PAGE_SIZE })).rejects.toThrow(/4 GiB/);
    await expect(makeDevice({ guestMemoryBytes: 1000 })).rejects.toThrow(RangeError);
    await expect(makeDevice({ chunkBytes: 65537 })).rejects.toThrow(RangeError);
    await expect(makeDevice({ chunkBytes: 0 })).rejects.toThrow(RangeError);
    await expect(makeDevice({ engine: 'openssl' as 'native' })).rejects.toThrow(RangeError);
  });

  it('supports 4 GiB as one SharedArrayBuffer, and the device reaches its top page', async () => {
    const dev = await makeDevice({ guestMemoryBytes: MAX_GUEST_MEMORY_BYTES, interruptMode: 'msi-multi' });
    try {
      expect(dev.memory.bytes.length).toBe(2 ** 32);
      wr(dev, 'INTERRUPT_FLAG', 0xff);
      const rec = new IrqRecorder(dev);
      const [top, list, outList, out] = dev.memory.allocPages(4); // scattered: from the top of RAM down
      expect(top).toBe(2 ** 32 - PAGE_SIZE);
      const data = new Uint8Array(PAGE_SIZE).fill(0xa5);
      dev.memory.bytes.set(data, top);
      writeEntries(dev, list, [top]);
      writeEntries(dev, outList, [out]);
      program(dev, { listPfn: list / PAGE_SIZE, length: PAGE_SIZE }, { listPfn: outList / PAGE_SIZE, length: 32 });
      wr(dev, 'COMMAND', COMMAND.SHA256);
      await rec.waitFor(1);
      expect(rec.events[0].vector).toBe(IRQ_NUM.READY);
      expect(Buffer.from(dev.memory.bytes.subarray(out, out + 32)).toString('hex')).toBe(createHash('sha256').update(data).digest('hex'));
    } finally {
      await dev.destroy();
    }
  });
});
