// What the device does when its worker wakes: take the pending Command, run reset, SHA-256 or AES-256-CBC over the
// page lists in chunks with a reset check between chunks, and finish with ready/error/reset
// (docs/crypto-device.md "Worker", "Reset", "SHA-256", "AES-256-CBC"). Synchronous, so tests can drive it directly.

import type { CryptoEngine } from '../engines/index.js';
import { copyBytes } from '../../kernel/byte-copy.js';
import { DmaCursor, type DmaError, type DmaSegment } from './dma.js';
import { COMMAND, ERROR, IRQ_BIT, STATE, type RegisterFile } from './registers.js';

/** The fixed IV, loaded afresh for every AES request (docs/crypto-device.md "AES-256-CBC"). */
export const DEVICE_IV: Uint8Array = Uint8Array.from(Buffer.from('32ad5cdf529aae2be15c7e2ea19e5163', 'hex'));
export const SHA256_DIGEST_BYTES = 32;
export const MAX_CHUNK_BYTES = 65536;

/** AES key = SHA-256 of the configured key string; 32 zero bytes when none is set (the QEMU `aes_cbc_256`). */
export function deriveDeviceKey(engine: CryptoEngine, keyString: string | undefined): Uint8Array {
  return keyString === undefined ? new Uint8Array(32) : engine.sha256(new TextEncoder().encode(keyString));
}

export function roundUp16(n: number): number {
  return Math.ceil(n / 16) * 16;
}

/** Everything the device side needs: registers, guest RAM, its engine and key, and a way to reach the host. */
export interface DeviceCore {
  readonly regs: RegisterFile;
  readonly mem: Uint8Array;
  readonly memView: DataView;
  readonly engine: CryptoEngine;
  readonly key: Uint8Array;
  /** At most 64 KiB of input between reset checks. */
  readonly chunkBytes: number;
  /** Tells the host thread which (unmasked) interrupts were raised; flags are already set. */
  signal(irqs: readonly number[]): void;
  /** Guest mistakes (DMA errors) for the host's debug log. Never carries data or the key. */
  debug?(msg: string, fields?: Record<string, unknown>): void;
  /** Host bugs caught on the device side. */
  error?(msg: string, fields?: Record<string, unknown>): void;
}

interface Job {
  command: number;
  generation: number;
  /** The doorbell when the command started: every accepted Command write (a reset included) moves it. */
  doorbell: number;
  inPfn: number;
  inSize: number;
  outPfn: number;
  outSize: number;
}

/** How a data command ended. 'reset' means the reset already ran and signalled; 'aborted' means a bus reset or stop. */
type Outcome = { kind: 'ready' } | { kind: 'error'; code: number } | { kind: 'reset' } | { kind: 'aborted' };

const READY: Outcome = { kind: 'ready' };
const dmaError = (core: DeviceCore, why: string, fault?: DmaError): Outcome => {
  core.debug?.('guest DMA error', { why, fault: fault?.fault, physical: fault?.physical });
  return { kind: 'error', code: ERROR.DMA };
};

/**
 * Runs the pending command, if any. Returns false when Command was idle (the worker goes back to sleep).
 * The registers are copied at wake (docs/crypto-device.md "Worker" step 1), so later driver writes to the DMA
 * registers do not disturb a running command.
 */
export function runPendingCommand(core: DeviceCore): boolean {
  const { regs } = core;
  let irqs: number[] = [];
  let busy = false;
  const job = regs.locked((): Job | undefined => {
    const command = regs.get('COMMAND');
    if (command === COMMAND.IDLE || regs.held()) return undefined; // held: a never-ready fault (fault-injector.ts)
    busy = true;
    if (command === COMMAND.RESET) {
      regs.set('STATE', STATE.RESETTING);
      irqs = regs.deviceReset();
      return undefined;
    }
    if (command !== COMMAND.AES_CBC_ENCRYPT && command !== COMMAND.AES_CBC_DECRYPT && command !== COMMAND.SHA256) {
      // The host never stores another value (DEVIATIONS.md 3); if one got here, drop it rather than run it.
      regs.set('COMMAND', COMMAND.IDLE);
      return undefined;
    }
    regs.set('STATE', command === COMMAND.SHA256 ? STATE.SHA2 : STATE.AES_CBC);
    regs.setBusy(true);
    return {
      command,
      generation: regs.generation(),
      doorbell: regs.doorbell(),
      inPfn: regs.get('DMA_IN_ADDRESS'),
      inSize: regs.get('DMA_IN_SIZE'),
      outPfn: regs.get('DMA_OUT_ADDRESS'),
      outSize: regs.get('DMA_OUT_SIZE'),
    };
  });
  if (irqs.length > 0) core.signal(irqs);
  if (job === undefined) return busy;

  let outcome: Outcome;
  try {
    outcome = job.command === COMMAND.SHA256 ? doSha256(core, job) : doAesCbc(core, job);
  } catch (err) {
    // An engine or walker exception is a host bug; the guest sees an internal error, never a dead device.
    core.error?.('device command failed', { err: err instanceof Error ? err.message : String(err) });
    outcome = { kind: 'error', code: ERROR.INTERNAL };
  }
  try {
    finish(core, job, outcome);
  } finally {
    regs.setBusy(false);
  }
  return true;
}

/** Step 2-4 of "Worker": raise ready or error, back to State 0 / Command 0 — unless a reset or bus reset won. */
function finish(core: DeviceCore, job: Job, outcome: Outcome): void {
  if (outcome.kind === 'reset' || outcome.kind === 'aborted') return;
  const { regs } = core;
  const irqs = regs.locked(() => {
    if (regs.generation() !== job.generation || regs.stopRequested()) return [];
    // A reset written after the last chunk check still wins: the command is cut short at its very end, so no
    // ready/error, and the reset is not lost by the Command := 0 below (the original dropped it here).
    if (regs.get('COMMAND') === COMMAND.RESET) return regs.deviceReset();
    const raised = outcome.kind === 'ready' ? regs.raise(IRQ_BIT.READY) : regs.raiseError(outcome.code);
    regs.set('STATE', STATE.READY);
    regs.set('COMMAND', COMMAND.IDLE);
    return raised;
  });
  if (irqs.length > 0) core.signal(irqs);
}

/**
 * CheckStop between chunks: a reset command runs now (and signals), a bus reset or shutdown ends the command
 * silently. After this returns an outcome the command touches no DMA memory.
 */
function checkStop(core: DeviceCore, job: Job): Outcome | undefined {
  const { regs } = core;
  // Three atomic loads instead of the lock, once per chunk: while none of them moved, no reset, bus reset or stop
  // has been accepted since the command started. A reset whose doorbell is still ringing is seen one chunk later,
  // as if written a moment later; finish() re-reads Command under the lock, so none is ever lost.
  if (regs.doorbell() === job.doorbell && regs.generation() === job.generation && !regs.stopRequested()) return undefined;
  let irqs: number[] = [];
  const outcome = regs.locked((): Outcome | undefined => {
    if (regs.generation() !== job.generation || regs.stopRequested()) return { kind: 'aborted' };
    if (regs.get('COMMAND') !== COMMAND.RESET) {
      // Nothing to stop: re-arm the fast path (a doorbell read here cannot hide a reset from the check above).
      job.doorbell = regs.doorbell();
      return undefined;
    }
    irqs = regs.deviceReset();
    return { kind: 'reset' };
  });
  if (irqs.length > 0) core.signal(irqs);
  return outcome;
}

/** Writes `data` along an OUT list; pages written before a bad entry stay written. */
function writeOut(core: DeviceCore, out: DmaCursor, data: Uint8Array): DmaError | undefined {
  if (data.length === 0) return undefined;
  const segs: DmaSegment[] = [];
  out.take(data.length, segs);
  let pos = 0;
  for (const s of segs) {
    copyBytes(core.mem, s.start, data.subarray(pos, pos + s.length));
    pos += s.length;
  }
  if (out.fault) return out.fault;
  // The OUT list ended before the data did; the size checks make this unreachable, but never write past it.
  if (pos < data.length) throw new Error(`OUT list shorter than output (${pos} < ${data.length})`);
  return undefined;
}

/** SHA-256 (command 4), docs/crypto-device.md "SHA-256 (command 4)". */
function doSha256(core: DeviceCore, job: Job): Outcome {
  if (job.outPfn === 0 || job.outSize < SHA256_DIGEST_BYTES) return dmaError(core, 'sha256: OUT address 0 or size < 32');
  if (job.inPfn === 0 && job.inSize !== 0) return dmaError(core, 'sha256: IN address 0 with non-zero size');
  const { mem } = core;
  const hash = core.engine.createSha256();
  const input = new DmaCursor(mem, core.memView, job.inPfn, job.inSize);
  const segs: DmaSegment[] = [];
  while (input.remaining > 0) {
    segs.length = 0;
    input.take(core.chunkBytes, segs);
    if (input.fault) return dmaError(core, 'sha256: IN list', input.fault);
    // Each physically contiguous run goes to the engine as one view of guest RAM: no copy.
    for (const s of segs) hash.update(mem.subarray(s.start, s.start + s.length));
    const stop = checkStop(core, job);
    if (stop) return stop;
  }
  const fault = writeOut(core, new DmaCursor(mem, core.memView, job.outPfn, job.outSize), hash.digest());
  return fault ? dmaError(core, 'sha256: OUT list', fault) : READY;
}

/** AES-256-CBC encrypt (2) / decrypt (3), docs/crypto-device.md "AES-256-CBC (commands 2 and 3)". */
function doAesCbc(core: DeviceCore, job: Job): Outcome {
  const outBytes = roundUp16(job.inSize);
  if (job.inPfn === 0 || job.inSize === 0 || job.outPfn === 0 || job.outSize < outBytes) {
    return dmaError(core, 'aes-cbc: IN/OUT address 0, IN size 0 or OUT size < roundup16(IN size)');
  }
  const { mem } = core;
  const direction = job.command === COMMAND.AES_CBC_ENCRYPT ? 'encrypt' : 'decrypt';
  const cipher = core.engine.createAesCbc(direction, core.key, DEVICE_IV);
  let finished = false;
  try {
    const input = new DmaCursor(mem, core.memView, job.inPfn, job.inSize);
    const output = new DmaCursor(mem, core.memView, job.outPfn, job.outSize);
    const segs: DmaSegment[] = [];
    while (input.remaining > 0) {
      segs.length = 0;
      const n = input.take(core.chunkBytes, segs);
      if (input.fault) return dmaError(core, 'aes-cbc: IN list', input.fault);
      // One run feeds the engine in place. Scattered 4 KiB pages are gathered first: one 64 KiB update is markedly
      // faster than sixteen small ones for node:crypto's CBC, and the copy costs less than the calls it saves.
      const piece = segs.length === 1 ? mem.subarray(segs[0].start, segs[0].start + n) : gather(core, segs, n);
      const fault = writeOut(core, output, cipher.update(piece));
      if (fault) return dmaError(core, 'aes-cbc: OUT list', fault);
      const stop = checkStop(core, job);
      if (stop) return stop;
    }
    finished = true;
    const fault = writeOut(core, output, cipher.final());
    return fault ? dmaError(core, 'aes-cbc: OUT list', fault) : READY;
  } finally {
    if (!finished) cipher.final(); // ends the stream so the noble engine wipes its key copy
  }
}

const staging = new WeakMap<DeviceCore, Uint8Array>();
function gather(core: DeviceCore, segs: readonly DmaSegment[], n: number): Uint8Array {
  let buf = staging.get(core);
  if (buf === undefined || buf.length < core.chunkBytes) {
    buf = new Uint8Array(core.chunkBytes);
    staging.set(core, buf);
  }
  let pos = 0;
  for (const s of segs) {
    copyBytes(buf, pos, core.mem.subarray(s.start, s.start + s.length));
    pos += s.length;
  }
  return buf.subarray(0, n);
}
