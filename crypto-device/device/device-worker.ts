// The device's own thread (the QEMU worker_thread role): sleeps on the doorbell, runs one command at a time, and
// posts raised interrupts to the host thread. Started by pci-crypto-device.ts.

import { parentPort, workerData } from 'node:worker_threads';
import { nativeEngine } from '../engines/native.js';
import type { CryptoEngine } from '../engines/types.js';
import { runAllocatorPriming } from './allocator-tuning.js';
import type { EngineName } from './contract.js';
import { deriveDeviceKey, runPendingCommand, type DeviceCore } from './commands.js';
import { IrqMailbox } from './irq-mailbox.js';
import { RegisterFile } from './registers.js';

/** What the host hands the worker at start. The key string stays inside this thread after derivation. */
export interface DeviceWorkerData {
  regs: SharedArrayBuffer;
  /** The interrupt ring (irq-mailbox.ts). */
  irqs: SharedArrayBuffer;
  memory: SharedArrayBuffer;
  engine: EngineName;
  keyString: string | undefined;
  chunkBytes: number;
  doorbellPollMicros: number;
  debug: boolean;
  /** Raise malloc's thresholds after the first large command (the first device of the process; allocator-tuning.ts). */
  primeAllocator?: boolean;
}

/** Messages the worker posts to the host. */
export type DeviceWorkerMessage =
  /** Interrupts wait in the shared ring; this wakes a host that is not polling it. */
  | { type: 'irq-hint' }
  /**
   * An interrupt the ring had no room for, with its sequence number. `doorbell`: the doorbell value when it was
   * raised; every signal ends the command it belongs to.
   */
  | { type: 'irq'; seq: number; irqs: number[]; doorbell: number }
  | { type: 'ready' }
  | { type: 'idle'; doorbell: number }
  | { type: 'log'; level: 'debug' | 'error'; msg: string; fields?: Record<string, unknown> };

/** Input size of the command after which the worker primes malloc (the size where priming showed a gain). */
const PRIME_AFTER_BYTES = 1024 * 1024;

/**
 * The engine, its module loaded only when this device uses it: noble's AES builds its lookup tables as it loads,
 * ~15 ms of every worker's start-up (each device has one) for a device that hashes with node:crypto.
 */
async function loadEngine(name: EngineName): Promise<CryptoEngine> {
  if (name === 'native') return nativeEngine;
  if (name === 'noble') return (await import('../engines/noble.js')).nobleEngine;
  throw new RangeError(`unknown crypto engine '${String(name)}' (expected native or noble)`);
}

function main(port: NonNullable<typeof parentPort>, data: DeviceWorkerData, engine: CryptoEngine): void {
  const post = (m: DeviceWorkerMessage) => port.postMessage(m);
  const mem = new Uint8Array(data.memory);
  const regs = new RegisterFile(data.regs);
  const mailbox = new IrqMailbox(data.irqs);
  /** Doorbell value carried by the last irq message (-1: none yet). */
  let signalledAt = -1;
  const core: DeviceCore = {
    regs,
    mem,
    memView: new DataView(data.memory),
    engine,
    key: deriveDeviceKey(engine, data.keyString),
    chunkBytes: data.chunkBytes,
    signal: (irqs) => {
      signalledAt = regs.doorbell();
      const message = mailbox.post(irqs, signalledAt);
      if (message) post(message);
    },
    debug: data.debug ? (msg, fields) => post({ type: 'log', level: 'debug', msg, fields }) : undefined,
    error: (msg, fields) => post({ type: 'log', level: 'error', msg, fields }),
  };
  // Primed after the first command that moved PRIME_AFTER_BYTES, not at start: the priming leaves ~30 MB resident
  // and costs ~0.25 s of CPU while the service starts, and only large requests gain from it.
  let primePending = data.primeAllocator === true;
  post({ type: 'ready' });
  // Read the doorbell before looking at Command, so a write that lands in between wakes the wait at once.
  for (;;) {
    if (regs.stopRequested()) break;
    const seen = regs.doorbell();
    if (runPendingCommand(core)) {
      if (primePending && regs.get('DMA_IN_SIZE') >= PRIME_AFTER_BYTES) {
        primePending = false;
        runAllocatorPriming();
      }
      continue;
    }
    // Going to sleep: tell the host which doorbell we have answered, after every interrupt of it. An interrupt
    // already carried that doorbell when it ended the last command, and the host treats it as the idle notice
    // too: at most one message per request instead of two, which matters on a loaded machine, where every
    // cross-thread wake-up can cost a context switch.
    // Poll before the idle notice: a host that rings again within the poll window never learns we were idle.
    if (regs.pollDoorbell(seen, data.doorbellPollMicros)) continue;
    if (signalledAt !== seen) post({ type: 'idle', doorbell: seen });
    regs.waitDoorbell(seen);
  }
  core.key.fill(0);
}

if (parentPort) main(parentPort, workerData as DeviceWorkerData, await loadEngine((workerData as DeviceWorkerData).engine));
