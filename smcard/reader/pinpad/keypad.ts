// The virtual keypad of a PIN-pad reader: one PIN entry at a time, driven from outside (digits, OK, Cancel),
// ending on OK, Cancel, timeout or the reader losing its card; plus a bounded queue of PINs typed ahead.

import { VALIDATION } from './part10.js';

export type EntryEnd = 'ok' | 'cancel' | 'timeout' | 'aborted';
export type EntryStage = 'pin' | 'current' | 'new' | 'confirm';

export interface EntryResult {
  end: EntryEnd;
  /** The digits typed; empty unless `end` is 'ok'. */
  digits: string;
}

export interface EntryRequest {
  stage: EntryStage;
  timeoutMs: number;
  /** After the first key, the timer restarts with this (0: keep the first timer). */
  firstKeyTimeoutMs: number;
  maxDigits: number;
  /** bEntryValidationCondition */
  validation: number;
}

/** What may be shown about the pad: never the digits themselves. */
export interface KeypadStatus {
  prompting: boolean;
  stage: EntryStage | null;
  digitsEntered: number;
  maxDigits: number | null;
  queued: number;
  /** Entries started since the reader was added. */
  entries: number;
}

/** A PIN typed ahead: the digits, then OK (or Cancel, to test a refusal unattended). */
export interface QueuedEntry {
  digits: string;
  key: 'ok' | 'cancel';
}

export class KeypadError extends Error {
  constructor(
    readonly reason: 'idle' | 'queue-full' | 'bad-digits',
    message: string,
  ) {
    super(message);
    this.name = 'KeypadError';
  }
}

/** The longest PIN the pad holds, and the most entries that may wait in the queue. */
export const KEYPAD_MAX_DIGITS = 32;
export const KEYPAD_MAX_QUEUE = 16;

interface ActiveEntry {
  request: EntryRequest;
  digits: string;
  timer: NodeJS.Timeout;
  resolve(result: EntryResult): void;
}

type PromptListener = (stage: EntryStage) => void;

export function validDigits(digits: string, allowEmpty = false): boolean {
  return typeof digits === 'string' && (allowEmpty || digits.length > 0) && digits.length <= KEYPAD_MAX_DIGITS && /^[0-9]*$/.test(digits);
}

export class Keypad {
  private readonly queue: QueuedEntry[] = [];
  private active: ActiveEntry | null = null;
  private entryCount = 0;
  private readonly listeners = new Set<PromptListener>();

  /** Starts an entry; a queued PIN answers it at once. */
  enter(request: EntryRequest): Promise<EntryResult> {
    if (this.active) this.finish('aborted');
    this.entryCount++;
    const queued = this.queue.shift();
    if (queued) {
      if (queued.key === 'cancel') return Promise.resolve({ end: 'cancel', digits: '' });
      return Promise.resolve({ end: 'ok', digits: queued.digits.slice(0, request.maxDigits) });
    }
    return new Promise<EntryResult>((resolve) => {
      this.active = { request, digits: '', resolve, timer: this.timer(request.timeoutMs) };
      for (const l of [...this.listeners]) l(request.stage);
    });
  }

  /** Key presses: digits go to the running entry; a pad that is not prompting refuses them. */
  type(digits: string): void {
    if (!validDigits(digits)) throw new KeypadError('bad-digits', 'digits must be 1..32 characters 0-9');
    const entry = this.requireActive();
    for (const d of digits) {
      if (this.active !== entry) return; // the entry completed on reaching its maximum size
      if (entry.digits.length >= entry.request.maxDigits) return; // a full pad ignores further digits
      const first = entry.digits.length === 0;
      entry.digits += d;
      if (first && entry.request.firstKeyTimeoutMs > 0) {
        clearTimeout(entry.timer);
        entry.timer = this.timer(entry.request.firstKeyTimeoutMs);
      }
      if ((entry.request.validation & VALIDATION.MAX_SIZE_REACHED) !== 0 && entry.digits.length === entry.request.maxDigits) this.finish('ok');
    }
  }

  ok(): void {
    this.requireActive();
    this.finish('ok');
  }

  cancel(): void {
    this.requireActive();
    this.finish('cancel');
  }

  /** The correction key: forget the digits typed so far in this entry. */
  clear(): void {
    this.requireActive().digits = '';
  }

  enqueue(entry: QueuedEntry): void {
    if (!validDigits(entry.digits, entry.key === 'cancel')) throw new KeypadError('bad-digits', 'digits must be 1..32 characters 0-9');
    if (this.queue.length >= KEYPAD_MAX_QUEUE) throw new KeypadError('queue-full', `at most ${KEYPAD_MAX_QUEUE} entries may be queued`);
    this.queue.push({ digits: entry.digits, key: entry.key });
  }

  clearQueue(): void {
    this.queue.length = 0;
  }

  /** Ends a running entry without a PIN: the card or the reader went away. */
  abort(): void {
    if (this.active) this.finish('aborted');
  }

  status(): KeypadStatus {
    const a = this.active;
    return {
      prompting: a !== null,
      stage: a?.request.stage ?? null,
      digitsEntered: a?.digits.length ?? 0,
      maxDigits: a?.request.maxDigits ?? null,
      queued: this.queue.length,
      entries: this.entryCount,
    };
  }

  /** Called whenever an entry starts waiting for keys (not for queued ones). */
  onPrompt(listener: PromptListener): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  private requireActive(): ActiveEntry {
    if (!this.active) throw new KeypadError('idle', 'the PIN pad is not asking for a PIN');
    return this.active;
  }

  private timer(ms: number): NodeJS.Timeout {
    return setTimeout(() => {
      const a = this.active;
      // With "timeout validates" a PIN typed so far counts as entered.
      if (a && (a.request.validation & VALIDATION.TIMEOUT) !== 0 && a.digits.length > 0) this.finish('ok');
      else this.finish('timeout');
    }, ms);
  }

  private finish(end: EntryEnd): void {
    const a = this.active;
    if (!a) return;
    this.active = null;
    clearTimeout(a.timer);
    a.resolve({ end, digits: end === 'ok' ? a.digits : '' });
  }
}
