// The trigger conditions reader faults and device faults share: the Nth event after arming, not before a delay,
// and a seeded probability. One definition of what each means, how it is checked and how REST and JSON-RPC
// describe it; each injector adds its own filter (an APDU pattern, a command) and its own error class.

import type { Field, FieldTable } from './field-table.js';

/** The conditions every fault trigger has. Each given one must hold; none given = the next event. */
export interface SharedTrigger {
  /** The Nth event this fault can act on, counted from arming (1 = the next one). */
  nth?: number;
  /** Not before this many ms after arming. */
  afterMs?: number;
  /** Act with this probability per eligible event, from a PRNG (kernel/prng.ts) seeded with `seed` (default 1). */
  probability?: number;
  seed?: number;
}

/** The PRNG takes a 32-bit seed. */
export const MAX_TRIGGER_SEED = 0xffff_ffff;

/** What is wrong with `t`'s shared conditions, as `trigger.<field> …`; undefined when nothing is. */
export function sharedTriggerProblem(t: SharedTrigger, maxDelayMs: number): string | undefined {
  if (t.nth !== undefined && !(Number.isSafeInteger(t.nth) && t.nth >= 1)) return 'trigger.nth must be an integer >= 1';
  if (t.afterMs !== undefined && !(Number.isSafeInteger(t.afterMs) && t.afterMs >= 0 && t.afterMs <= maxDelayMs)) return `trigger.afterMs must be 0..${maxDelayMs}`;
  if (t.probability !== undefined && !(t.probability > 0 && t.probability <= 1)) return 'trigger.probability must be in (0, 1]';
  if (t.seed !== undefined && !(Number.isSafeInteger(t.seed) && t.seed >= 0 && t.seed <= MAX_TRIGGER_SEED)) return `trigger.seed must be 0..${MAX_TRIGGER_SEED}`;
  return undefined;
}

/** The field-table entries of the shared conditions (`nthDescription` names the event: an APDU, a command). */
export function sharedTriggerFields(maxDelayMs: number, nthDescription: string): { nth: Field } & FieldTable {
  return {
    nth: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: nthDescription },
    afterMs: { type: 'integer', minimum: 0, maximum: maxDelayMs, description: 'not before this many ms after arming' },
    probability: { type: 'number', exclusiveMinimum: 0, maximum: 1 },
    seed: { type: 'integer', minimum: 0, maximum: MAX_TRIGGER_SEED },
  };
}

/** An armed fault as far as its trigger is concerned. */
export interface TriggerProgress {
  once: boolean;
  armedAt: number;
  /** Events seen while armed that this fault could act on, this one included. */
  seen: number;
}

/**
 * Whether the shared conditions let `f` act on the event it has just counted, at `now`. `rng` is the fault's
 * PRNG (present when it has a probability); it is drawn only when every other condition holds, so a seed gives the
 * same firings whatever else is armed. A one-shot `nth` fault acts on exactly the Nth event; one kept until
 * cleared acts on the Nth and every later one.
 */
export function sharedTriggerDue(t: SharedTrigger, f: TriggerProgress, now: number, rng: (() => number) | undefined): boolean {
  if (t.afterMs !== undefined && now - f.armedAt < t.afterMs) return false;
  if (t.nth !== undefined && f.seen !== t.nth && !(f.seen > t.nth && !f.once)) return false;
  return !(rng && rng() >= (t.probability ?? 1));
}
