// The simulated user address space: non-contiguous page table, range checks, unmapped memory, guard pages.

import { describe, expect, it } from 'vitest';
import { NTSTATUS } from '../../kernel/ntstatus.js';
import { DEFAULT_HIGHEST_USER_ADDRESS, UserAddressSpace } from '../../kernel/user-address-space.js';
import { FakeGuestMemory, PAGE } from '../crypto-device/driver/harness.js';

function space(): { memory: FakeGuestMemory; space: UserAddressSpace } {
  const memory = new FakeGuestMemory(4 * 1024 * 1024);
  return { memory, space: new UserAddressSpace(memory) };
}

describe('UserAddressSpace', () => {
  it('maps user pages to non-contiguous guest pages by default', () => {
    const { space: s } = space();
    const base = s.map(4);
    const pages = s.translatePages(base, 4 * PAGE);
    expect(pages).toHaveLength(4);
    for (let i = 1; i < 4; i++) expect(pages![i]).not.toBe(pages![i - 1] + PAGE);
  });

  it('gives physically contiguous pages when asked', () => {
    const { space: s } = space();
    const pages = s.translatePages(s.map(4, { contiguous: true }), 4 * PAGE)!;
    for (let i = 1; i < 4; i++) expect(pages[i]).toBe(pages[i - 1] + PAGE);
  });

  it('round-trips data across scattered page boundaries', () => {
    const { space: s } = space();
    const buf = s.allocBuffer(3 * PAGE + 123, { offsetInPage: 4000 });
    const data = Uint8Array.from({ length: buf.length }, (_, i) => (i * 7 + 3) & 0xff);
    buf.write(0, data);
    expect(buf.read()).toEqual(data);
    expect(buf.read(4090, 20)).toEqual(data.subarray(4090, 4110));
  });

  it('leaves the first 64 KiB and the page after each mapping unmapped', () => {
    const { space: s } = space();
    expect(s.isMapped(1n, 1)).toBe(false);
    expect(s.isMapped(100n, 3)).toBe(false);
    const base = s.map(2);
    expect(s.isMapped(base, 2 * PAGE)).toBe(true);
    expect(s.isMapped(base, 2 * PAGE + 1)).toBe(false);
    expect(s.translatePages(base + BigInt(PAGE), PAGE + 1)).toBeNull();
    expect(() => s.read(base + BigInt(2 * PAGE), 1)).toThrow(/ACCESS_VIOLATION/);
  });

  it('range check: null with a size, overflow and past the highest user address are invalid; null with 0 is fine', () => {
    const { space: s } = space();
    expect(s.checkRange(0n, 0)).toBe(NTSTATUS.STATUS_SUCCESS);
    expect(s.checkRange(0n, 1)).toBe(NTSTATUS.STATUS_INVALID_USER_BUFFER);
    expect(s.checkRange(0xffff_ffff_ffff_ffffn, 3)).toBe(NTSTATUS.STATUS_INVALID_USER_BUFFER);
    expect(s.checkRange(DEFAULT_HIGHEST_USER_ADDRESS, 1)).toBe(NTSTATUS.STATUS_SUCCESS);
    expect(s.checkRange(DEFAULT_HIGHEST_USER_ADDRESS, 2)).toBe(NTSTATUS.STATUS_INVALID_USER_BUFFER);
    expect(s.checkRange(100n, 3)).toBe(NTSTATUS.STATUS_SUCCESS); // in range, merely unmapped
  });

  it('paints guard pages and notices a stray write into them', () => {
    const { space: s } = space();
    const buf = s.allocBuffer(200, { offsetInPage: 100, guardPages: 1, guardByte: 0xaa });
    expect(buf.leadingGuardBytes).toBe(PAGE + 100);
    expect(buf.trailingGuardBytes).toBe(PAGE + PAGE - 300);
    expect(buf.read()).toEqual(new Uint8Array(200));
    expect(buf.guardsIntact()).toBe(true);
    s.write(buf.address + 200n, Uint8Array.of(1));
    expect(buf.guardsIntact()).toBe(false);
  });

  it('unmaps on release and gives the guest pages back; stale addresses then fault', () => {
    const { memory, space: s } = space();
    const before = memory.freePageCount;
    const buf = s.allocBuffer(2 * PAGE);
    expect(memory.freePageCount).toBe(before - 2);
    buf.release();
    buf.release();
    expect(memory.freePageCount).toBe(before);
    expect(s.isMapped(buf.address, 1)).toBe(false);
    expect(() => buf.read()).toThrow(/ACCESS_VIOLATION/);
  });

  it('reports exhausted guest memory as STATUS_INSUFFICIENT_RESOURCES', () => {
    const { space: s } = space();
    expect(() => s.map(2000)).toThrow(/INSUFFICIENT_RESOURCES/);
  });
});

describe('page locks (MDL semantics)', () => {
  it('a buffer released while its pages are locked keeps them allocated until the unlock', () => {
    const memory = new FakeGuestMemory(1024 * 1024);
    const s = new UserAddressSpace(memory);
    const before = memory.freePageCount;
    const buf = s.allocBuffer(3 * PAGE);
    const lock = s.lockPages(buf.address, buf.length)!;
    expect(lock.pages).toEqual(s.translatePages(buf.address, buf.length));
    buf.release();
    expect(s.isMapped(buf.address, 1)).toBe(false); // the user's view is gone at once
    expect(memory.freePageCount).toBe(before - 3); // but the device may still write the pages
    lock.unlock();
    lock.unlock();
    expect(memory.freePageCount).toBe(before);
    expect(s.lockPages(buf.address, 1)).toBeNull();
  });

  it('reuses freed ranges once the cursor reaches the end of the space, never handing out a live range', () => {
    const memory = new FakeGuestMemory(4 * 1024 * 1024);
    // A space of 64 user pages after the unmapped first 64 KiB: the cursor reaches its end after a few maps,
    // as the default space's would after about 128 TiB of traffic.
    const s = new UserAddressSpace(memory, { highestUserAddress: BigInt((0x10 + 64) * PAGE) - 1n });
    const live = new Map<bigint, number>();
    const keep = s.allocBuffer(3 * PAGE); // never freed: the search must skip it on every lap
    keep.fill(0x5a);
    for (let round = 0; round < 2000; round++) {
      const pages = 1 + (round % 7);
      const base = s.map(pages);
      expect(live.has(base)).toBe(false);
      s.write(base, new Uint8Array(pages * PAGE).fill(round & 0xff));
      live.set(base, pages);
      // Free all but the newest few, oldest first, so holes of every size open up behind the cursor.
      if (live.size > 4) {
        const [oldest] = live.keys();
        s.unmap(oldest);
        live.delete(oldest);
      }
    }
    expect(keep.read().every((b) => b === 0x5a)).toBe(true);
    // Every live mapping still reads back its own fill: no two ever overlapped, and each keeps an unmapped page after it.
    for (const [base, pages] of live) {
      const bytes = s.read(base, pages * PAGE);
      expect(new Set(bytes).size).toBe(1);
      expect(s.isMapped(base, pages * PAGE + 1)).toBe(false);
    }
    // A request larger than any free range is still refused with the driver's status.
    expect(() => s.map(64)).toThrow(/INSUFFICIENT_RESOURCES/);
  });

  it('after a wrap the cursor moves on from the reused range (next fit), not back to the lowest hole', () => {
    const memory = new FakeGuestMemory(4 * 1024 * 1024);
    const s = new UserAddressSpace(memory, { highestUserAddress: BigInt((0x10 + 12) * PAGE) - 1n });
    const a = s.map(2); // pages 0x10-0x11, unmapped 0x12
    const b = s.map(2); // 0x13-0x14, unmapped 0x15
    const c = s.map(2); // 0x16-0x17, unmapped 0x18
    s.map(2); // 0x19-0x1a, unmapped 0x1b: the space is full
    s.unmap(a);
    s.unmap(c);
    expect(s.map(2)).toBe(a); // wrapped: the first hole
    expect(s.map(2)).toBe(c); // then onwards, not the same region again
    expect(() => s.map(1)).toThrow(/INSUFFICIENT_RESOURCES/);
    s.unmap(b);
    expect(s.map(2)).toBe(b);
  });
});
