// DMA descriptions of user buffers (the original's MemCreateDmaForUserBuffer role): probe, lock, and build the
// u64 page list the device walks (docs/crypto-device.md "DMA page lists").

import { NTSTATUS, type NtStatus } from '../../kernel/ntstatus.js';
import type { GuestMemory } from '../device/contract.js';
import { MAX_PHYSICAL_ADDRESS, PAGE_SIZE } from './registers.js';
import type { LockedPages, UserAddressSpace } from '../../kernel/user-address-space.js';
import type { UserBufferDescriptor } from './ioctl-codes.js';

/** What the driver programs into the three DMA registers of one direction. */
export interface DmaProgram {
  /** Page frame number of the page list (physical >> 12); 0 for a zero-size buffer. */
  listPfn: number;
  pagesCount: number;
  sizeBytes: number;
}

export interface DmaUserMemory {
  readonly program: DmaProgram;
  /** Gives the page-list pages back and unlocks the user pages; call only once the device can no longer touch them. */
  free(): void;
}

const PAGE_SIZE_BIG = BigInt(PAGE_SIZE);

const EMPTY: DmaUserMemory = { program: { listPfn: 0, pagesCount: 0, sizeBytes: 0 }, free: () => undefined };

/**
 * Probes and locks one user buffer and writes its page list into guest memory. A zero-size buffer is
 * programmed as address 0 / count 0 / size 0 whatever its address (docs/crypto-device.md "The driver").
 */
export function createDmaForUserBuffer(
  space: UserAddressSpace,
  memory: GuestMemory,
  buffer: UserBufferDescriptor,
): { status: NtStatus; dma?: DmaUserMemory } {
  if (buffer.size === 0) return { status: NTSTATUS.STATUS_SUCCESS, dma: EMPTY };
  const range = space.checkRange(buffer.address, buffer.size);
  if (range !== NTSTATUS.STATUS_SUCCESS) return { status: range };
  // MmProbeAndLockPages raises on a page that is not there; the driver's __except returns the exception code.
  const locked = space.lockPages(buffer.address, buffer.size);
  if (!locked) return { status: NTSTATUS.STATUS_ACCESS_VIOLATION };
  const count = locked.count;

  const listBytes = count * 8;
  const listPageCount = Math.ceil(listBytes / PAGE_SIZE);
  let listPages: number[];
  try {
    // The device reads the list as one contiguous array, so its pages must be physically adjacent.
    listPages = memory.allocPages(listPageCount, { contiguous: true });
  } catch {
    locked.unlock();
    return { status: NTSTATUS.STATUS_INSUFFICIENT_RESOURCES };
  }
  const listAddress = listPages[0];
  if (listAddress + listBytes - 1 > MAX_PHYSICAL_ADDRESS) {
    memory.freePages(listPages);
    locked.unlock();
    return { status: NTSTATUS.STATUS_INSUFFICIENT_RESOURCES };
  }
  writePageList(memory, listAddress, locked, Number(buffer.address % PAGE_SIZE_BIG));
  const program = { listPfn: Math.floor(listAddress / PAGE_SIZE), pagesCount: count, sizeBytes: buffer.size };
  return { status: NTSTATUS.STATUS_SUCCESS, dma: new ListedUserBuffer(program, memory, listPages, locked) };
}

/** A locked user buffer with its page list. A class rather than a closure: two are made per device request. */
class ListedUserBuffer implements DmaUserMemory {
  constructor(
    readonly program: DmaProgram,
    private readonly memory: GuestMemory,
    private readonly listPages: number[],
    private readonly locked: LockedPages,
  ) {}

  free(): void {
    this.memory.freePages(this.listPages);
    this.locked.unlock();
  }
}

/** One little-endian u64 per page; the first carries the buffer's offset within its page. */
function writePageList(memory: GuestMemory, listAddress: number, locked: LockedPages, firstOffset: number): void {
  const bytes = memory.bytes;
  const { table, first, count } = locked;
  const view = new DataView(bytes.buffer, bytes.byteOffset + listAddress, count * 8);
  for (let i = 0; i < count; i++) {
    const phys = i === 0 ? table[first] + firstOffset : table[first + i];
    // Two u32 halves avoid a BigInt per entry; guest addresses stay below 2^44 (< 2^53), so the split is exact.
    view.setUint32(i * 8, phys % 0x1_0000_0000, true);
    view.setUint32(i * 8 + 4, Math.floor(phys / 0x1_0000_0000), true);
  }
}

