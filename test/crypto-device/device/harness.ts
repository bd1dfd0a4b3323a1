// Test-side "driver" for the device model: places buffers in guest RAM with page lists, programs BAR0 and waits
// (always with a bound) for interrupts. Tests use it to drive the device register by register.

import { createPciCryptoDevice, type PciCryptoDeviceModel, type PciCryptoDeviceTestOptions } from '../../../crypto-device/device/index.js';
import type { CryptoDeviceOptions } from '../../../crypto-device/device/contract.js';
import { COMMAND, PAGE_SIZE, REG, type RegName } from '../../../crypto-device/device/registers.js';

export const MiB = 1024 * 1024;

export async function makeDevice(
  options: CryptoDeviceOptions & PciCryptoDeviceTestOptions = {},
): Promise<PciCryptoDeviceModel> {
  return createPciCryptoDevice({ guestMemoryBytes: 64 * MiB, keyString: 'secret', ...options });
}

export function rd(dev: PciCryptoDeviceModel, name: RegName): number {
  return dev.mmioRead(REG[name].offset, REG[name].width) as number;
}
export function wr(dev: PciCryptoDeviceModel, name: RegName, value: number): void {
  dev.mmioWrite(REG[name].offset, REG[name].width, value);
}

/** A buffer placed in guest RAM behind a page list, as the original driver builds it. */
export interface PlacedBuffer {
  /** Page frame number of the list (what goes into DmaXxxAddress). */
  listPfn: number;
  /** Data pages (physical addresses), in list order. */
  pages: number[];
  listPages: number[];
  offset: number;
  length: number;
  read(length?: number): Uint8Array;
  write(data: Uint8Array): void;
}

/**
 * Places `length` bytes starting `offset` bytes into the first page. Pages are scattered unless `contiguous`.
 * The list gets one entry per page spanned; the first carries the in-page offset.
 */
export function placeBuffer(
  dev: PciCryptoDeviceModel,
  length: number,
  opts: { offset?: number; contiguous?: boolean; data?: Uint8Array } = {},
): PlacedBuffer {
  const mem = dev.memory;
  const offset = opts.offset ?? 0;
  const pageCount = Math.max(1, Math.ceil((offset + length) / PAGE_SIZE));
  const pages = mem.allocPages(pageCount, { contiguous: opts.contiguous });
  const listPages = mem.allocPages(Math.ceil((pageCount * 8) / PAGE_SIZE), { contiguous: true });
  const entries = pages.map((p, i) => (i === 0 ? p + offset : p));
  writeEntries(dev, listPages[0], entries);
  const forEachRun = (len: number, fn: (phys: number, pos: number, n: number) => void) => {
    let pos = 0;
    for (let i = 0; pos < len; i++) {
      const start = i === 0 ? pages[0] + offset : pages[i];
      const n = Math.min(len - pos, PAGE_SIZE - (start % PAGE_SIZE));
      fn(start, pos, n);
      pos += n;
    }
  };
  const buf: PlacedBuffer = {
    listPfn: listPages[0] / PAGE_SIZE,
    pages,
    listPages,
    offset,
    length,
    read(len = length) {
      const out = new Uint8Array(len);
      forEachRun(len, (phys, pos, n) => out.set(mem.bytes.subarray(phys, phys + n), pos));
      return out;
    },
    write(data) {
      forEachRun(data.length, (phys, pos, n) => mem.bytes.set(data.subarray(pos, pos + n), phys));
    },
  };
  if (opts.data) buf.write(opts.data);
  return buf;
}

/** Writes u64 little-endian entries at physical address `at`. */
export function writeEntries(dev: PciCryptoDeviceModel, at: number, entries: readonly (number | bigint)[]): void {
  const view = new DataView(dev.memory.bytes.buffer);
  entries.forEach((e, i) => view.setBigUint64(at + i * 8, BigInt(e), true));
}

export function freeBuffer(dev: PciCryptoDeviceModel, b: PlacedBuffer): void {
  dev.memory.freePages(b.pages);
  dev.memory.freePages(b.listPages);
}

export function program(
  dev: PciCryptoDeviceModel,
  input: { listPfn: number; length: number; pagesCount?: number } | undefined,
  output: { listPfn: number; length: number; pagesCount?: number } | undefined,
): void {
  wr(dev, 'DMA_IN_ADDRESS', input?.listPfn ?? 0);
  wr(dev, 'DMA_IN_PAGES_COUNT', input?.pagesCount ?? 0);
  wr(dev, 'DMA_IN_SIZE', input?.length ?? 0);
  wr(dev, 'DMA_OUT_ADDRESS', output?.listPfn ?? 0);
  wr(dev, 'DMA_OUT_PAGES_COUNT', output?.pagesCount ?? 0);
  wr(dev, 'DMA_OUT_SIZE', output?.length ?? 0);
}

/**
 * Records interrupts like a WDF ISR: in INTx / single-MSI mode it reads and clears the three flags and reports
 * "not handled" when none was set; in multi-MSI mode the vector says which event happened.
 */
export class IrqRecorder {
  readonly events: { vector: number; flags: number }[] = [];
  private waiters: { n: number; resolve: () => void }[] = [];
  readonly disconnect: () => void;
  unhandled = 0;

  constructor(
    private readonly dev: PciCryptoDeviceModel,
    private readonly opts: { clearFlags?: boolean; attach?: boolean } = {},
  ) {
    this.disconnect = opts.attach === false ? () => {} : dev.connectInterrupt((vector) => this.handle(vector));
  }

  /** The ISR body; public so a test can put this driver's ISR on another device's (shared) line. */
  handle(vector: number): boolean {
    const dev = this.dev;
    let flags = 0;
    if (dev.interruptMode !== 'msi-multi' || this.opts.clearFlags) {
      const e = rd(dev, 'MSI_ERROR_FLAG') !== 0;
      const r = rd(dev, 'MSI_READY_FLAG') !== 0;
      const s = rd(dev, 'MSI_RESET_FLAG') !== 0;
      flags = (e ? 1 : 0) | (r ? 2 : 0) | (s ? 4 : 0);
      if (flags === 0) {
        this.unhandled++;
        return false; // shared line: not ours
      }
      if (e) wr(dev, 'MSI_ERROR_FLAG', 0);
      if (r) wr(dev, 'MSI_READY_FLAG', 0);
      if (s) wr(dev, 'MSI_RESET_FLAG', 0);
    }
    this.events.push({ vector, flags });
    this.waiters = this.waiters.filter((w) => {
      if (this.events.length >= w.n) w.resolve();
      return this.events.length < w.n;
    });
    return true;
  }

  /** Resolves once `n` interrupts in total were handled; rejects after `timeoutMs`. */
  waitFor(n: number, timeoutMs = 10_000): Promise<void> {
    if (this.events.length >= n) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for interrupt #${n} (got ${this.events.length})`)), timeoutMs);
      this.waiters.push({
        n,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }
}

/** Polls until the device is idle (Command 0, State 0); bounded. */
export async function waitIdle(dev: PciCryptoDeviceModel, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (rd(dev, 'COMMAND') !== COMMAND.IDLE || rd(dev, 'STATE') !== 0) {
    if (Date.now() > end) throw new Error('device did not become idle');
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Resolves after pending macrotasks (worker messages, setImmediate deliveries) had a chance to run. */
export function settle(rounds = 3): Promise<void> {
  return new Promise((resolve) => {
    let left = rounds;
    const step = () => (--left <= 0 ? resolve() : setTimeout(step, 5));
    setTimeout(step, 5);
  });
}

export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
export const fromHex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));
