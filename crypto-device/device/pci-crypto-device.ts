// The PCI crypto device model (docs/crypto-device.md), read top to bottom like QEMU's edu.c: identity, registers,
// state, IRQ helpers, MMIO, DMA (on the worker), reset, then realize/uninit. This file is the host-thread side;
// the command work runs in device-worker.ts.

import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { ENGINE_NAMES } from '../engines/types.js';
import type {
  CryptoDeviceOptions,
  EngineName,
  InterruptMode,
  InterruptServiceRoutine,
  PciCryptoDevice,
} from './contract.js';
import { MAX_CHUNK_BYTES } from './commands.js';
import type { DeviceWorkerData, DeviceWorkerMessage } from './device-worker.js';
import { claimAllocatorPriming } from './allocator-tuning.js';
import { DEFAULT_GUEST_MEMORY_BYTES, PagedGuestMemory } from './guest-memory.js';
import { AdaptiveSpin } from './adaptive-spin.js';
import { InterruptController } from './interrupt-controller.js';
import { IrqMailbox, type IrqSignal } from './irq-mailbox.js';
import { BAR0_SIZE, COMMAND, ERROR, PCI_ID, REG, REG_FILE_SIZE, RegisterFile, SPIN_MICROS, type RegName } from './registers.js';
import { bundledWorker } from './worker-bundle.js';
import { DeviceFaultInjector, DeviceFaultSpecError, type ArmedDeviceFault, type DeviceFaultSpec } from './fault-injector.js';

// ---------------------------------------------------------------------------------------------------------------
// Identity and registers: PCI_ID and REG live in registers.ts (shared with the worker). Summary of BAR0:
//   0x00 ErrorCode u8 (RO)  0x01 State u8 (RO)  0x02 Command u8  0x03 InterruptFlag u8 (bit (1<<n)>>1 = irq n)
//   0x04/0x08/0x0C DmaIn{Address,PagesCount,SizeInBytes} u32   0x10/0x14/0x18 DmaOut{...} u32
//   0x1C/0x1D/0x1E Msi{Error,Ready,Reset}Flag u8   0x1F unused   0x20.. read as 0
// ---------------------------------------------------------------------------------------------------------------

/** Options beyond the contract that tests use. */
export interface PciCryptoDeviceTestOptions {
  /** INTx: consecutive unhandled ISR calls before delivery stops (default 1000). */
  intxUnhandledLimit?: number;
  /** Initial interrupt mode (default 'intx', as a PCI function comes out of reset with MSI disabled). */
  interruptMode?: InterruptMode;
}

const DEFAULT_DOORBELL_POLL_MICROS = 200;
/** A poll longer than this would only burn CPU: by then sleeping and being woken is the cheaper way. */
const MAX_DOORBELL_POLL_MICROS = 10_000;

const DEFAULT_COMPLETION_POLL_MICROS = 2000;
/** Longest the host blocks its event loop in one nap of the completion poll. */
const COMPLETION_NAP_MS = 0.25;
const MAX_COMPLETION_POLL_MICROS = 100_000;

/** Upper bound on how long busReset waits for the worker to notice it (one chunk normally takes < 1 ms). */
const BUS_RESET_WAIT_MS = 1000;

/** Register name at each field's first byte; writes anywhere else are ignored. */
const FIELD_AT = new Map<number, RegName>((Object.keys(REG) as RegName[]).map((name) => [REG[name].offset, name]));

export class PciCryptoDeviceModel implements PciCryptoDevice {
  readonly pci = { vendorId: PCI_ID.vendorId, deviceId: PCI_ID.deviceId, revision: PCI_ID.revision, name: PCI_ID.name };
  readonly engine: EngineName;
  readonly memory: PagedGuestMemory;
  readonly chunkBytes: number;
  readonly doorbellPollMicros: number;
  readonly completionPollMicros: number;

  // ------------------------------------------------ state ------------------------------------------------------
  private readonly regs = new RegisterFile();
  private readonly mailbox = new IrqMailbox();
  private readonly irq: InterruptController;
  private readonly log: Logger | undefined;
  private worker: Worker | undefined;
  private workerRefed = false;
  /** The completion poll: a setImmediate chain keeping the host loop awake until the command's interrupt. */
  private polling = false;
  private pollStart = 0;
  private pollUntil = 0;
  /** This command's spin before its first nap (0: nap at once) and whether it has napped yet. */
  private pollSpinMicros = 0;
  private pollNapped = false;
  private readonly completionSpin = new AdaptiveSpin(SPIN_MICROS);
  private destroyed = false;
  /** Faults on demand (docs/faults.md); consulted on a Command write and on the worker's interrupts. */
  readonly faults = new DeviceFaultInjector(() => this.wakeWorker());

  constructor(options: CryptoDeviceOptions & PciCryptoDeviceTestOptions = {}) {
    this.engine = options.engine ?? 'native';
    if (!ENGINE_NAMES.includes(this.engine)) throw new RangeError(`unknown engine '${String(this.engine)}' (expected native or noble)`);
    this.chunkBytes = options.chunkBytes ?? MAX_CHUNK_BYTES;
    if (!Number.isSafeInteger(this.chunkBytes) || this.chunkBytes < 16 || this.chunkBytes > MAX_CHUNK_BYTES) {
      throw new RangeError(`chunkBytes must be an integer in [16, 65536] (got ${this.chunkBytes})`);
    }
    this.doorbellPollMicros = options.doorbellPollMicros ?? DEFAULT_DOORBELL_POLL_MICROS;
    if (!Number.isFinite(this.doorbellPollMicros) || this.doorbellPollMicros < 0 || this.doorbellPollMicros > MAX_DOORBELL_POLL_MICROS) {
      throw new RangeError(`doorbellPollMicros must be in [0, ${MAX_DOORBELL_POLL_MICROS}] (got ${this.doorbellPollMicros})`);
    }
    this.completionPollMicros = options.completionPollMicros ?? DEFAULT_COMPLETION_POLL_MICROS;
    if (!Number.isFinite(this.completionPollMicros) || this.completionPollMicros < 0 || this.completionPollMicros > MAX_COMPLETION_POLL_MICROS) {
      throw new RangeError(`completionPollMicros must be in [0, ${MAX_COMPLETION_POLL_MICROS}] (got ${this.completionPollMicros})`);
    }
    this.memory = new PagedGuestMemory(options.guestMemoryBytes ?? DEFAULT_GUEST_MEMORY_BYTES);
    this.log = options.logger?.child({ device: PCI_ID.name });
    this.irq = new InterruptController({
      anyFlagSet: () => this.regs.locked(() => this.regs.anyFlagSet()),
      logger: this.log,
      unhandledLimit: options.intxUnhandledLimit,
    });
    if (options.interruptMode) this.irq.setMode(options.interruptMode);
  }

  // ------------------------------------------------ IRQ helpers ------------------------------------------------
  /** Hands interrupts raised under the lock (flags already set, mask already applied) to the controller. */
  private deliver(irqs: readonly number[]): void {
    for (const n of irqs) this.irq.signal(n);
  }

  /** ack: the driver cleared a flag; in INTx mode the line drops once all three flags are 0 (DEVIATIONS.md 2). */
  private ackLocked(): boolean {
    return this.irq.mode === 'intx' && !this.regs.anyFlagSet();
  }

  get interruptMode(): InterruptMode {
    return this.irq.mode;
  }

  setInterruptMode(mode: InterruptMode): void {
    this.irq.setMode(mode);
  }

  connectInterrupt(isr: InterruptServiceRoutine): () => void {
    return this.irq.connect(isr);
  }

  get intxAsserted(): boolean {
    return this.irq.lineAsserted;
  }

  // ------------------------------------------------ MMIO -------------------------------------------------------
  /** A guest access must be 1, 2, 4 or 8 bytes and lie wholly inside BAR0 (DEVIATIONS.md 1). */
  private accessOk(offset: number, size: number): boolean {
    return (
      Number.isInteger(offset) && offset >= 0 && (size === 1 || size === 2 || size === 4 || size === 8) && offset + size <= BAR0_SIZE
    );
  }

  mmioRead(offset: number, size: 1 | 2 | 4 | 8): number | bigint {
    if (!this.accessOk(offset, size)) {
      this.log?.debug({ offset, size }, 'guest MMIO read outside BAR0 or of a bad size: reads 0');
      return size === 8 ? 0n : 0;
    }
    if (size === 8) {
      // Split into two 4-byte accesses, low first, as the bus does for this 4-byte-max region.
      const lo = this.read32(offset);
      const hi = this.read32(offset + 4);
      return (BigInt(hi) << 32n) | BigInt(lo);
    }
    return this.readSmall(offset, size);
  }

  private read32(offset: number): number {
    return this.readSmall(offset, 4);
  }

  /**
   * Reads are raw little-endian bytes of the register file, as the original reads its memio array: a 4-byte read
   * at 0x00 returns ErrorCode | State << 8 | Command << 16 | InterruptFlag << 24. No switch is needed because no
   * read has a side effect.
   */
  private readSmall(offset: number, size: 1 | 2 | 4): number {
    if (offset >= REG_FILE_SIZE) return 0;
    return this.regs.locked(() => this.regs.readRaw(offset, size));
  }

  mmioWrite(offset: number, size: 1 | 2 | 4 | 8, value: number | bigint): void {
    if (!this.accessOk(offset, size)) {
      this.log?.debug({ offset, size }, 'guest MMIO write outside BAR0 or of a bad size: dropped');
      return;
    }
    if (size !== 8 && typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 0xffff_ffff) {
      // The common case, a driver's u8/u16/u32 store, without BigInt arithmetic (same truncation as below).
      this.writeField(offset, size === 4 ? value : value & (size === 1 ? 0xff : 0xffff));
      return;
    }
    const v = toBigInt(value);
    if (size === 8) {
      this.writeField(offset, Number(v & 0xffff_ffffn));
      this.writeField(offset + 4, Number((v >> 32n) & 0xffff_ffffn));
      return;
    }
    this.writeField(offset, Number(BigInt.asUintN(size * 8, v)));
  }

  /** One write to the field starting at `offset`; the value is then truncated to that field's width. */
  private writeField(offset: number, value: number): void {
    const field = FIELD_AT.get(offset);
    if (field === undefined) {
      this.log?.debug({ offset }, 'guest MMIO write to no register: ignored');
      return;
    }
    let irqs: number[] = [];
    let wake = false;
    let lower = false;
    this.regs.locked(() => {
      switch (field) {
        case 'ERROR_CODE':
        case 'STATE':
          // Device-owned: not stored; the driver's logic error is reported as error 3.
          this.log?.debug({ field }, 'guest wrote a read-only register: error 3');
          irqs = this.regs.raiseError(ERROR.WRITE_IO);
          break;
        case 'COMMAND': {
          const command = value & 0xff;
          const current = this.regs.get('COMMAND');
          if (!this.faults.idle && (command === COMMAND.RESET || (current === COMMAND.IDLE && command >= COMMAND.AES_CBC_ENCRYPT && command <= COMMAND.SHA256))) {
            // An accepted command meets an armed fault (fault-injector.ts), which may take it.
            const verdict = this.faults.onCommand(this.regs, command);
            if (verdict.run) this.regs.set('COMMAND', command);
            wake = verdict.run;
            irqs = verdict.irqs;
          } else if (command === COMMAND.RESET) {
            // Reset is accepted at any time; a running command notices it between chunks.
            this.regs.set('COMMAND', command);
            wake = true;
          } else if (command < COMMAND.AES_CBC_ENCRYPT || command > COMMAND.SHA256) {
            // DEVIATIONS.md 3: an invalid value (0 included) is never stored, so it can never run.
            this.log?.debug({ command }, 'guest wrote an invalid command: error 3');
            irqs = this.regs.raiseError(ERROR.WRITE_IO);
          } else if (current !== COMMAND.IDLE) {
            // DEVIATIONS.md 4: a command while busy is a driver logic error; the running one goes on.
            this.log?.debug({ command, current }, 'guest wrote a command while busy: error 3');
            irqs = this.regs.raiseError(ERROR.WRITE_IO);
          } else {
            this.regs.set('COMMAND', command);
            wake = true;
          }
          break;
        }
        case 'INTERRUPT_FLAG':
        case 'DMA_IN_ADDRESS':
        case 'DMA_IN_PAGES_COUNT':
        case 'DMA_IN_SIZE':
        case 'DMA_OUT_ADDRESS':
        case 'DMA_OUT_PAGES_COUNT':
        case 'DMA_OUT_SIZE':
          this.regs.set(field, value);
          break;
        case 'MSI_ERROR_FLAG':
        case 'MSI_READY_FLAG':
        case 'MSI_RESET_FLAG':
          this.regs.set(field, value);
          lower = this.ackLocked();
          break;
      }
    });
    if (lower) this.irq.lower();
    if (wake) this.wakeWorker();
    this.deliver(irqs);
  }

  private wakeWorker(): void {
    if (this.destroyed) return;
    this.holdProcess(true);
    // Poll first, then ring: a worker spinning on the doorbell can finish a small command before the next
    // line runs, and one that finds the host not polling posts a wake-up message (a quarter of 4 KiB requests
    // did, each a cross-thread wake-up and a 'message' event for nothing: the ring is drained by the poll).
    this.pollForCompletion();
    this.regs.ringDoorbell(); // the MMIO write returns now; the worker does the work
  }

  // ------------------------------------------------ faults on demand -------------------------------------------
  /** Arms a fault; with `now`, a latched-error or never-ready fault acts at once instead of on a command. */
  armFault(spec: DeviceFaultSpec, now = false): ArmedDeviceFault {
    if (now && spec.kind !== 'latched-error' && spec.kind !== 'never-ready') {
      throw new DeviceFaultSpecError(`"now" applies to latched-error and never-ready; a ${spec.kind} fault acts on a command`);
    }
    const fault = this.faults.arm(now ? { ...spec, once: true } : spec);
    if (!now) return fault;
    this.deliver(this.regs.locked(() => this.faults.fireNow(this.regs, fault)));
    return { ...fault, fired: 1 };
  }

  /** Disarms one fault or all (ending a hang the fault caused); returns how many. */
  clearFaults(id?: number): number {
    return this.regs.locked(() => this.faults.clear(this.regs, id));
  }

  // ------------------------------------------------ DMA --------------------------------------------------------
  // The page-list walk and the commands run on the worker: dma.ts (DmaCursor) and commands.ts.

  // ------------------------------------------------ reset ------------------------------------------------------
  /** PCI bus reset (power-on): every register 0 (InterruptFlag 0 = all disabled), the line down, the worker idle. */
  busReset(): void {
    this.faults.dispose(this.regs); // a power cycle ends a hang
    this.regs.locked(() => {
      this.regs.zeroAll();
      this.regs.bumpGeneration(); // a running command sees this between chunks and ends without an interrupt
    });
    // Hold the caller until the worker has left any running command (at most one chunk, well under a
    // millisecond for 64 KiB), so no DMA happens after the bus reset returns.
    if (this.worker && !this.regs.waitNotBusy(BUS_RESET_WAIT_MS)) {
      this.log?.error({ waitedMs: BUS_RESET_WAIT_MS }, 'device worker did not stop its command after a bus reset');
    }
    this.irq.reset();
  }

  // ------------------------------------------------ realize / uninit -------------------------------------------
  /** Starts the device thread; resolves once it runs. */
  async realize(keyString: string | undefined): Promise<void> {
    const realizeStart = performance.now();
    // The first device of the process has its worker raise malloc's thresholds (after its first large command).
    const primeAllocator = claimAllocatorPriming();
    const entry = workerEntry();
    const data: DeviceWorkerData = {
      regs: this.regs.sab,
      irqs: this.mailbox.sab,
      memory: this.memory.sab,
      engine: this.engine,
      keyString,
      chunkBytes: this.chunkBytes,
      doorbellPollMicros: this.doorbellPollMicros,
      debug: this.log?.isLevelEnabled('debug') ?? false,
      primeAllocator,
    };
    const worker = new Worker(entry.script, { workerData: data, eval: entry.eval });
    // Wait for the worker's own 'ready' (not 'online'), so a worker that cannot load its modules fails creation.
    await new Promise<void>((resolve, reject) => {
      const fail = (err: Error) => {
        worker.off('message', onReady);
        reject(err);
      };
      const onReady = (m: DeviceWorkerMessage) => {
        if (m.type !== 'ready') return;
        worker.off('message', onReady);
        worker.off('error', fail);
        worker.off('exit', onExit);
        resolve();
      };
      const onExit = (code: number) => fail(new Error(`device worker exited with code ${code} during start`));
      worker.on('message', onReady);
      worker.once('error', fail);
      worker.once('exit', onExit);
    });
    if (primeAllocator) this.log?.debug({ ms: round1(performance.now() - realizeStart) }, 'worker started; it raises the malloc thresholds after its first large command (allocator-tuning.ts)');
    this.worker = worker;
    worker.on('message', (m: DeviceWorkerMessage) => this.onWorkerMessage(m));
    worker.on('error', (err) => this.onWorkerDied(err));
    worker.on('exit', (code) => {
      if (!this.destroyed) this.onWorkerDied(new Error(`device worker exited with code ${code}`));
    });
    worker.unref(); // an idle device does not keep the process alive; holdProcess re-refs while a command runs
  }

  private onWorkerMessage(m: DeviceWorkerMessage): void {
    // Interrupts in the ring were raised before anything the worker posts after them.
    this.drainInterrupts();
    switch (m.type) {
      case 'irq':
        this.mailbox.carry(m.seq, { irqs: m.irqs, doorbell: m.doorbell });
        this.drainInterrupts();
        break;
      case 'irq-hint':
        break;
      case 'idle':
        // Only when no command was accepted since the one the worker answered: otherwise its interrupt is still
        // to come, and an unref'd worker could let the process exit before that message arrives.
        if (m.doorbell === this.regs.doorbell()) this.holdProcess(false);
        break;
      case 'ready':
        break;
      case 'log':
        if (m.level === 'debug') this.log?.debug(m.fields ?? {}, m.msg);
        else this.log?.error(m.fields ?? {}, m.msg);
        break;
    }
  }

  /** Delivers the worker's interrupts that are waiting, in the order it raised them. */
  private drainInterrupts(): void {
    this.mailbox.drain(this.onSignal);
  }

  private readonly onSignal = (signal: IrqSignal): void => {
    this.deliver(this.faults.idle ? signal.irqs : this.faults.filterIrqs(signal.irqs));
    // Each signal ends a command; with no command accepted since, the worker is going idle (see 'idle').
    if (signal.doorbell === this.regs.doorbell()) this.holdProcess(false);
  };

  /** A dead worker is a host fault: report it to the guest as an internal error rather than hanging it. */
  private onWorkerDied(err: Error): void {
    if (this.destroyed) return;
    this.log?.error({ err }, 'device worker died');
    this.worker = undefined;
    this.holdProcess(false);
    const irqs = this.regs.locked(() => this.regs.raiseError(ERROR.INTERNAL));
    this.deliver(irqs);
  }

  /**
   * Keeps the host event loop from sleeping while a command runs, for at most completionPollMicros: each
   * setImmediate turn reads the interrupt ring (irq-mailbox.ts), so the worker's interrupt is taken with no
   * message and no event-loop wake-up. Timers and sockets are served as usual meanwhile. After a short spin (none
   * while spinning does not pay: adaptive-spin.ts) the turns nap, in a futex wait of at most COMPLETION_NAP_MS that
   * the worker's interrupt ends: a spinning host kept a worker that shared its vCPU from running at all, and the
   * naps cost no CPU while a long command runs.
   */
  private pollForCompletion(): void {
    if (this.completionPollMicros === 0) return;
    this.pollStart = performance.now();
    this.pollUntil = this.pollStart + this.completionPollMicros / 1000;
    this.pollSpinMicros = this.completionSpin.next();
    this.pollNapped = false;
    if (this.polling) return;
    this.polling = true;
    this.mailbox.setHostPolling(true);
    setImmediate(this.pollTurn);
  }

  private readonly pollTurn = (): void => {
    const head = this.mailbox.head();
    this.drainInterrupts();
    const now = performance.now();
    if (this.workerRefed && !this.destroyed && now < this.pollUntil) {
      if (now - this.pollStart >= this.pollSpinMicros / 1000) {
        if (!this.pollNapped && this.pollSpinMicros > 0) this.completionSpin.record(false);
        this.pollNapped = true;
        this.mailbox.nap(head, Math.min(COMPLETION_NAP_MS, this.pollUntil - now));
        this.drainInterrupts();
      }
      if (this.workerRefed && !this.destroyed) {
        setImmediate(this.pollTurn);
        return;
      }
    } else if (!this.pollNapped && this.pollSpinMicros > 0 && !this.workerRefed) {
      this.completionSpin.record(true); // the command ended within the spin
    }
    this.polling = false;
    // Stop polling first, then look once more: an interrupt raised in between either is seen here or, having
    // seen the flag down, comes with a wake-up message.
    this.mailbox.setHostPolling(false);
    this.drainInterrupts();
  };

  private holdProcess(hold: boolean): void {
    if (!this.worker || hold === this.workerRefed) return;
    this.workerRefed = hold;
    if (hold) this.worker.ref();
    else this.worker.unref();
  }

  /** uninit: stop the worker (it checks between chunks), then drop the interrupt wiring. Idempotent. */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    this.faults.dispose(this.regs);
    const worker = this.worker;
    this.worker = undefined;
    this.regs.requestStop();
    if (worker) {
      worker.ref(); // an unref'd worker would let the event loop end before its 'exit' arrives
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      const timer = setTimeout(() => void worker.terminate(), 5000);
      timer.unref();
      await exited;
      clearTimeout(timer);
    }
    this.irq.reset();
  }
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

/** Any guest-supplied value as an unsigned bigint; junk (NaN, non-numbers) counts as 0, never an exception. */
function toBigInt(value: unknown): bigint {
  if (typeof value === 'bigint') return BigInt.asUintN(64, value);
  if (typeof value === 'number' && Number.isFinite(value)) return BigInt.asUintN(64, BigInt(Math.trunc(value)));
  return 0n;
}

/**
 * How to start the worker. From the compiled build the worker is plain .js. From TypeScript sources (tsx, vitest)
 * it is a .ts file: on Node 20 a worker started with `execArgv: ['--import', 'tsx']` still fails on its .ts entry
 * (ERR_UNKNOWN_FILE_EXTENSION, checked on v20.20: the hooks registered by --import do not cover the worker's
 * main module), so a two-line bootstrap registers tsx's ESM hooks first and then imports the .ts entry.
 */
function workerEntry(): { script: URL | string; eval: boolean } {
  const fromTs = import.meta.url.endsWith('.ts');
  const entry = new URL(fromTs ? './device-worker.ts' : './device-worker.js', import.meta.url);
  if (!fromTs) return { script: entry, eval: false };
  // From sources, a bundle built once (worker-bundle.ts) starts several times faster than the tsx bootstrap;
  // the bootstrap stays as the fallback when esbuild cannot run.
  try {
    return { script: bundledWorker(entry), eval: false };
  } catch {
    return { script: tsWorkerBootstrap(entry), eval: true };
  }
}

/** Source for `new Worker(source, { eval: true })` that registers tsx's ESM hooks, then imports the .ts `entry`. */
export function tsWorkerBootstrap(entry: URL): string {
  // Resolved from this package rather than the cwd, so a service started elsewhere still finds tsx.
  const tsxRoot = dirname(createRequire(import.meta.url).resolve('tsx/package.json'));
  const tsxApi = pathToFileURL(join(tsxRoot, 'dist', 'esm', 'api', 'index.mjs')).href; // the "./esm/api" import export
  return `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); });`;
}

/** Creates the device and starts its worker thread. */
export async function createPciCryptoDevice(
  options: CryptoDeviceOptions & PciCryptoDeviceTestOptions = {},
): Promise<PciCryptoDeviceModel> {
  const device = new PciCryptoDeviceModel(options);
  await device.realize(options.keyString);
  return device;
}

