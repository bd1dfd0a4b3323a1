// The simulated user address space: non-contiguous page table, range checks, unmapped memory, guard pages.

import { describe, expect, it } from 'vitest';
import { NTSTATUS } from '../../../kernel/ntstatus.js';
import { DEFAULT_HIGHEST_USER_ADDRESS, UserAddressSpace } from '../../../crypto-device/driver/user-address-space.js';
import { FakeGuestMemory, PAGE } from './harness.js';

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
});
