// Faults armed on one reader: what they do to the APDU traffic (remove the card mid-APDU, a mute or slow card,
// an overridden status word, a corrupted response, an unplugged reader, a card losing power), and when they fire (at once, on the
// Nth APDU, on a matching APDU, after a delay, with a seeded probability), one-shot or until cleared.

import { NTSTATUS } from '../../../kernel/ntstatus.js';
import { prng } from '../../../kernel/prng.js';
import { sharedTriggerDue, sharedTriggerProblem, type SharedTrigger } from '../../../kernel/fault-trigger.js';

export const READER_FAULT_KINDS = ['remove-card', 'mute', 'slow', 'sw', 'corrupt', 'unplug', 'reset-card', 'power-fail'] as const;
export type ReaderFaultKind = (typeof READER_FAULT_KINDS)[number];

/** When an armed fault fires. Every given condition must hold; none given = the next APDU. */
export interface FaultTrigger extends SharedTrigger {
  /** Fire on an APDU whose hex starts with this pattern; `..` matches any byte (e.g. `0020..81`). */
  match?: string;
}

export interface FaultSpec {
  kind: ReaderFaultKind;
  trigger?: FaultTrigger;
  /** One-shot (default) or until cleared. */
  once?: boolean;
  /** slow: delay per APDU (ms). mute: how long the reader waits before giving up (ms). */
  delayMs?: number;
  /** slow: added delay per byte of command and response (ms, may be fractional; ~1 ms is a 9600 baud line). */
  perByteMs?: number;
  /** sw: the status word that replaces the card's, 4 hex digits. */
  sw?: string;
  /** corrupt: flip one bit (default) or drop the last byte. */
  corruption?: 'bitflip' | 'truncate';
  /** unplug: plug the reader back after this many ms (absent: stays unplugged). */
  replugMs?: number;
}

export interface ArmedFault extends Required<Pick<FaultSpec, 'kind' | 'once'>> {
  id: number;
  spec: FaultSpec;
  armedAt: number;
  /** APDUs seen while armed. */
  seen: number;
  fired: number;
  /** For unplug and reset-card: what the reader's owner does when the fault fires. */
  onEvent?: () => void;
}

/** A fault firing on an APDU: what the driver does. */
export interface FaultAction {
  fault: ArmedFault;
  kind: ReaderFaultKind;
}

/** Bounds: what a client can make the reader hold. */
export const MAX_ARMED_FAULTS = 32;
export const MAX_FAULT_DELAY_MS = 120_000;
/** perByteMs at most; the whole delay of one APDU is still capped at MAX_FAULT_DELAY_MS. */
export const MAX_PER_BYTE_MS = 1000;

export class FaultSpecError extends Error {
  /** `scard`: the SCARD_* name of the PC/SC result that made the fault impossible, when one did. */
  constructor(message: string, readonly scard?: string) {
    super(message);
    this.name = 'FaultSpecError';
  }
}


function matches(pattern: string, apdu: Uint8Array): boolean {
  const p = pattern.toLowerCase();
  if (apdu.length < p.length / 2) return false;
  for (let i = 0; i < p.length; i += 2) {
    const pair = p.slice(i, i + 2);
    if (pair !== '..' && parseInt(pair, 16) !== apdu[i / 2]) return false;
  }
  return true;
}

/** Checks a spec; throws FaultSpecError with the reason. */
export function validateFaultSpec(spec: FaultSpec): void {
  if (!READER_FAULT_KINDS.includes(spec.kind)) throw new FaultSpecError(`unknown fault kind "${String(spec.kind)}"`);
  const t = spec.trigger ?? {};
  const problem = sharedTriggerProblem(t, MAX_FAULT_DELAY_MS);
  if (problem !== undefined) throw new FaultSpecError(problem);
  if (t.match !== undefined && !/^([0-9a-fA-F]{2}|\.\.){1,64}$/.test(t.match)) throw new FaultSpecError('trigger.match must be hex byte pairs or ".." wildcards');
  if (spec.delayMs !== undefined && !(Number.isSafeInteger(spec.delayMs) && spec.delayMs >= 0 && spec.delayMs <= MAX_FAULT_DELAY_MS)) throw new FaultSpecError(`delayMs must be 0..${MAX_FAULT_DELAY_MS}`);
  if (spec.perByteMs !== undefined && !(Number.isFinite(spec.perByteMs) && spec.perByteMs >= 0 && spec.perByteMs <= MAX_PER_BYTE_MS)) throw new FaultSpecError(`perByteMs must be 0..${MAX_PER_BYTE_MS}`);
  if (spec.perByteMs !== undefined && spec.kind !== 'slow') throw new FaultSpecError('perByteMs applies to a slow fault only');
  if (spec.replugMs !== undefined && !(Number.isSafeInteger(spec.replugMs) && spec.replugMs >= 0 && spec.replugMs <= MAX_FAULT_DELAY_MS)) throw new FaultSpecError(`replugMs must be 0..${MAX_FAULT_DELAY_MS}`);
  if (spec.kind === 'sw' && !/^[0-9a-fA-F]{4}$/.test(spec.sw ?? '')) throw new FaultSpecError('an sw fault needs "sw": 4 hex digits');
}

export class ReaderFaults {
  private readonly armed: ArmedFault[] = [];
  private readonly rngs = new Map<number, () => number>();
  private nextId = 1;
  /** Told of every fault that fires (logging, metrics). */
  onFired: ((fault: ArmedFault) => void) | null = null;
  /** Carries out unplug and reset-card, which need more than the driver (the bus, another RM client). */
  onEvent: ((fault: ArmedFault) => void) | null = null;

  constructor(private readonly now: () => number = Date.now) {}

  arm(spec: FaultSpec): ArmedFault {
    validateFaultSpec(spec);
    if (this.armed.length >= MAX_ARMED_FAULTS) throw new FaultSpecError(`at most ${MAX_ARMED_FAULTS} faults may be armed on one reader`);
    const fault: ArmedFault = { id: this.nextId++, kind: spec.kind, once: spec.once ?? true, spec: structuredClone(spec), armedAt: this.now(), seen: 0, fired: 0 };
    fault.onEvent = () => this.onEvent?.(fault);
    if (spec.trigger?.probability !== undefined) this.rngs.set(fault.id, prng(spec.trigger.seed ?? 1));
    this.armed.push(fault);
    return fault;
  }

  list(): readonly ArmedFault[] {
    return this.armed.map((f) => ({ ...f }));
  }

  clear(id?: number): number {
    const before = this.armed.length;
    for (let i = this.armed.length - 1; i >= 0; i--) {
      if (id === undefined || this.armed[i].id === id) {
        this.rngs.delete(this.armed[i].id);
        this.armed.splice(i, 1);
      }
    }
    return before - this.armed.length;
  }

  /** The first armed fault this APDU triggers, counted as fired (and disarmed if one-shot); null when none. */
  onApdu(apdu: Uint8Array): FaultAction | null {
    if (this.armed.length === 0) return null;
    const now = this.now();
    for (const f of this.armed) f.seen++;
    for (const f of this.armed) {
      const t = f.spec.trigger ?? {};
      if (t.match !== undefined && !matches(t.match, apdu)) continue;
      if (!sharedTriggerDue(t, f, now, this.rngs.get(f.id))) continue;
      return { fault: this.fire(f), kind: f.kind };
    }
    return null;
  }

  /** Fires a fault outside the APDU flow (armed "at once" for an event fault). */
  fire(f: ArmedFault): ArmedFault {
    f.fired++;
    if (f.once) this.clear(f.id);
    this.onFired?.(f);
    return f;
  }
}

/** The response after an `sw` or `corrupt` fault; `seed` picks the flipped bit. */
export function alterResponse(response: Uint8Array, spec: FaultSpec, seed: number): Uint8Array {
  const out = response.slice();
  if (spec.kind === 'sw') {
    out.set(Buffer.from(spec.sw!, 'hex'), out.length - 2);
    return out;
  }
  if (spec.corruption === 'truncate') return out.subarray(0, Math.max(0, out.length - 1));
  const bit = Math.floor(prng(seed)() * out.length * 8);
  out[bit >>> 3] ^= 0x80 >>> (bit & 7);
  return out;
}

/** How long a mute card keeps the reader waiting before it gives up, when the fault does not say (ms). */
export const DEFAULT_MUTE_TIMEOUT_MS = 2000;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The card as the APDU path needs it. */
interface TransmittingCard {
  transmit(apdu: Uint8Array, protocol: number): Promise<Uint8Array>;
}

/** What the driver lets a fault do to the slot. */
export interface SlotActions {
  /** Take the card out of the slot. */
  ejectCard(): void;
  /** Cut the card's power without telling anyone: the driver sees a present, unpowered card. */
  cutPower(): Promise<void>;
}

/** A slow fault's delay for one APDU: fixed part plus per-byte part, capped. */
export function slowDelayMs(spec: FaultSpec, bytes: number): number {
  return Math.min(MAX_FAULT_DELAY_MS, (spec.delayMs ?? 0) + (spec.perByteMs ?? 0) * bytes);
}

/**
 * What a fired fault does to one TRANSMIT inside the reader driver: the card's response (maybe altered), or the
 * NTSTATUS the driver completes the IRP with instead. Event faults (unplug, reset-card) are carried out by the
 * reader's owner through `onEvent`; the driver only sees their effect.
 */
export async function applyTransmitFault(
  action: FaultAction,
  card: TransmittingCard,
  apdu: Uint8Array,
  protocol: number,
  slot: SlotActions,
): Promise<Uint8Array | number> {
  const spec = action.fault.spec;
  switch (action.kind) {
    case 'remove-card':
      // Pulled before the card saw the command: its state is untouched, and the slot is empty.
      slot.ejectCard();
      return NTSTATUS.STATUS_NO_MEDIA;
    case 'power-fail':
      // Power lost before the card saw the command; the reader notices only that the card went silent.
      await slot.cutPower();
      return NTSTATUS.STATUS_IO_DEVICE_ERROR;
    case 'mute':
      await sleep(spec.delayMs ?? DEFAULT_MUTE_TIMEOUT_MS);
      return NTSTATUS.STATUS_IO_TIMEOUT; // the reader gave up waiting for the card
    case 'slow': {
      // The command's bytes go out slowly, then the response's come back slowly: the whole delay is bounded.
      const before = slowDelayMs(spec, apdu.length);
      await sleep(before);
      const response = await card.transmit(apdu, protocol);
      await sleep(slowDelayMs(spec, apdu.length + response.length) - before);
      return response;
    }
    case 'sw':
    case 'corrupt':
      return alterResponse(await card.transmit(apdu, protocol), spec, (spec.trigger?.seed ?? 1) + action.fault.fired);
    case 'unplug':
      action.fault.onEvent?.();
      return NTSTATUS.STATUS_DEVICE_REMOVED;
    case 'reset-card': {
      // The command completes; the other party's reset comes right after it.
      const response = await card.transmit(apdu, protocol);
      setImmediate(() => action.fault.onEvent?.());
      return response;
    }
  }
}
