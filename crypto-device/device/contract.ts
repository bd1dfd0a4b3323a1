// The hardware-facing contract of the emulated PCI crypto device: what a driver may touch (BAR0, guest RAM,
// interrupts). Implemented by pci-crypto-device.ts; consumed by crypto-device/driver/.

import type { Logger } from 'pino';
import type { EngineName } from '../engines/types.js';
import type { PhysicalMemory } from '../../kernel/physical-memory.js';

// Defined with the engines; re-exported because device options name it.
export type { EngineName };

/** INTx line-based; one MSI (vector 0 for every event); four MSIs (vector = interrupt number). */
export type InterruptMode = 'intx' | 'msi' | 'msi-multi';

/** Interrupt numbers (docs/crypto-device.md "Register file"): 0 common, 1 error, 2 ready, 3 reset. */
export const IRQ = { COMMON: 0, ERROR: 1, READY: 2, RESET: 3 } as const;

export interface CryptoDeviceOptions {
  /** The QEMU `aes_cbc_256` property; the AES key is SHA-256 of it. Undefined gives the all-zero key. */
  keyString?: string;
  engine?: EngineName;
  /** Guest RAM size in bytes (a multiple of 4096). Default 1 GiB, at most 4 GiB. */
  guestMemoryBytes?: number;
  /** Largest work unit between reset checks, in bytes. Default and maximum 65536. */
  chunkBytes?: number;
  /**
   * How long the idle worker waits for the next doorbell before it sleeps for good, in microseconds. Default 200;
   * 0 sleeps at once. The wait spins for at most 30 µs while spinning pays (adaptive-spin.ts), then naps in a futex
   * wait that the host's next ring ends, so back-to-back requests skip the slow path of a full sleep.
   */
  doorbellPollMicros?: number;
  /**
   * How long the host waits for a command's interrupt with its event loop turning (setImmediate), in microseconds.
   * Default 2000; 0 lets it sleep until the worker's wake-up message. Each turn reads the interrupt ring in shared
   * memory; after a short spin the turns nap (futex waits of at most 0.25 ms that the interrupt ends). Longer
   * commands outlast the wait and pay one wake-up.
   */
  completionPollMicros?: number;
  /** Guest mistakes are logged at debug level on a child of this logger. Optional. */
  logger?: Logger;
}

/** Guest physical memory: a SharedArrayBuffer the device worker reads and writes by physical address. */
/** Guest RAM is the machine's physical memory, allocated page by page. */
export type GuestMemory = PhysicalMemory;

/**
 * Called by the host-side interrupt controller. INTx: `messageId` is 0 and the call repeats while the line
 * stays asserted (level-triggered, shared line); return false when the interrupt was not this driver's.
 * MSI: `messageId` is the vector (0 in single-MSI mode).
 */
export type InterruptServiceRoutine = (messageId: number) => boolean;

export interface PciCryptoDevice {
  readonly pci: { readonly vendorId: 0x1111; readonly deviceId: 0x2222; readonly revision: 0; readonly name: 'pci-crypto' };
  readonly engine: EngineName;
  readonly memory: GuestMemory;
  /** BAR0 read. size 8 is split into two 4-byte reads (low first). Never throws for guest mistakes. */
  mmioRead(offset: number, size: 1 | 2 | 4 | 8): number | bigint;
  /** BAR0 write. Returns at once; a Command write only wakes the worker. Never throws for guest mistakes. */
  mmioWrite(offset: number, size: 1 | 2 | 4 | 8, value: number | bigint): void;
  /** What the OS granted at prepare-hardware time. */
  setInterruptMode(mode: InterruptMode): void;
  readonly interruptMode: InterruptMode;
  /** IoConnectInterrupt: returns the disconnect function. */
  connectInterrupt(isr: InterruptServiceRoutine): () => void;
  /** INTx line level as the interrupt controller sees it (for tests). */
  readonly intxAsserted: boolean;
  /** PCI bus reset (power-on): every register zero, the worker idle. */
  busReset(): void;
  /** Stop the worker thread and release guest memory. */
  destroy(): Promise<void>;
}
