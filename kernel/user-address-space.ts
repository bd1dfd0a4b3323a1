// A simulated user-mode address space: a page table from user virtual pages to (non-contiguous) physical pages.
// User buffers reach the driver by address, which is what lets the original's bad-address tests run unchanged.

import { NTSTATUS, type NtStatus } from './ntstatus.js';
import { ntError } from './nt-error.js';
import { PAGE_SIZE, type PhysicalMemory } from './physical-memory.js';
import type { UserBuffer } from './user-buffer.js';
import { copyBytes } from './byte-copy.js';

/** MmHighestUserAddress on x64 Windows: the last byte a user buffer may touch. */
export const DEFAULT_HIGHEST_USER_ADDRESS = 0x7fff_fffe_ffffn;
/** Page tables at least this long are recycled (sparePages): past 16K entries V8 puts an array in large-object space. */
const LARGE_PAGE_TABLE = 8192;
/** The first 64 KiB stay unmapped, as on Windows, so small bogus pointers (1, 100) fault. */
const FIRST_USER_PAGE = 0x10;

export interface MapOptions {
  /**
   * Ask the guest allocator for physically contiguous pages (fast: the device can coalesce them). Default
   * false: scattered pages, so every scatter-gather path is exercised. Falls back to scattered when the
   * allocator cannot find a contiguous run.
   */
  contiguous?: boolean;
  /** Zero the pages (default true). The library skips it for buffers it overwrites completely. */
  zero?: boolean;
}

export interface AllocBufferOptions extends MapOptions {
  /** Where the data starts inside its first page (0..4095). */
  offsetInPage?: number;
  /** Mapped pages before and after the data, filled with `guardByte`, to catch stray DMA writes. */
  guardPages?: number;
  guardByte?: number;
}

interface Mapping {
  base: number;
  pageCount: number;
  /** Physical address of each page, in virtual order. */
  pages: number[];
  /** Outstanding page locks (MDLs of requests in flight). */
  locks: number;
  /** Unmapped while locked: the guest pages go back to the allocator when the last lock drops. */
  freeOnUnlock: boolean;
}

/** Locked pages of one range, as an MDL: the pages cannot be reused until `unlock` (MmUnlockPages). */
export interface LockedPages {
  /** The physical address of each locked page (a copy; the driver's hot path reads `table` instead). */
  readonly pages: readonly number[];
  /** The mapping's own page table: the locked pages are table[first .. first + count). Read-only. */
  readonly table: readonly number[];
  readonly first: number;
  readonly count: number;
  unlock(): void;
}

export class UserAddressSpace {
  readonly highestUserAddress: bigint;
  /**
   * The page table, one entry per mapping (its pages in virtual order) rather than per page: a 256 MiB buffer
   * would otherwise cost 65536 map insertions to create and as many lookups per request. Mappings never touch
   * (an unmapped page follows each), so a range that leaves its mapping is unmapped memory.
   */
  private readonly mappings = new Map<number, Mapping>();
  /** Mapping bases in ascending order. */
  private readonly bases: number[] = [];
  /**
   * Where the search for a free range starts (next fit). Addresses are handed out upwards, so a freed range is
   * reused only after the cursor has gone round the whole space: a stale pointer faults instead of aliasing for
   * as long as possible, and the space is never exhausted while freed ranges exist.
   */
  private nextPage = FIRST_USER_PAGE;
  /** One past the last page a mapping's trailing unmapped page may be (that page must be a user page too). */
  private readonly endPage: number;
  private readonly defaultContiguous: boolean;
  /**
   * The page table of the last large mapping freed, reused by the next large map. A JS array of more than 16K
   * entries (64 MiB of pages) lives in V8's large-object space, which maps fresh memory for each one: on a VM
   * where a first touch costs ~25 µs per page, building one cost 1-3 ms per 64 MiB request. One array at most.
   */
  private sparePages: number[] | null = null;

  constructor(
    readonly memory: PhysicalMemory,
    options: { highestUserAddress?: bigint; defaultContiguous?: boolean } = {},
  ) {
    this.highestUserAddress = options.highestUserAddress ?? DEFAULT_HIGHEST_USER_ADDRESS;
    this.defaultContiguous = options.defaultContiguous ?? false;
    this.endPage = Number((this.highestUserAddress + 1n) / BigInt(PAGE_SIZE));
  }

  /** VirtualAlloc(MEM_COMMIT): maps `pageCount` pages and leaves one unmapped page after them. */
  map(pageCount: number, options: MapOptions = {}): bigint {
    if (!Number.isInteger(pageCount) || pageCount <= 0) throw new RangeError(`pageCount must be a positive integer, got ${pageCount}`);
    const base = this.findFree(pageCount, this.nextPage) ?? this.findFree(pageCount, FIRST_USER_PAGE);
    if (base === null) throw ntError(NTSTATUS.STATUS_INSUFFICIENT_RESOURCES, 'user address space exhausted');
    const pages = this.allocPhysical(pageCount, options.contiguous ?? this.defaultContiguous);
    this.nextPage = base + pageCount + 1;
    this.mappings.set(base, { base, pageCount, pages, locks: 0, freeOnUnlock: false });
    // Usually appended (the cursor is past every mapping); after a wrap it lands between two.
    const at = this.indexAtOrBelow(base) + 1;
    if (at === this.bases.length) this.bases.push(base);
    else this.bases.splice(at, 0, base);
    if (options.zero ?? true) this.zeroPhysical(pages);
    return BigInt(base) * BigInt(PAGE_SIZE);
  }

  /** VirtualFree(MEM_RELEASE) of a region returned by `map`. Unknown or already freed regions are ignored. */
  unmap(base: bigint): void {
    const vpn = Number(base / BigInt(PAGE_SIZE));
    const mapping = this.mappings.get(vpn);
    if (!mapping) return;
    this.mappings.delete(vpn);
    this.bases.splice(this.indexOfBase(vpn), 1);
    // The user's view is gone at once; pages a running DMA still holds are freed when its lock drops, so a
    // released buffer can never be handed to someone else while the device writes into it.
    if (mapping.locks > 0) {
      mapping.freeOnUnlock = true;
    } else {
      this.memory.freePages(mapping.pages);
      if (mapping.pages.length >= LARGE_PAGE_TABLE) this.sparePages = mapping.pages;
    }
  }

  /** Pages currently mapped (for leak checks). */
  get mappedPageCount(): number {
    let n = 0;
    for (const m of this.mappings.values()) n += m.pageCount;
    return n;
  }

  /** A buffer of `length` bytes (possibly 0) with optional in-page offset and guard pages around it. */
  allocBuffer(length: number, options: AllocBufferOptions = {}): MappedUserBuffer {
    if (!Number.isInteger(length) || length < 0) throw new RangeError(`length must be a non-negative integer, got ${length}`);
    const offset = options.offsetInPage ?? 0;
    if (!Number.isInteger(offset) || offset < 0 || offset >= PAGE_SIZE) throw new RangeError(`offsetInPage must be 0..4095, got ${offset}`);
    const guardPages = options.guardPages ?? 0;
    const dataPages = Math.ceil((offset + length) / PAGE_SIZE) || 1;
    const total = dataPages + 2 * guardPages;
    const base = this.map(total, options);
    const address = base + BigInt(guardPages * PAGE_SIZE + offset);
    const buffer = new MappedUserBuffer(this, base, address, length, guardPages, options.guardByte ?? 0);
    if (guardPages > 0) buffer.fillGuards();
    return buffer;
  }

  /** Whether every byte of [address, address+size) is mapped (size 0 is trivially true). */
  isMapped(address: bigint, size: number): boolean {
    if (size === 0) return true;
    if (this.checkRange(address, size) !== NTSTATUS.STATUS_SUCCESS) return false;
    return this.locate(address, size) !== null;
  }

  /**
   * The driver's range check (ProbeForRead/Write): address 0 with a non-zero size, arithmetic overflow, or a
   * range reaching past the highest user address is STATUS_INVALID_USER_BUFFER. Address 0 with size 0 is fine.
   */
  checkRange(address: bigint, size: number): NtStatus {
    if (size === 0) return NTSTATUS.STATUS_SUCCESS;
    if (address === 0n) return NTSTATUS.STATUS_INVALID_USER_BUFFER;
    const end = address + BigInt(size) - 1n;
    if (end >= 1n << 64n || end > this.highestUserAddress) return NTSTATUS.STATUS_INVALID_USER_BUFFER;
    return NTSTATUS.STATUS_SUCCESS;
  }

  /**
   * MmProbeAndLockPages: the physical address of every page the range spans, or null when some page is not
   * mapped (the caller turns that into STATUS_ACCESS_VIOLATION). Call `checkRange` first.
   */
  translatePages(address: bigint, size: number): number[] | null {
    if (size === 0) return [];
    const found = this.locate(address, size);
    if (!found) return null;
    return found.mapping.pages.slice(found.firstIndex, found.lastIndex + 1);
  }

  /** MmProbeAndLockPages: like `translatePages`, but the pages stay allocated until unlocked. */
  lockPages(address: bigint, size: number): LockedPages | null {
    const found = this.locate(address, size);
    if (!found) return null;
    found.mapping.locks++;
    return new PageLock(this.memory, found.mapping, found.firstIndex, found.lastIndex + 1 - found.firstIndex);
  }

  /** Copies user memory out; throws NtStatusError(STATUS_ACCESS_VIOLATION) on an unmapped byte. */
  read(address: bigint, length: number, target: Uint8Array = new Uint8Array(length)): Uint8Array {
    this.forEachRun(address, length, (phys, pos, n) => copyBytes(target, pos, this.memory.bytes.subarray(phys, phys + n)));
    return target;
  }

  /** Copies into user memory; throws NtStatusError(STATUS_ACCESS_VIOLATION) on an unmapped byte. */
  write(address: bigint, data: Uint8Array): void {
    this.forEachRun(address, data.length, (phys, pos, n) => copyBytes(this.memory.bytes, phys, data.subarray(pos, pos + n)));
  }

  fill(address: bigint, length: number, value: number): void {
    this.forEachRun(address, length, (phys, _pos, n) => this.memory.bytes.fill(value, phys, phys + n));
  }

  /** The mapping holding the whole range and the page indexes it spans there, or null (unmapped somewhere). */
  private locate(address: bigint, size: number): { mapping: Mapping; firstIndex: number; lastIndex: number } | null {
    const first = Number(address / BigInt(PAGE_SIZE));
    const last = Number((address + BigInt(size) - 1n) / BigInt(PAGE_SIZE));
    const i = this.indexAtOrBelow(first);
    if (i < 0) return null;
    const mapping = this.mappings.get(this.bases[i])!;
    if (last >= mapping.base + mapping.pageCount) return null;
    return { mapping, firstIndex: first - mapping.base, lastIndex: last - mapping.base };
  }

  /**
   * The first base at or after `from` where `pageCount` pages plus one unmapped page fit between the mappings
   * around it, or null. Only the mappings from `from` on are visited.
   */
  private findFree(pageCount: number, from: number): number | null {
    let i = this.indexAtOrBelow(from);
    let candidate = from;
    if (i >= 0) {
      const below = this.mappings.get(this.bases[i])!;
      candidate = Math.max(candidate, below.base + below.pageCount + 1);
    }
    for (i += 1; ; i++) {
      const limit = i < this.bases.length ? this.bases[i] : this.endPage;
      // The pages and the unmapped page after them must end at or before the next mapping (or the space's end).
      if (candidate + pageCount + 1 <= limit) return candidate;
      if (i >= this.bases.length) return null;
      const m = this.mappings.get(this.bases[i])!;
      candidate = m.base + m.pageCount + 1;
    }
  }

  /** Index in `bases` of the last base <= vpn, or -1. */
  private indexAtOrBelow(vpn: number): number {
    let lo = 0;
    let hi = this.bases.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.bases[mid] <= vpn) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  private indexOfBase(vpn: number): number {
    const i = this.indexAtOrBelow(vpn);
    return i >= 0 && this.bases[i] === vpn ? i : -1;
  }

  /** Calls `fn` once per physically contiguous run of the range (coalescing adjacent pages for speed). */
  private forEachRun(address: bigint, length: number, fn: (phys: number, pos: number, n: number) => void): void {
    if (length === 0) return;
    const range = this.checkRange(address, length);
    if (range !== NTSTATUS.STATUS_SUCCESS) throw ntError(range);
    const found = this.locate(address, length);
    if (!found) throw ntError(NTSTATUS.STATUS_ACCESS_VIOLATION);
    const pages = found.mapping.pages;
    const offset = Number(address % BigInt(PAGE_SIZE));
    let runStart = pages[found.firstIndex] + offset;
    let runLength = Math.min(length, PAGE_SIZE - offset);
    let pos = 0;
    for (let i = found.firstIndex + 1; i <= found.lastIndex; i++) {
      const n = Math.min(PAGE_SIZE, length - pos - runLength);
      if (pages[i] === runStart + runLength) {
        runLength += n;
      } else {
        fn(runStart, pos, runLength);
        pos += runLength;
        runStart = pages[i];
        runLength = n;
      }
    }
    fn(runStart, pos, runLength);
  }

  private allocPhysical(count: number, contiguous: boolean): number[] {
    const spare = this.sparePages !== null && count >= LARGE_PAGE_TABLE && this.sparePages.length >= count ? this.sparePages : undefined;
    try {
      if (contiguous) {
        try {
          const pages = this.memory.allocPages(count, { contiguous: true, into: spare });
          if (pages === spare) this.sparePages = null;
          return pages;
        } catch {
          // Fragmented guest memory: scattered pages work too, only slower.
        }
      }
      const pages = this.memory.allocPages(count, { into: spare });
      if (pages === spare) this.sparePages = null;
      return pages;
    } catch (err) {
      throw ntError(NTSTATUS.STATUS_INSUFFICIENT_RESOURCES, `guest memory exhausted: ${(err as Error).message}`);
    }
  }

  private zeroPhysical(pages: readonly number[]): void {
    const bytes = this.memory.bytes;
    let start = pages[0];
    let end = start + PAGE_SIZE;
    for (let i = 1; i < pages.length; i++) {
      if (pages[i] === end) {
        end += PAGE_SIZE;
      } else {
        bytes.fill(0, start, end);
        start = pages[i];
        end = start + PAGE_SIZE;
      }
    }
    bytes.fill(0, start, end);
  }
}

/**
 * The MDL of one locked range. A class rather than a closure: this is made twice per device request. It points
 * into the mapping's page table instead of copying its part: a JS array of more than 16K entries lands in V8's
 * large-object space, which maps fresh memory for each one, and on a VM where a first touch costs ~25 µs per page
 * the copy for a 64 MiB buffer cost 1-2 ms (35 page faults).
 */
class PageLock implements LockedPages {
  private locked = true;

  constructor(
    private readonly memory: PhysicalMemory,
    private readonly mapping: Mapping,
    readonly first: number,
    readonly count: number,
  ) {}

  get table(): readonly number[] {
    return this.mapping.pages;
  }

  get pages(): readonly number[] {
    return this.mapping.pages.slice(this.first, this.first + this.count);
  }

  unlock(): void {
    if (!this.locked) return;
    this.locked = false;
    const mapping = this.mapping;
    mapping.locks--;
    if (mapping.locks === 0 && mapping.freeOnUnlock) {
      mapping.freeOnUnlock = false;
      this.memory.freePages(mapping.pages);
    }
  }
}

/** A user buffer inside the simulated address space; `address` is what goes into an IOCTL's Buffer struct. */
export class MappedUserBuffer implements UserBuffer {
  private released = false;

  constructor(
    private readonly space: UserAddressSpace,
    /** Start of the whole mapping (guard pages included). */
    readonly regionBase: bigint,
    readonly address: bigint,
    readonly length: number,
    readonly guardPages: number,
    readonly guardByte: number,
  ) {}

  /** Bytes from the start of the first guard page to the data. */
  get leadingGuardBytes(): number {
    return Number(this.address - this.regionBase);
  }

  /** Bytes after the data up to the end of the last guard page. */
  get trailingGuardBytes(): number {
    const dataEnd = Number(this.address - this.regionBase) + this.length;
    const dataPages = Math.ceil(dataEnd / PAGE_SIZE) || 1;
    return (dataPages + this.guardPages) * PAGE_SIZE - dataEnd;
  }

  write(offset: number, chunk: Uint8Array): void {
    this.assertInside(offset, chunk.length);
    this.space.write(this.address + BigInt(offset), chunk);
  }

  read(offset = 0, length = this.length - offset): Uint8Array {
    this.assertInside(offset, length);
    return this.space.read(this.address + BigInt(offset), length);
  }

  /** Copies `target.length` bytes starting at `offset` into `target` (no intermediate array). */
  readInto(offset: number, target: Uint8Array): Uint8Array {
    this.assertInside(offset, target.length);
    return this.space.read(this.address + BigInt(offset), target.length, target);
  }

  fill(value: number, offset = 0, length = this.length - offset): void {
    this.assertInside(offset, length);
    this.space.fill(this.address + BigInt(offset), length, value);
  }

  /** Re-paints everything around the data with the guard byte. */
  fillGuards(): void {
    this.space.fill(this.regionBase, this.leadingGuardBytes, this.guardByte);
    this.space.fill(this.address + BigInt(this.length), this.trailingGuardBytes, this.guardByte);
  }

  /** True when no byte around the data differs from the guard byte. */
  guardsIntact(): boolean {
    const lead = this.space.read(this.regionBase, this.leadingGuardBytes);
    const trail = this.space.read(this.address + BigInt(this.length), this.trailingGuardBytes);
    return lead.every((b) => b === this.guardByte) && trail.every((b) => b === this.guardByte);
  }

  get isReleased(): boolean {
    return this.released;
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.space.unmap(this.regionBase);
  }

  private assertInside(offset: number, length: number): void {
    if (this.released) throw ntError(NTSTATUS.STATUS_ACCESS_VIOLATION, 'user buffer already released');
    if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0 || offset + length > this.length) {
      throw new RangeError(`range ${offset}+${length} is outside a ${this.length}-byte user buffer`);
    }
  }
}
