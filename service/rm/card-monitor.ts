// One reader's card-state monitor: an endless chain of pended IS_PRESENT / IS_ABSENT IRPs, no polling
// (docs/smclib.md §5.2). A completed IS_PRESENT is an insertion, a completed IS_ABSENT a removal; an error
// such as the forum thread's STATUS_DEVICE_BUSY (docs/background.md) fails the reader; CANCELLED on shutdown ends the loop.

import type { Logger } from 'pino';
import { NTSTATUS, formatNtStatus } from '../../kernel/ntstatus.js';
import type { PendingIo } from '../../smcard/reader/contract.js';
import type { ReaderIo } from './reader-ioctl.js';

export interface MonitorHooks {
  /** IS_PRESENT completed. `initial` until the first IRP was seen pending (start-up detection). */
  inserted(initial: boolean): Promise<void>;
  removed(initial: boolean): void;
  /** A tracking IRP is really pending: the monitor works, the reader may be published. */
  steady(): void;
  /** The monitor cannot go on; `reason` is the diagnosis. */
  failed(reason: string): void;
  /** The device went away under the IRP (surprise removal). */
  gone(): void;
}

const DEVICE_GONE = new Set<number>([
  NTSTATUS.STATUS_DEVICE_REMOVED,
  NTSTATUS.STATUS_NO_SUCH_DEVICE,
  NTSTATUS.STATUS_DEVICE_NOT_CONNECTED,
  NTSTATUS.STATUS_DELETE_PENDING,
]);

/**
 * Tracking IRPs completed in a row without ever pending. A driver whose RDF_CARD_TRACKING returns SUCCESS
 * under a library that clears NotificationIrp would otherwise spin the monitor forever (docs/smclib.md §3.3).
 */
export const MAX_UNPENDED_TRACKING = 32;

export class CardMonitor {
  private pending: PendingIo | null = null;
  private stopped = false;

  constructor(
    private readonly io: ReaderIo,
    private readonly hooks: MonitorHooks,
    private readonly log: Logger,
  ) {}

  /** Runs until stopped, failed or the device is gone. */
  async run(): Promise<void> {
    let wantPresent = true;
    let initial = true;
    let unpended = 0;
    while (!this.stopped) {
      const name = wantPresent ? 'IOCTL_SMARTCARD_IS_PRESENT' : 'IOCTL_SMARTCARD_IS_ABSENT';
      const io = this.io.track(wantPresent);
      this.pending = io;
      if (await io.pended) {
        unpended = 0;
        if (initial) {
          initial = false;
          this.hooks.steady();
        }
      } else if (++unpended > MAX_UNPENDED_TRACKING) {
        io.cancel();
        this.hooks.failed(`${name} completed at once ${unpended} times in a row: the driver never pends card tracking (RDF_CARD_TRACKING must return STATUS_PENDING): reader considered failed`);
        return;
      }
      const r = await io.result;
      this.pending = null;
      if (this.stopped) return;
      if (r.status === NTSTATUS.STATUS_CANCELLED) {
        // Nobody in the RM cancels outside stop(); a driver cancelling on its own is a driver fault.
        this.hooks.failed(`${name} returned ${formatNtStatus(r.status)} without a shutdown: reader considered failed`);
        return;
      }
      if (DEVICE_GONE.has(r.status)) {
        this.log.debug({ status: formatNtStatus(r.status) }, `${name} ended: device gone`);
        this.hooks.gone();
        return;
      }
      if (r.status !== NTSTATUS.STATUS_SUCCESS) {
        this.hooks.failed(`${name} returned ${formatNtStatus(r.status)}: reader considered failed`);
        return;
      }
      if (wantPresent) {
        this.log.debug('card inserted');
        await this.hooks.inserted(initial);
      } else {
        this.log.debug('card removed');
        this.hooks.removed(initial);
      }
      wantPresent = !wantPresent;
    }
  }

  /** CancelIo on the pending tracking IRP; the loop ends when it completes with STATUS_CANCELLED. */
  stop(): void {
    this.stopped = true;
    this.pending?.cancel();
  }
}
