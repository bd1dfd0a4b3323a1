// BAR0 of the PCI crypto device: ids, the register table with its bits, and the lock-guarded register file that the
// host thread (MMIO) and the device worker share through one SharedArrayBuffer (docs/crypto-device.md "Register file").
//
// Why not in pci-crypto-device.ts like edu.c keeps everything in one file: two threads need the same layout, and
// the worker must not load the host-side model (worker_threads, pino) just to know where State lives.

import { AdaptiveSpin } from './adaptive-spin.js';
import { IRQ } from './contract.js';

/** PCI identity (docs/crypto-device.md "PCI identity"). */
export const PCI_ID = { vendorId: 0x1111, deviceId: 0x2222, revision: 0, name: 'pci-crypto' } as const;

/** BAR0 size; every access must lie wholly inside it. */
export const BAR0_SIZE = 4096;
/** Bytes actually backed by registers; everything from here up reads as 0. */
export const REG_FILE_SIZE = 0x20;
export const PAGE_SIZE = 4096;
export const PAGE_SHIFT = 12;
/** The device addresses 44 bits of physical memory (docs/crypto-device.md "Register file", Addresses). */
export const MAX_PHYS_ADDR = 0xfff_ffff_ffff;

/** ErrorCode values. */
export const ERROR = { NONE: 0, DMA: 1, RESET: 2, WRITE_IO: 3, INTERNAL: 4 } as const;
/** State values. */
export const STATE = { READY: 0, RESETTING: 1, AES_CBC: 2, SHA2: 3 } as const;
/** Command values. */
export const COMMAND = { IDLE: 0, RESET: 1, AES_CBC_ENCRYPT: 2, AES_CBC_DECRYPT: 3, SHA256: 4 } as const;
/** Interrupt numbers (0 is the shared vector in single-MSI mode): the contract's IRQ. */
export const IRQ_NUM = IRQ;
/** IRQ status bits: the InterruptFlag mask bit of interrupt n is `(1 << n) >> 1`. */
export const IRQ_BIT = { ERROR: 0x01, READY: 0x02, RESET: 0x04 } as const;

/** Register offsets and widths, with the values and bits of each field beside it. */
export const REG = {
  ERROR_CODE: { offset: 0x00, width: 1, values: ERROR }, // device-owned: a driver write is error 3
  STATE: { offset: 0x01, width: 1, values: STATE }, // device-owned: a driver write is error 3
  COMMAND: { offset: 0x02, width: 1, values: COMMAND }, // 1..4 wakes the worker
  INTERRUPT_FLAG: { offset: 0x03, width: 1, bits: IRQ_BIT }, // bit (1 << n) >> 1 enables interrupt n; 0 at bus reset
  DMA_IN_ADDRESS: { offset: 0x04, width: 4 }, // pfn of the IN page list (physical >> 12)
  DMA_IN_PAGES_COUNT: { offset: 0x08, width: 4 }, // stored, never read by the device
  DMA_IN_SIZE: { offset: 0x0c, width: 4 },
  DMA_OUT_ADDRESS: { offset: 0x10, width: 4 },
  DMA_OUT_PAGES_COUNT: { offset: 0x14, width: 4 },
  DMA_OUT_SIZE: { offset: 0x18, width: 4 },
  MSI_ERROR_FLAG: { offset: 0x1c, width: 1 }, // device sets (non-zero = pending), driver clears
  MSI_READY_FLAG: { offset: 0x1d, width: 1 },
  MSI_RESET_FLAG: { offset: 0x1e, width: 1 },
} as const;
export type RegName = keyof typeof REG;

/** The DMA registers a reset clears (docs/crypto-device.md "Reset"). */
export const DMA_REGS = [
  'DMA_IN_ADDRESS',
  'DMA_IN_PAGES_COUNT',
  'DMA_IN_SIZE',
  'DMA_OUT_ADDRESS',
  'DMA_OUT_PAGES_COUNT',
  'DMA_OUT_SIZE',
] as const satisfies readonly RegName[];

/** Flag register and interrupt number for each IRQ status bit. */
const IRQ_SOURCES = [
  { bit: IRQ_BIT.ERROR, flag: 'MSI_ERROR_FLAG', irq: IRQ_NUM.ERROR },
  { bit: IRQ_BIT.READY, flag: 'MSI_READY_FLAG', irq: IRQ_NUM.READY },
  { bit: IRQ_BIT.RESET, flag: 'MSI_RESET_FLAG', irq: IRQ_NUM.RESET },
] as const;

/** Control words beside the registers (not guest-visible). */
const CTL = {
  LOCK: 0, // 0 free, 1 held: the io_mutex of the original
  DOORBELL: 1, // bumped on every accepted Command write; the worker sleeps on it
  STOP: 2, // 1 asks the worker to exit
  GENERATION: 3, // bumped by a bus reset so a running command ends silently
  BUSY: 4, // 1 while the worker runs a data command (so a bus reset can wait for it to stop)
  SLEEPING: 5, // 1 while the worker sleeps on the doorbell (so a ring can skip the wake-up call otherwise)
  HOLD: 6, // 1 while a never-ready fault holds the device: the worker leaves Command alone (fault-injector.ts)
} as const;
const CTL_WORDS = 8;
/**
 * How long either thread spins before it naps in a futex wait: longer than a 4 KiB command or the host's turn
 * between two back-to-back requests, short enough that a thread sharing the vCPU is not held up for long.
 */
export const SPIN_MICROS = 30;
const REGS_AT = CTL_WORDS * 4;
export const SHARED_REGS_BYTES = REGS_AT + REG_FILE_SIZE;

/**
 * The register file plus its control words. Every register access from either thread happens inside `locked`,
 * so a 4-byte field is never torn and a reset cannot slip between the worker's test of Command and its update.
 * The Atomics operations on LOCK order the plain DataView accesses (JS memory model: synchronizes-with).
 */
export class RegisterFile {
  readonly sab: SharedArrayBuffer;
  private readonly ctl: Int32Array;
  private readonly view: DataView;
  /** The worker's doorbell poll (pollDoorbell); each thread has its own RegisterFile, so this is the worker's. */
  private readonly doorbellSpin = new AdaptiveSpin(SPIN_MICROS);

  constructor(sab: SharedArrayBuffer = new SharedArrayBuffer(SHARED_REGS_BYTES)) {
    this.sab = sab;
    this.ctl = new Int32Array(sab, 0, CTL_WORDS);
    this.view = new DataView(sab, REGS_AT, REG_FILE_SIZE);
  }

  /**
   * Runs `fn` holding the register lock. Critical sections are a few loads and stores, never engine work.
   * A three-state futex mutex (Drepper, "Futexes Are Tricky", mutex 2): 0 free, 1 held, 2 held with possible
   * waiters. An uncontended lock and unlock is then two atomic operations and no Atomics.notify; a request makes
   * about fifteen register accesses.
   */
  locked<T>(fn: () => T): T {
    let c = Atomics.compareExchange(this.ctl, CTL.LOCK, 0, 1);
    if (c !== 0) {
      if (c !== 2) c = Atomics.exchange(this.ctl, CTL.LOCK, 2);
      while (c !== 0) {
        Atomics.wait(this.ctl, CTL.LOCK, 2, 1); // 1 ms bound: belt and braces, the algorithm loses no wake-up
        c = Atomics.exchange(this.ctl, CTL.LOCK, 2);
      }
    }
    try {
      return fn();
    } finally {
      if (Atomics.sub(this.ctl, CTL.LOCK, 1) !== 1) {
        Atomics.store(this.ctl, CTL.LOCK, 0);
        Atomics.notify(this.ctl, CTL.LOCK, 1);
      }
    }
  }

  // --- field access (callers hold the lock) ---
  get(name: RegName): number {
    const { offset, width } = REG[name];
    return width === 1 ? this.view.getUint8(offset) : this.view.getUint32(offset, true);
  }

  /** Stores `value` truncated to the field's width. */
  set(name: RegName, value: number): void {
    const { offset, width } = REG[name];
    if (width === 1) this.view.setUint8(offset, value & 0xff);
    else this.view.setUint32(offset, value >>> 0, true);
  }

  /** Raw little-endian read of `size` bytes at `offset`; bytes past the register file read 0. */
  readRaw(offset: number, size: 1 | 2 | 4): number {
    let value = 0;
    for (let i = size - 1; i >= 0; i--) {
      const at = offset + i;
      value = value * 256 + (at < REG_FILE_SIZE ? this.view.getUint8(at) : 0);
    }
    return value;
  }

  zeroAll(): void {
    for (let i = 0; i < REG_FILE_SIZE; i++) this.view.setUint8(i, 0);
  }

  /** True when any of the three interrupt flags is set (the INTx line level). */
  anyFlagSet(): boolean {
    return this.get('MSI_ERROR_FLAG') !== 0 || this.get('MSI_READY_FLAG') !== 0 || this.get('MSI_RESET_FLAG') !== 0;
  }

  /**
   * raise(bits): sets each interrupt's flag first, whether or not it is enabled, then returns the interrupt numbers
   * InterruptFlag lets through; the caller signals them after dropping the lock (docs/crypto-device.md "Interrupt
   * delivery"). Caller holds the lock.
   */
  raise(bits: number): number[] {
    const mask = this.get('INTERRUPT_FLAG');
    const deliver: number[] = [];
    for (const src of IRQ_SOURCES) {
      if ((bits & src.bit) === 0) continue;
      this.set(src.flag, 1);
      if ((mask & src.bit) !== 0) deliver.push(src.irq);
    }
    return deliver;
  }

  /** ErrorCode, then the error flag and interrupt. Caller holds the lock. */
  raiseError(code: number): number[] {
    this.set('ERROR_CODE', code);
    return this.raise(IRQ_BIT.ERROR);
  }

  /**
   * The reset of docs/crypto-device.md "Reset": clears ErrorCode, State, Command and the DMA registers, leaves
   * InterruptFlag and the flags, then sets MsiResetFlag and raises interrupt 3. Caller holds the lock.
   */
  deviceReset(): number[] {
    this.set('ERROR_CODE', ERROR.NONE);
    this.set('STATE', STATE.READY);
    this.set('COMMAND', COMMAND.IDLE);
    for (const name of DMA_REGS) this.set(name, 0);
    return this.raise(IRQ_BIT.RESET);
  }

  // --- control words (atomic, no lock needed) ---
  ringDoorbell(): void {
    Atomics.add(this.ctl, CTL.DOORBELL, 1);
    // A polling worker sees the add by itself; Atomics.notify takes V8's futex lock and, with a sleeper, makes a
    // wake-up syscall. Both accesses are sequentially consistent, as are the worker's store of SLEEPING and the
    // value check inside Atomics.wait: either this load sees 1 and wakes it, or its wait sees the new doorbell.
    if (Atomics.load(this.ctl, CTL.SLEEPING) !== 0) Atomics.notify(this.ctl, CTL.DOORBELL);
  }
  doorbell(): number {
    return Atomics.load(this.ctl, CTL.DOORBELL);
  }
  /** Sleeps until the doorbell moves past `seen` (or `timeoutMs`). */
  waitDoorbell(seen: number, timeoutMs?: number): void {
    Atomics.store(this.ctl, CTL.SLEEPING, 1);
    Atomics.wait(this.ctl, CTL.DOORBELL, seen, timeoutMs);
    Atomics.store(this.ctl, CTL.SLEEPING, 0);
  }
  /**
   * Waits up to `micros` for the doorbell to move past `seen`; true as soon as it does. It spins first (at most
   * SPIN_MICROS, and only while spinning pays: adaptive-spin.ts), then naps in a futex wait that the host's ring
   * cuts short (SLEEPING is set). A pure spin starved the host whenever the scheduler had put both threads on one
   * vCPU: every request then took the whole poll window plus a wake-up, ~240 µs with the 200 µs default.
   */
  pollDoorbell(seen: number, micros: number): boolean {
    if (micros <= 0) return false;
    const start = performance.now();
    const spin = Math.min(micros, this.doorbellSpin.next());
    if (spin > 0) {
      const spinEnd = start + spin / 1000;
      for (;;) {
        // Check the clock only every few hundred loads: performance.now() costs far more than Atomics.load.
        for (let i = 0; i < 256; i++) {
          if (Atomics.load(this.ctl, CTL.DOORBELL) !== seen) {
            this.doorbellSpin.record(true);
            return true;
          }
        }
        if (performance.now() >= spinEnd) break;
      }
      this.doorbellSpin.record(false);
    }
    const left = start + micros / 1000 - performance.now();
    if (left > 0) this.waitDoorbell(seen, left);
    return Atomics.load(this.ctl, CTL.DOORBELL) !== seen;
  }
  requestStop(): void {
    Atomics.store(this.ctl, CTL.STOP, 1);
    this.ringDoorbell();
  }
  stopRequested(): boolean {
    return Atomics.load(this.ctl, CTL.STOP) !== 0;
  }
  bumpGeneration(): void {
    Atomics.add(this.ctl, CTL.GENERATION, 1);
  }
  generation(): number {
    return Atomics.load(this.ctl, CTL.GENERATION);
  }
  setHold(hold: boolean): void {
    Atomics.store(this.ctl, CTL.HOLD, hold ? 1 : 0);
  }
  held(): boolean {
    return Atomics.load(this.ctl, CTL.HOLD) !== 0;
  }
  setBusy(busy: boolean): void {
    Atomics.store(this.ctl, CTL.BUSY, busy ? 1 : 0);
    if (!busy) Atomics.notify(this.ctl, CTL.BUSY);
  }
  /** Waits until the worker is out of its command; false if that took longer than `timeoutMs`. */
  waitNotBusy(timeoutMs: number): boolean {
    const end = Date.now() + timeoutMs;
    while (Atomics.load(this.ctl, CTL.BUSY) !== 0) {
      const left = end - Date.now();
      if (left <= 0) return false;
      Atomics.wait(this.ctl, CTL.BUSY, 1, left);
    }
    return true;
  }
}
