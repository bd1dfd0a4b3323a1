// Guest physical RAM: one SharedArrayBuffer the device worker reads and writes by physical address, with a
// 4 KiB page allocator (docs/architecture.md "Guest memory").

import type { GuestMemory } from './contract.js';
import { PAGE_SIZE } from './registers.js';

export const DEFAULT_GUEST_MEMORY_BYTES = 1024 * 1024 * 1024;
/**
 * 4 GiB: what the contract allows. V8 on Node 20 accepts a single SharedArrayBuffer this large (checked on
 * v20.20: `new SharedArrayBuffer(2 ** 32)` and a Uint8Array over all of it work), and the pages are committed
 * only when touched. Physical addresses then stay below 2^32, far inside the device's 44 bits.
 */
export const MAX_GUEST_MEMORY_BYTES = 4 * 1024 * 1024 * 1024;

/** Thrown when the allocator cannot satisfy a request (the driver maps it to STATUS_INSUFFICIENT_RESOURCES). */
export class GuestMemoryExhaustedError extends Error {
  readonly code = 'VSCR_ERR_GUEST_MEMORY_EXHAUSTED';
  constructor(message: string) {
    super(message);
    this.name = 'GuestMemoryExhaustedError';
  }
}

/** @throws RangeError when `sizeBytes` is not a multiple of 4096 in [8 KiB, 4 GiB]. */
export function validateGuestMemorySize(sizeBytes: number): number {
  if (!Number.isSafeInteger(sizeBytes) || sizeBytes % PAGE_SIZE !== 0 || sizeBytes < 2 * PAGE_SIZE) {
    throw new RangeError(`guestMemoryBytes must be a multiple of 4096 and at least 8192 (got ${sizeBytes})`);
  }
  if (sizeBytes > MAX_GUEST_MEMORY_BYTES) {
    throw new RangeError(
      `guestMemoryBytes ${sizeBytes} exceeds the 4 GiB maximum (one SharedArrayBuffer; physical addresses below 2^32)`,
    );
  }
  return sizeBytes;
}

/** Page table values: FREE and ALLOCATED, plus SEEN while freePages checks a list for duplicates. */
const FREE = 0;
const ALLOCATED = 1;
const SEEN = 2;

/**
 * Page allocator. Pages are returned as physical byte addresses (page-aligned, never 0).
 *
 * Scattered allocations (the default) come from the top of RAM downwards, so consecutive pages of one allocation
 * are never physically ascending: every page boundary of a buffer is a real scatter-gather jump, and a device bug
 * that reads past a page end reads the wrong data. Contiguous runs are first-fit from the bottom, so the two
 * policies rarely fragment each other.
 */
export class PagedGuestMemory implements GuestMemory {
  readonly sizeBytes: number;
  readonly sab: SharedArrayBuffer;
  readonly bytes: Uint8Array;
  private readonly used: Uint8Array; // one byte per page: 1 = allocated (page 0 is permanently reserved)
  private readonly pageCount: number;
  private free: number;
  private topCursor: number; // no free page above this index
  private lowCursor = 1; // no free page below this index (so contiguous searches skip the used bottom)

  constructor(sizeBytes: number = DEFAULT_GUEST_MEMORY_BYTES) {
    this.sizeBytes = validateGuestMemorySize(sizeBytes);
    this.sab = new SharedArrayBuffer(sizeBytes);
    this.bytes = new Uint8Array(this.sab);
    this.pageCount = sizeBytes / PAGE_SIZE;
    this.used = new Uint8Array(this.pageCount);
    this.used[0] = ALLOCATED; // physical address 0 means "no page" to the device
    this.free = this.pageCount - 1;
    this.topCursor = this.pageCount - 1;
  }

  get freePageCount(): number {
    return this.free;
  }

  allocPage(): number {
    return this.allocPages(1)[0];
  }

  allocPages(count: number, options?: { contiguous?: boolean; into?: number[] }): number[] {
    if (!Number.isSafeInteger(count) || count < 0) throw new RangeError(`page count must be a non-negative integer (got ${count})`);
    if (count === 0) return [];
    if (count > this.free) {
      throw new GuestMemoryExhaustedError(`${count} pages requested, ${this.free} free`);
    }
    // A recycled array is written by index: emptying it first would make V8 drop its backing store.
    const out = options?.into !== undefined && options.into.length >= count ? options.into : [];
    if (options?.contiguous) this.allocContiguous(count, out);
    else this.allocScattered(count, out);
    if (out.length !== count) out.length = count;
    return out;
  }

  freePages(pages: readonly number[]): void {
    // Validate everything first so a bad call frees nothing (host bug: throw). A page seen once is marked
    // SEEN in the page table itself rather than in a Set: a 64 MiB buffer is 16384 pages, and the Set made
    // freeing it cost milliseconds.
    const used = this.used;
    for (let i = 0; i < pages.length; i++) {
      const phys = pages[i];
      const page = phys / PAGE_SIZE;
      if (!Number.isInteger(page) || page <= 0 || page >= this.pageCount || used[page] !== ALLOCATED) {
        for (let j = 0; j < i; j++) used[pages[j] / PAGE_SIZE] = ALLOCATED;
        throw new RangeError(`freePages: 0x${Number(phys).toString(16)} is not an allocated page (or is listed twice)`);
      }
      used[page] = SEEN;
    }
    for (let i = 0; i < pages.length; i++) {
      const page = pages[i] / PAGE_SIZE;
      used[page] = FREE;
      if (page > this.topCursor) this.topCursor = page;
      if (page < this.lowCursor) this.lowCursor = page;
    }
    this.free += pages.length;
  }

  private allocScattered(count: number, out: number[]): void {
    let page = this.topCursor;
    for (let n = 0; n < count; page--) {
      if (this.used[page] === FREE) {
        this.used[page] = ALLOCATED;
        out[n++] = page * PAGE_SIZE;
      }
    }
    this.free -= count;
    this.topCursor = page;
  }

  private allocContiguous(count: number, out: number[]): void {
    while (this.lowCursor < this.pageCount && this.used[this.lowCursor] !== FREE) this.lowCursor++;
    let run = 0;
    for (let page = this.lowCursor; page < this.pageCount; page++) {
      run = this.used[page] === FREE ? run + 1 : 0;
      if (run === count) {
        const first = page - count + 1;
        this.used.fill(ALLOCATED, first, page + 1);
        for (let i = 0; i < count; i++) out[i] = (first + i) * PAGE_SIZE;
        this.free -= count;
        return;
      }
    }
    throw new GuestMemoryExhaustedError(`no run of ${count} contiguous free pages (${this.free} pages free)`);
  }
}
