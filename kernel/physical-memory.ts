// What the memory manager needs from the machine's RAM: a byte view and a page allocator. The emulated PCI
// device's guest memory is one; the kernel never needs to know which device owns it.

/** x64 page size: the unit of mapping, locking and scatter-gather. */
export const PAGE_SIZE = 4096;

export interface PhysicalMemory {
  readonly sizeBytes: number;
  /** A view over all of RAM; physical address = index. */
  readonly bytes: Uint8Array;
  /** One free 4 KiB page; never page 0 (physical address 0 means "no page" to DMA hardware). */
  allocPage(): number;
  /**
   * `count` pages; non-contiguous unless `contiguous` is set, so scatter-gather paths get exercised. `into`: an
   * array the caller no longer needs, filled and returned instead of a new one (an allocator may ignore it).
   */
  allocPages(count: number, options?: { contiguous?: boolean; into?: number[] }): number[];
  freePages(pages: readonly number[]): void;
  readonly freePageCount: number;
}
