// Faults armed on one crypto device (docs/faults.md "Device faults"): when they fire (at once, on the Nth
// command, after a delay, with a seeded probability; one-shot or until cleared) and what they do to the register
// file at the moment the device accepts a Command write. The model (pci-crypto-device.ts) calls it at two points:
// a Command write, and an interrupt the worker raised. With nothing armed both are a single boolean test.

import { COMMAND, ERROR, IRQ_NUM, STATE, type RegisterFile } from './registers.js';
import { prng } from '../../kernel/prng.js';
import { sharedTriggerDue, sharedTriggerProblem, type SharedTrigger } from '../../kernel/fault-trigger.js';

export const DEVICE_FAULT_KINDS = ['dma-error', 'never-ready', 'latched-error', 'lost-interrupt'] as const;
export type DeviceFaultKind = (typeof DEVICE_FAULT_KINDS)[number];

/** Commands a trigger can name (the Command register values 1..4). */
export const DEVICE_FAULT_COMMANDS = { reset: COMMAND.RESET, encrypt: COMMAND.AES_CBC_ENCRYPT, decrypt: COMMAND.AES_CBC_DECRYPT, sha256: COMMAND.SHA256 } as const;
export type DeviceFaultCommand = keyof typeof DEVICE_FAULT_COMMANDS;

/** When an armed fault fires. Every given condition must hold; none given = the next command it can act on. */
export interface DeviceFaultTrigger extends SharedTrigger {
  /** Only this command; `nth` then counts commands of this kind. */
  command?: DeviceFaultCommand;
}

export interface DeviceFaultSpec {
  kind: DeviceFaultKind;
  trigger?: DeviceFaultTrigger;
  /** One-shot (default) or until cleared. */
  once?: boolean;
  /** latched-error: the ErrorCode latched, 1..4 (default 4, internal error). */
  code?: number;
  /** never-ready: how long the device stays unresponsive (ms, default 10000); clearing the fault ends it sooner. */
  holdMs?: number;
}

export interface ArmedDeviceFault {
  id: number;
  kind: DeviceFaultKind;
  once: boolean;
  spec: DeviceFaultSpec;
  armedAt: number;
  /** Commands seen while armed that this fault could act on (those of trigger.command, when given). */
  seen: number;
  fired: number;
}

export const MAX_ARMED_DEVICE_FAULTS = 32;
export const MAX_DEVICE_FAULT_DELAY_MS = 120_000;
export const DEFAULT_NEVER_READY_HOLD_MS = 10_000;

export class DeviceFaultSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeviceFaultSpecError';
  }
}

/** What the model does with an accepted Command write. */
export interface CommandVerdict {
  /** Store Command and wake the worker (false: the fault took the command). */
  run: boolean;
  /** Interrupts raised under the lock, for the caller to deliver after it. */
  irqs: number[];
}

const RUN: CommandVerdict = { run: true, irqs: [] };
const ms = (v: unknown): boolean => Number.isSafeInteger(v) && (v as number) >= 0 && (v as number) <= MAX_DEVICE_FAULT_DELAY_MS;

/** Checks a spec; throws DeviceFaultSpecError with the reason. */
export function validateDeviceFaultSpec(spec: DeviceFaultSpec): void {
  if (!DEVICE_FAULT_KINDS.includes(spec.kind)) throw new DeviceFaultSpecError(`unknown device fault kind "${String(spec.kind)}"`);
  const t = spec.trigger ?? {};
  const problem = sharedTriggerProblem(t, MAX_DEVICE_FAULT_DELAY_MS);
  if (problem !== undefined) throw new DeviceFaultSpecError(problem);
  if (t.command !== undefined && !Object.hasOwn(DEVICE_FAULT_COMMANDS, t.command)) throw new DeviceFaultSpecError('trigger.command must be reset, encrypt, decrypt or sha256');
  if (t.command === 'reset' && spec.kind !== 'never-ready') throw new DeviceFaultSpecError(`a ${spec.kind} fault acts on data commands, not on a reset`);
  if (spec.code !== undefined && (spec.kind !== 'latched-error' || !(Number.isInteger(spec.code) && spec.code >= ERROR.DMA && spec.code <= ERROR.INTERNAL))) {
    throw new DeviceFaultSpecError('"code" is for latched-error: an ErrorCode 1..4');
  }
  if (spec.holdMs !== undefined && (spec.kind !== 'never-ready' || !ms(spec.holdMs))) throw new DeviceFaultSpecError(`"holdMs" is for never-ready: 0..${MAX_DEVICE_FAULT_DELAY_MS}`);
}


export class DeviceFaultInjector {
  private readonly armed: ArmedDeviceFault[] = [];
  private readonly rngs = new Map<number, () => number>();
  private nextId = 1;
  /** never-ready in force: the fault that caused it and when it ends. */
  private hang: { faultId: number; timer: NodeJS.Timeout } | null = null;
  /** lost-interrupt fired: the next ready/error interrupt is dropped. */
  private loseCompletion = false;
  /** Told of every fault that fires (logging, metrics). */
  onFired: ((fault: ArmedDeviceFault) => void) | null = null;

  constructor(
    /** Wakes the worker when a hang ends, so it takes the Command written meanwhile. */
    private readonly endHang: () => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** Nothing armed and nothing in force: the model's fast path. */
  get idle(): boolean {
    return this.armed.length === 0 && this.hang === null && !this.loseCompletion;
  }

  /** True while a never-ready fault holds the device. */
  get hung(): boolean {
    return this.hang !== null;
  }

  arm(spec: DeviceFaultSpec): ArmedDeviceFault {
    validateDeviceFaultSpec(spec);
    if (this.armed.length >= MAX_ARMED_DEVICE_FAULTS) throw new DeviceFaultSpecError(`at most ${MAX_ARMED_DEVICE_FAULTS} faults may be armed on one device`);
    const fault: ArmedDeviceFault = { id: this.nextId++, kind: spec.kind, once: spec.once ?? true, spec: structuredClone(spec), armedAt: this.now(), seen: 0, fired: 0 };
    if (spec.trigger?.probability !== undefined) this.rngs.set(fault.id, prng(spec.trigger.seed ?? 1));
    this.armed.push(fault);
    return fault;
  }

  list(): ArmedDeviceFault[] {
    return this.armed.map((f) => ({ ...f }));
  }

  /**
   * Disarms one fault or all, and ends what they put in force: clearing all ends any hang and a pending lost
   * interrupt; clearing one ends the hang only that (still armed, so sticky) fault caused. Returns how many were
   * disarmed. Caller holds the register lock.
   */
  clear(regs: RegisterFile, id?: number): number {
    const before = this.armed.length;
    for (let i = this.armed.length - 1; i >= 0; i--) {
      if (id === undefined || this.armed[i].id === id) {
        this.rngs.delete(this.armed[i].id);
        this.armed.splice(i, 1);
      }
    }
    const cleared = before - this.armed.length;
    if (this.hang !== null && (id === undefined || (cleared > 0 && this.hang.faultId === id))) this.release(regs);
    if (id === undefined) this.loseCompletion = false;
    return cleared;
  }

  /**
   * Fires an armed latched-error or never-ready fault at once, without a command. Caller holds the register
   * lock and delivers the returned interrupts.
   */
  fireNow(regs: RegisterFile, fault: ArmedDeviceFault): number[] {
    this.fired(fault);
    if (fault.kind === 'latched-error') return regs.raiseError(fault.spec.code ?? ERROR.INTERNAL);
    if (fault.kind === 'never-ready') this.startHang(regs, fault);
    return [];
  }

  /** The device accepted a Command write (1..4). Caller holds the register lock. */
  onCommand(regs: RegisterFile, command: number): CommandVerdict {
    if (this.hang !== null) return this.holdCommand(regs, command);
    if (command === COMMAND.RESET) this.loseCompletion = false; // the command whose interrupt was to be lost is cut short
    const fault = this.pick(command);
    if (fault === null) return RUN;
    switch (fault.kind) {
      case 'dma-error':
        // The DMA engine fails on the command's first page-list access: ErrorCode 1, error interrupt, no byte moved.
        return { run: false, irqs: regs.raiseError(ERROR.DMA) };
      case 'latched-error':
        return { run: false, irqs: regs.raiseError(fault.spec.code ?? ERROR.INTERNAL) };
      case 'lost-interrupt':
        this.loseCompletion = true;
        return RUN;
      case 'never-ready':
        this.startHang(regs, fault);
        return this.holdCommand(regs, command);
    }
  }

  /** The worker raised interrupts: drops a command's ready/error interrupt when lost-interrupt fired. */
  filterIrqs(irqs: readonly number[]): readonly number[] {
    if (!this.loseCompletion || !irqs.some((n) => n === IRQ_NUM.READY || n === IRQ_NUM.ERROR)) return irqs;
    this.loseCompletion = false;
    // The flag registers are already set; only the message to the CPU is lost.
    return irqs.filter((n) => n !== IRQ_NUM.READY && n !== IRQ_NUM.ERROR);
  }

  /** Bus reset or shutdown: everything in force ends, nothing is woken. */
  dispose(regs: RegisterFile): void {
    regs.setHold(false);
    if (this.hang !== null) clearTimeout(this.hang.timer);
    this.hang = null;
    this.loseCompletion = false;
  }

  /** The first armed fault this command triggers, counted as fired; null when none. */
  private pick(command: number): ArmedDeviceFault | null {
    if (this.armed.length === 0) return null;
    const now = this.now();
    let chosen: ArmedDeviceFault | null = null;
    for (const f of [...this.armed]) {
      if (command === COMMAND.RESET && f.kind !== 'never-ready') continue; // only a hang can meet a reset
      const t = f.spec.trigger ?? {};
      if (t.command !== undefined && DEVICE_FAULT_COMMANDS[t.command] !== command) continue;
      f.seen++;
      if (chosen !== null || !sharedTriggerDue(t, f, now, this.rngs.get(f.id))) continue;
      chosen = f;
    }
    if (chosen !== null) this.fired(chosen);
    return chosen;
  }

  private fired(f: ArmedDeviceFault): void {
    f.fired++;
    if (f.once) {
      this.rngs.delete(f.id);
      this.armed.splice(this.armed.indexOf(f), 1);
    }
    this.onFired?.({ ...f });
  }

  private startHang(regs: RegisterFile, fault: ArmedDeviceFault): void {
    if (this.hang !== null) return;
    const holdMs = fault.spec.holdMs ?? DEFAULT_NEVER_READY_HOLD_MS;
    const timer = setTimeout(() => regs.locked(() => this.release(regs)), holdMs);
    timer.unref(); // a hung device does not keep the process alive
    this.hang = { faultId: fault.id, timer };
    regs.setHold(true); // the worker must not pick up a held Command on its own
  }

  /**
   * While hung the device takes the write into Command and shows the command's State, but its worker never sees
   * it: no ready, error or reset interrupt. A reset written over a data command replaces it, as on the register.
   */
  private holdCommand(regs: RegisterFile, command: number): CommandVerdict {
    regs.set('COMMAND', command);
    regs.set('STATE', command === COMMAND.RESET ? STATE.RESETTING : command === COMMAND.SHA256 ? STATE.SHA2 : STATE.AES_CBC);
    return { run: false, irqs: [] };
  }

  /** The hang ends: whatever Command holds now runs (a pending reset completes then). Caller holds the lock. */
  private release(regs: RegisterFile): void {
    if (this.hang === null) return;
    clearTimeout(this.hang.timer);
    this.hang = null;
    regs.setHold(false);
    if (regs.get('COMMAND') !== COMMAND.IDLE) queueMicrotask(this.endHang);
  }
}
