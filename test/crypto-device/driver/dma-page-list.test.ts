// DMA page-list construction: one u64 per spanned page, first entry with the in-page offset, list in guest pages.

import { describe, expect, it } from 'vitest';
import { NTSTATUS } from '../../../kernel/ntstatus.js';
import { createDmaForUserBuffer } from '../../../crypto-device/driver/dma-user-memory.js';
import { UserAddressSpace } from '../../../kernel/user-address-space.js';
import { FakeGuestMemory, PAGE } from './harness.js';

function readList(memory: FakeGuestMemory, pfn: number, count: number): number[] {
  const view = new DataView(memory.bytes.buffer, pfn * PAGE, count * 8);
  return Array.from({ length: count }, (_, i) => Number(view.getBigUint64(i * 8, true)));
}

describe('createDmaForUserBuffer', () => {
  const memory = new FakeGuestMemory(8 * 1024 * 1024);
  const space = new UserAddressSpace(memory);

  it.each([
    [4096, 0, 4096, 1],
    [8192, 100, 4096, 2],
    [4096, 200, 10, 1],
    [12288, 300, 8192, 3],
    [100 * 4096, 300, 99 * 4096, 100],
  ])('buffer %i, offset %i, length %i spans %i pages', (bufSize, offset, length, expectedPages) => {
    const base = space.map(bufSize / PAGE);
    const address = base + BigInt(offset);
    const result = createDmaForUserBuffer(space, memory, { address, size: length });
    expect(result.status).toBe(NTSTATUS.STATUS_SUCCESS);
    const program = result.dma!.program;
    expect(program.pagesCount).toBe(expectedPages);
    expect(program.sizeBytes).toBe(length);
    const phys = space.translatePages(address, length)!;
    const entries = readList(memory, program.listPfn, expectedPages);
    expect(entries[0]).toBe(phys[0] + (offset % PAGE));
    expect(entries.slice(1)).toEqual(phys.slice(1));
    result.dma!.free();
    space.unmap(base);
  });

  it('programs a zero-size buffer as address 0, count 0, size 0 whatever its address', () => {
    for (const address of [0n, 100n, 0xffff_ffff_ffff_ffffn]) {
      const result = createDmaForUserBuffer(space, memory, { address, size: 0 });
      expect(result.status).toBe(NTSTATUS.STATUS_SUCCESS);
      expect(result.dma!.program).toEqual({ listPfn: 0, pagesCount: 0, sizeBytes: 0 });
    }
  });

  it('refuses bad buffers before anything is allocated', () => {
    const free = memory.freePageCount;
    expect(createDmaForUserBuffer(space, memory, { address: 0n, size: 1 }).status).toBe(NTSTATUS.STATUS_INVALID_USER_BUFFER);
    expect(createDmaForUserBuffer(space, memory, { address: 0xffff_ffff_ffff_fff0n, size: 32 }).status).toBe(
      NTSTATUS.STATUS_INVALID_USER_BUFFER,
    );
    expect(createDmaForUserBuffer(space, memory, { address: 100n, size: 3 }).status).toBe(NTSTATUS.STATUS_ACCESS_VIOLATION);
    expect(memory.freePageCount).toBe(free);
  });

  it('keeps a page list longer than one page physically contiguous', () => {
    const base = space.map(1000); // 1000 entries = 8000 bytes = 2 list pages
    const result = createDmaForUserBuffer(space, memory, { address: base, size: 1000 * PAGE });
    const entries = readList(memory, result.dma!.program.listPfn, 1000);
    expect(entries).toEqual(space.translatePages(base, 1000 * PAGE));
    result.dma!.free();
    space.unmap(base);
  });
});
