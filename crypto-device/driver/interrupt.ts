// ISR and DPC (docs/crypto-device.md "Interrupt delivery"): the ISR only collects which events fired, the DPC turns
// them into the driver's ready/error/reset events.

import { IRQ, type InterruptMode, type PciCryptoDevice } from '../device/contract.js';
import { KernelEvent } from '../../kernel/kernel-event.js';
import { REG } from './registers.js';

const FLAG_REGISTER: Record<number, number> = {
  [IRQ.ERROR]: REG.MSI_ERROR_FLAG,
  [IRQ.READY]: REG.MSI_READY_FLAG,
  [IRQ.RESET]: REG.MSI_RESET_FLAG,
};

/** MSI_FLAGS of the original: one boolean per interrupt number (index 1 error, 2 ready, 3 reset). */
type MsiFlags = [boolean, boolean, boolean, boolean];

export interface InterruptCounters {
  /** ISR calls that were this device's. */
  handled: number;
  /** ISR calls on the shared INTx line with no flag set. */
  notHandled: number;
  dpcs: number;
}

export class DeviceInterrupts {
  readonly readyEvent = new KernelEvent('ready');
  readonly errorEvent = new KernelEvent('error');
  readonly resetEvent = new KernelEvent('reset');
  readonly counters: InterruptCounters = { handled: 0, notHandled: 0, dpcs: 0 };
  /** The interrupt context, shared by ISR and DPC (the WDF interrupt spin lock is the single host thread). */
  private pending: MsiFlags = [false, false, false, false];
  private dpcQueued = false;

  constructor(
    private readonly device: PciCryptoDevice,
    private readonly mode: () => InterruptMode,
  ) {}

  /**
   * EvtInterruptIsr. Message 0 (INTx or single MSI): read and clear the three flag registers; none set means
   * the shared line was raised by someone else, so report "not handled". Messages 1..3 (four MSIs): the vector
   * itself names the event and the registers need not be read.
   */
  readonly isr = (messageId: number): boolean => {
    if (messageId === IRQ.COMMON || this.mode() !== 'msi-multi') {
      if (!this.collectFlags()) {
        this.counters.notHandled++;
        return false;
      }
    } else if (messageId === IRQ.ERROR || messageId === IRQ.READY || messageId === IRQ.RESET) {
      this.pending[messageId] = true;
      // Not needed to learn the event, but clearing the flag keeps no stale flag behind should the line-based
      // path ever read the registers (and mirrors what the single-vector path leaves).
      this.device.mmioWrite(FLAG_REGISTER[messageId], 1, 0);
    } else {
      this.counters.notHandled++;
      return false;
    }
    this.counters.handled++;
    this.queueDpc();
    return true;
  };

  /** Reads the Msi*Flag registers and clears those that were set (which lowers the INTx line). */
  private collectFlags(): boolean {
    const error = this.device.mmioRead(REG.MSI_ERROR_FLAG, 1) !== 0;
    const ready = this.device.mmioRead(REG.MSI_READY_FLAG, 1) !== 0;
    const reset = this.device.mmioRead(REG.MSI_RESET_FLAG, 1) !== 0;
    if (!error && !ready && !reset) return false;
    if (error) this.device.mmioWrite(REG.MSI_ERROR_FLAG, 1, 0);
    if (ready) this.device.mmioWrite(REG.MSI_READY_FLAG, 1, 0);
    if (reset) this.device.mmioWrite(REG.MSI_RESET_FLAG, 1, 0);
    this.pending[IRQ.ERROR] ||= error;
    this.pending[IRQ.READY] ||= ready;
    this.pending[IRQ.RESET] ||= reset;
    return true;
  }

  /** WdfInterruptQueueDpcForIsr: at most one DPC queued at a time; it drains everything collected so far. */
  private queueDpc(): void {
    if (this.dpcQueued) return;
    this.dpcQueued = true;
    queueMicrotask(this.dpc);
  }

  /** EvtInterruptDpc: take a snapshot of the context, zero it, then signal the events. */
  private readonly dpc = (): void => {
    this.dpcQueued = false;
    const flags = this.pending;
    this.pending = [false, false, false, false];
    this.counters.dpcs++;
    if (flags[IRQ.ERROR]) this.errorEvent.set();
    if (flags[IRQ.READY]) this.readyEvent.set();
    if (flags[IRQ.RESET]) this.resetEvent.set();
  };
}
