// The host side of the device's interrupts: delivers interrupt n to the connected ISRs as the granted mode says
// (INTx level-triggered shared line, one MSI, four MSIs) — docs/crypto-device.md "Interrupt delivery".

import type { Logger } from 'pino';
import type { InterruptMode, InterruptServiceRoutine } from './contract.js';

/** Consecutive "not handled" calls on an asserted INTx line before delivery stops (Linux's "nobody cared"). */
export const DEFAULT_INTX_UNHANDLED_LIMIT = 1000;
/** Consecutive deliveries without the line ever dropping (an ISR that claims but never clears) before we stop. */
const INTX_STUCK_LIMIT = 100_000;

export interface InterruptControllerOptions {
  /** The device's line level source: in INTx mode the line can only be up while a flag is set. */
  anyFlagSet(): boolean;
  logger?: Logger;
  unhandledLimit?: number;
}

export class InterruptController {
  private modeValue: InterruptMode = 'intx'; // PCI power-on: MSI disabled until the OS enables it
  private readonly isrs: InterruptServiceRoutine[] = [];
  private asserted = false;
  private pumpScheduled = false;
  private unhandled = 0;
  private deliveries = 0;
  private silenced = false;
  private readonly unhandledLimit: number;

  constructor(private readonly opts: InterruptControllerOptions) {
    this.unhandledLimit = opts.unhandledLimit ?? DEFAULT_INTX_UNHANDLED_LIMIT;
  }

  get mode(): InterruptMode {
    return this.modeValue;
  }

  get lineAsserted(): boolean {
    return this.asserted;
  }

  setMode(mode: InterruptMode): void {
    if (mode !== 'intx' && mode !== 'msi' && mode !== 'msi-multi') throw new RangeError(`unknown interrupt mode '${String(mode)}'`);
    this.modeValue = mode;
    if (mode !== 'intx') this.lower();
  }

  connect(isr: InterruptServiceRoutine): () => void {
    this.isrs.push(isr);
    this.silenced = false;
    if (this.asserted) this.schedulePump(); // level-triggered: a line already up interrupts the new handler
    return () => {
      const i = this.isrs.indexOf(isr);
      if (i >= 0) this.isrs.splice(i, 1);
    };
  }

  /** The device raised (unmasked) interrupt `irq`; flags are already set. Delivery is always asynchronous. */
  signal(irq: number): void {
    switch (this.modeValue) {
      case 'intx':
        // The driver may already have read and cleared the flag (e.g. while handling an earlier interrupt);
        // then the level the device drove has already dropped again.
        if (!this.opts.anyFlagSet()) return;
        if (!this.asserted) {
          this.asserted = true;
          this.unhandled = 0;
          this.deliveries = 0;
          this.silenced = false;
        }
        this.schedulePump();
        return;
      case 'msi':
        queueMicrotask(() => this.dispatch(0));
        return;
      case 'msi-multi':
        queueMicrotask(() => this.dispatch(irq));
        return;
    }
  }

  /** INTx: the device lowers its line (all flags clear, mode change or bus reset). */
  lower(): void {
    this.asserted = false;
    this.silenced = false; // a new assertion gets a fresh chance
  }

  /** Calls ISRs in connection order until one claims the interrupt, as an OS walks a shared line. */
  private dispatch(messageId: number): boolean {
    for (const isr of [...this.isrs]) {
      try {
        if (isr(messageId)) return true;
      } catch (err) {
        this.opts.logger?.error({ err, messageId }, 'interrupt service routine threw');
      }
    }
    if (this.modeValue !== 'intx') this.opts.logger?.debug({ messageId }, 'MSI not claimed by any ISR');
    return false;
  }

  private schedulePump(): void {
    if (this.pumpScheduled || this.silenced || this.isrs.length === 0) return;
    this.pumpScheduled = true;
    // setImmediate, not a microtask: a line that stays up re-interrupts, but never starves the event loop.
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    if (!this.asserted || this.modeValue !== 'intx' || this.silenced) return;
    const handled = this.dispatch(0);
    this.deliveries++;
    this.unhandled = handled ? 0 : this.unhandled + 1;
    if (this.unhandled >= this.unhandledLimit || this.deliveries >= INTX_STUCK_LIMIT) {
      this.silenced = true;
      this.opts.logger?.warn(
        { unhandled: this.unhandled, deliveries: this.deliveries },
        'INTx line stuck asserted and not serviced; interrupt delivery stopped until the line drops',
      );
      return;
    }
    if (this.asserted) this.schedulePump();
  }

  /** Bus reset: the line drops and delivery is re-armed. */
  reset(): void {
    this.lower();
  }
}
