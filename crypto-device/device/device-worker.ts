// The device's own thread (the QEMU worker_thread role): sleeps on the doorbell, runs one command at a time, and
// posts raised interrupts to the host thread. Started by pci-crypto-device.ts.

import { parentPort, workerData } from 'node:worker_threads';
import { getEngine } from '../engines/index.js';
import type { EngineName } from './contract.js';
import { deriveDeviceKey, runPendingCommand, type DeviceCore } from './commands.js';
import { RegisterFile } from './registers.js';

/** What the host hands the worker at start. The key string stays inside this thread after derivation. */
export interface DeviceWorkerData {
  regs: SharedArrayBuffer;
  memory: SharedArrayBuffer;
  engine: EngineName;
  keyString: string | undefined;
  chunkBytes: number;
  debug: boolean;
}

/** Messages the worker posts to the host. */
export type DeviceWorkerMessage =
  | { type: 'irq'; irqs: number[] }
  | { type: 'ready' }
  | { type: 'idle'; doorbell: number }
  | { type: 'log'; level: 'debug' | 'error'; msg: string; fields?: Record<string, unknown> };

function main(port: NonNullable<typeof parentPort>, data: DeviceWorkerData): void {
  const post = (m: DeviceWorkerMessage) => port.postMessage(m);
  const engine = getEngine(data.engine);
  const mem = new Uint8Array(data.memory);
  const core: DeviceCore = {
    regs: new RegisterFile(data.regs),
    mem,
    memView: new DataView(data.memory),
    engine,
    key: deriveDeviceKey(engine, data.keyString),
    chunkBytes: data.chunkBytes,
    signal: (irqs) => post({ type: 'irq', irqs: [...irqs] }),
    debug: data.debug ? (msg, fields) => post({ type: 'log', level: 'debug', msg, fields }) : undefined,
    error: (msg, fields) => post({ type: 'log', level: 'error', msg, fields }),
  };
  const { regs } = core;
  post({ type: 'ready' });
  // Read the doorbell before looking at Command, so a write that lands in between wakes the wait at once.
  for (;;) {
    if (regs.stopRequested()) break;
    const seen = regs.doorbell();
    if (runPendingCommand(core)) continue;
    // Going to sleep: tell the host which doorbell we have answered, after every interrupt message of it.
    post({ type: 'idle', doorbell: seen });
    regs.waitDoorbell(seen);
  }
  core.key.fill(0);
}

if (parentPort) main(parentPort, workerData as DeviceWorkerData);
