// Interrupt messages from the device worker to the host thread through shared memory: a small ring the host drains
// while it polls for completion, with a postMessage wake-up only when the host is not polling.
//
// Why: a postMessage per interrupt is a cross-thread wake-up (an eventfd write, an epoll return, a structured
// clone each way). On a loaded 2-vCPU VM `perf` put that at several microseconds of CPU on each side, and far more
// wall time whenever the write preempted the worker. A host that is already polling only needs to read one word.
//
// Order and count are kept exactly: every signal() call gets a sequence number and the host delivers them in that
// order, one delivery per call, as it did one message per call. A full ring (a host that has not drained for
// SLOTS signals, e.g. one busy in a synchronous loop) falls back to carrying the signal in the message itself.

/** Ring entries: far more than the signals one request makes (one per accepted Command write). */
const SLOTS = 64;
const SLOT_WORDS = 3; // seq, irq bits, doorbell
const W = { TAIL: 0, HOST_POLLING: 1, HEAD: 2, HOST_NAPPING: 3 } as const;
const HEADER_WORDS = 4;
export const IRQ_MAILBOX_BYTES = (HEADER_WORDS + SLOTS * SLOT_WORDS) * 4;

/** One signal() call of the worker: the interrupt numbers it raised, in order, and the doorbell it answered. */
export interface IrqSignal {
  irqs: number[];
  doorbell: number;
}

function toBits(irqs: readonly number[]): number {
  let bits = 0;
  for (const n of irqs) bits |= 1 << n;
  return bits;
}

/** Interrupt numbers are 0..3 and raise() lists them in ascending order, so a bit set keeps the order. */
function fromBits(bits: number): number[] {
  const irqs: number[] = [];
  for (let n = 0; n < 4; n++) if ((bits & (1 << n)) !== 0) irqs.push(n);
  return irqs;
}

export class IrqMailbox {
  readonly sab: SharedArrayBuffer;
  private readonly words: Int32Array;
  /** Worker side: sequence number of the next signal. Host side: the next one to deliver. */
  private seq = 1;
  /** Host side: signals that came by message because the ring was full, by sequence number. */
  private readonly carried = new Map<number, IrqSignal>();

  constructor(sab: SharedArrayBuffer = new SharedArrayBuffer(IRQ_MAILBOX_BYTES)) {
    this.sab = sab;
    this.words = new Int32Array(sab);
  }

  // ---- worker side ----

  /**
   * Queues one signal. Returns what the worker must post: nothing (the host is polling and will read the ring),
   * a bare wake-up, or the signal itself (ring full).
   */
  post(irqs: readonly number[], doorbell: number): { type: 'irq-hint' } | { type: 'irq'; seq: number; irqs: number[]; doorbell: number } | undefined {
    const seq = this.seq;
    this.seq = (seq + 1) | 0;
    // Slot seq % SLOTS is free once seq - SLOTS has been delivered (TAIL: the last sequence number delivered).
    const full = ((seq - Atomics.load(this.words, W.TAIL)) | 0) > SLOTS;
    if (!full) {
      const at = HEADER_WORDS + (seq % SLOTS + SLOTS) % SLOTS * SLOT_WORDS;
      Atomics.store(this.words, at + 1, toBits(irqs));
      Atomics.store(this.words, at + 2, doorbell);
      Atomics.store(this.words, at, seq); // published last: the host reads seq first
    }
    // Ends a host nap (nap() waits on HEAD); sequentially consistent with its "set NAPPING, then wait".
    Atomics.add(this.words, W.HEAD, 1);
    if (Atomics.load(this.words, W.HOST_NAPPING) !== 0) Atomics.notify(this.words, W.HEAD);
    if (full) return { type: 'irq', seq, irqs: [...irqs], doorbell };
    // Sequentially consistent with the host's "stop polling, then drain": one of the two sees the other.
    return Atomics.load(this.words, W.HOST_POLLING) === 0 ? { type: 'irq-hint' } : undefined;
  }

  // ---- host side ----

  /** While set, the worker posts no wake-up for entries it puts in the ring. */
  setHostPolling(polling: boolean): void {
    Atomics.store(this.words, W.HOST_POLLING, polling ? 1 : 0);
  }

  /** Signals posted so far (wraps); read it before drain() and hand it to nap(). */
  head(): number {
    return Atomics.load(this.words, W.HEAD);
  }

  /**
   * Sleeps until the worker posts a signal after `head` was read, or `ms` passes. Blocks the calling thread: the
   * caller keeps `ms` short and goes back to its event loop in between.
   */
  nap(head: number, ms: number): void {
    Atomics.store(this.words, W.HOST_NAPPING, 1);
    Atomics.wait(this.words, W.HEAD, head, ms);
    Atomics.store(this.words, W.HOST_NAPPING, 0);
  }

  /** A signal that came by message (the ring was full when it was raised). */
  carry(seq: number, signal: IrqSignal): void {
    this.carried.set(seq, signal);
  }

  /** Calls `deliver` for every signal now available, in sequence order. */
  drain(deliver: (signal: IrqSignal) => void): void {
    for (;;) {
      const seq = this.seq;
      const at = HEADER_WORDS + (seq % SLOTS + SLOTS) % SLOTS * SLOT_WORDS;
      let signal: IrqSignal | undefined;
      if (Atomics.load(this.words, at) === seq) {
        signal = { irqs: fromBits(Atomics.load(this.words, at + 1)), doorbell: Atomics.load(this.words, at + 2) };
      } else {
        signal = this.carried.get(seq);
        if (signal === undefined) return;
        this.carried.delete(seq);
      }
      this.seq = (seq + 1) | 0;
      Atomics.store(this.words, W.TAIL, seq); // frees the slot for the worker
      deliver(signal);
    }
  }
}
