// pcscd's automatic power-off: a card nobody holds a handle to is powered down after a grace period, through
// the reader's POWER IOCTL, so the next connection powers it up and negotiates again (no applet selection or
// PIN state carries over between sessions, as on a real reader).

import { NTSTATUS } from '../../kernel/ntstatus.js';
import { SMCLIB_POWER } from './reader-ioctl.js';
import { cardPresent } from './reader-state.js';
import type { RmCore } from './rm-core.js';
import type { RmReader } from './rm-types.js';

/** pcscd 1.9.9's PCSCLITE_POWER_OFF_GRACE_PERIOD (pcscd.h): 5 s. */
export const DEFAULT_POWER_DOWN_DELAY_MS = 5000;

const timers = new WeakMap<RmReader, NodeJS.Timeout>();

/** The last handle of `reader` is gone: power the card down after the grace period unless one comes back. */
export function scheduleIdlePowerDown(core: RmCore, reader: RmReader): void {
  if (core.powerDownDelayMs <= 0 || reader.handles.size > 0) return;
  cancelIdlePowerDown(reader);
  const timer = setTimeout(() => {
    timers.delete(reader);
    void powerDownIfIdle(core, reader);
  }, core.powerDownDelayMs);
  timer.unref();
  timers.set(reader, timer);
}

/** A handle was opened (or the reader went away): the card is in use, no power-down. */
export function cancelIdlePowerDown(reader: RmReader): void {
  const timer = timers.get(reader);
  if (timer === undefined) return;
  clearTimeout(timer);
  timers.delete(reader);
}

async function powerDownIfIdle(core: RmCore, reader: RmReader): Promise<void> {
  await reader.ops.run(async () => {
    // Checked again under the reader's mutex: a Connect may have come in while the timer fired.
    if (core.stopped || reader.gone || reader.handles.size > 0 || reader.protocol === 0 || !cardPresent(reader.readerState)) return;
    const io = reader.io;
    if (io === null) return;
    const r = await io.power(SMCLIB_POWER.POWER_DOWN);
    if (r.status !== NTSTATUS.STATUS_SUCCESS) {
      reader.log.debug({ status: r.status }, 'idle power-down refused by the driver');
      return;
    }
    // As pcscd: the protocol is unset, the reader state keeps 0x34 and no event is signalled; the next
    // Connect finds the card unpowered in the driver and powers it up again.
    reader.protocol = 0;
    reader.log.debug({ delayMs: core.powerDownDelayMs }, 'card powered down after its last handle (idle)');
  });
}
