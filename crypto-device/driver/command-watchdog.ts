// The bound on a data request's wait for its interrupt (docs/crypto-device.md "The driver (WDF) and its I/O
// controls"): one coarse timer checks the deadlines of every waiting request, instead of a timer per request,
// which would cost more than the request itself on the small-request hot path.

import { KernelEvent } from '../../kernel/kernel-event.js';

/** How often deadlines are checked: a request times out at most this much late. */
export const WATCHDOG_TICK_MS = 100;

/** One request's deadline, in ticks; `expired` is set by the tick that reaches it. */
export class CommandDeadline {
  readonly expired = new KernelEvent('command-timeout');
  atTick = 0;
}

const watched = new Set<CommandDeadline>();
let ticker: NodeJS.Timeout | undefined;
/** Ticks so far: deadlines count in ticks, so arming one reads no clock. */
let ticks = 0;

function tick(): void {
  ticks++;
  for (const d of watched) {
    if (ticks < d.atTick) continue;
    watched.delete(d);
    d.expired.set();
  }
  if (watched.size === 0) {
    clearInterval(ticker);
    ticker = undefined;
  }
}

/** Starts watching `d` for at least `timeoutMs` (at most one tick more); its event is cleared. */
export function watch(d: CommandDeadline, timeoutMs: number): void {
  d.expired.clear();
  // +1: the next tick may come at once, so a whole tick less than asked could otherwise pass.
  d.atTick = ticks + Math.ceil(timeoutMs / WATCHDOG_TICK_MS) + 1;
  watched.add(d);
  if (ticker === undefined) {
    ticker = setInterval(tick, WATCHDOG_TICK_MS);
    ticker.unref(); // the pending request keeps the process alive, not its watchdog
  }
}

export function unwatch(d: CommandDeadline): void {
  watched.delete(d);
}
