// The device's scatter-gather DMA: walks an IN or OUT page list straight out of guest memory
// (docs/crypto-device.md "DMA page lists"), coalescing physically adjacent pages into one run.

import { MAX_PHYS_ADDR, PAGE_SHIFT, PAGE_SIZE } from './registers.js';

const PAGE_MASK = PAGE_SIZE - 1;
const TWO_32 = 0x1_0000_0000;
/** Highest u32 that an entry's high word may hold for the entry to fit in 44 bits. */
const MAX_HIGH_WORD = Math.floor(MAX_PHYS_ADDR / TWO_32);

/** A physically contiguous run of guest memory: [start, start + length). */
export interface DmaSegment {
  start: number;
  length: number;
}

/** Why a walk failed: every one of these is a DMA error to the guest (ErrorCode 1). */
export type DmaFault =
  | 'zero-entry' // an entry of 0 (docs/crypto-device.md: "An entry of 0 is a DMA error")
  | 'entry-beyond-44-bits'
  | 'entry-outside-ram'
  | 'list-outside-ram';

export class DmaError extends Error {
  constructor(
    readonly fault: DmaFault,
    readonly physical: number,
  ) {
    super(`DMA error: ${fault} at 0x${physical.toString(16)}`);
    this.name = 'DmaError';
  }
}

/**
 * Position in one page list. Like the original's DmaBuf: the address of the current list entry, the offset
 * reached inside the entry's page, and the bytes left. The first entry may point into the middle of a page; the
 * cursor moves to the next entry (8 bytes on) when it reaches the end of the current page. The page count
 * register is never consulted: the byte size alone bounds the walk.
 */
export class DmaCursor {
  private entryAddr: number;
  private entry = -1; // cached value of the current entry; -1 = not read yet
  private pageOffset = 0;
  private left: number;

  constructor(
    private readonly mem: Uint8Array,
    private readonly view: DataView,
    listPfn: number,
    sizeBytes: number,
  ) {
    this.entryAddr = listPfn * 2 ** PAGE_SHIFT;
    this.left = sizeBytes;
  }

  /** Set once the walk has hit a bad entry; the cursor then takes nothing more. */
  fault: DmaError | undefined;

  get remaining(): number {
    return this.left;
  }

  /**
   * Appends up to `maxBytes` of the list to `out` (merging a run that continues the previous segment) and returns
   * the bytes taken. A bad entry stops the walk and sets `fault`; the segments taken before it stay valid, so an
   * OUT walk can still move them ("Data already moved stays moved").
   */
  take(maxBytes: number, out: DmaSegment[]): number {
    let taken = 0;
    try {
      while (taken < maxBytes && this.left > 0 && this.fault === undefined) {
        taken += this.step(maxBytes - taken, out);
      }
    } catch (err) {
      if (!(err instanceof DmaError)) throw err;
      this.fault = err;
    }
    return taken;
  }

  /** Takes bytes from the current entry only; returns how many. */
  private step(max: number, out: DmaSegment[]): number {
    if (this.entry < 0) this.entry = this.readEntry();
    const phys = this.entry + this.pageOffset;
    const toPageEnd = PAGE_SIZE - (phys & PAGE_MASK);
    const n = Math.min(toPageEnd, this.left, max);
    if (phys + n > this.mem.length) throw new DmaError('entry-outside-ram', phys);
    const last = out.length > 0 ? out[out.length - 1] : undefined;
    if (last !== undefined && last.start + last.length === phys) last.length += n;
    else out.push({ start: phys, length: n });
    this.left -= n;
    if (n === toPageEnd) {
      this.entryAddr += 8;
      this.entry = -1;
      this.pageOffset = 0;
    } else {
      this.pageOffset += n;
    }
    return n;
  }

  /** Reads the u64 entry at entryAddr as two little-endian u32 halves (exact: 44-bit values fit a double). */
  private readEntry(): number {
    const at = this.entryAddr;
    if (at + 8 > this.mem.length) throw new DmaError('list-outside-ram', at);
    const lo = this.view.getUint32(at, true);
    const hi = this.view.getUint32(at + 4, true);
    if (hi > MAX_HIGH_WORD) throw new DmaError('entry-beyond-44-bits', hi * TWO_32 + lo);
    const value = hi * TWO_32 + lo;
    if (value === 0) throw new DmaError('zero-entry', at);
    if (value >= this.mem.length) throw new DmaError('entry-outside-ram', value);
    return value;
  }
}
