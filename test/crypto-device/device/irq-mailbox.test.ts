// The worker-to-host interrupt ring and the adaptive spin: order and count of signals, when a wake-up message is
// needed, the full-ring fallback, and when spinning stops and comes back. Both sides run in one thread here, over
// one SharedArrayBuffer, as the worker and host do over theirs.

import { describe, expect, it } from 'vitest';
import { AdaptiveSpin } from '../../../crypto-device/device/adaptive-spin.js';
import { IrqMailbox, type IrqSignal } from '../../../crypto-device/device/irq-mailbox.js';

function pair(): { worker: IrqMailbox; host: IrqMailbox; delivered: IrqSignal[]; drain: () => void } {
  const host = new IrqMailbox();
  const worker = new IrqMailbox(host.sab);
  const delivered: IrqSignal[] = [];
  return { worker, host, delivered, drain: () => host.drain((s) => delivered.push(s)) };
}

describe('IrqMailbox', () => {
  it('asks for a wake-up only while the host is not polling, and delivers signals in order with their doorbell', () => {
    const { worker, host, delivered, drain } = pair();
    expect(worker.post([2], 7)).toEqual({ type: 'irq-hint' });
    host.setHostPolling(true);
    expect(worker.post([1, 3], 8)).toBeUndefined();
    expect(worker.post([3], 9)).toBeUndefined();
    drain();
    expect(delivered).toEqual([
      { irqs: [2], doorbell: 7 },
      { irqs: [1, 3], doorbell: 8 },
      { irqs: [3], doorbell: 9 },
    ]);
    drain();
    expect(delivered).toHaveLength(3); // each signal once
  });

  it('carries a signal in the message when the ring is full, and still delivers everything in order', () => {
    const { worker, host, delivered, drain } = pair();
    host.setHostPolling(true);
    for (let i = 0; i < 64; i++) expect(worker.post([2], i)).toBeUndefined();
    const overflow = worker.post([1], 64);
    expect(overflow).toEqual({ type: 'irq', seq: 65, irqs: [1], doorbell: 64 });
    drain(); // frees the ring; the carried signal has not arrived yet, so delivery stops before it
    expect(delivered).toHaveLength(64);
    expect(worker.post([3], 65)).toBeUndefined(); // the ring has room again
    drain();
    expect(delivered).toHaveLength(64); // seq 66 waits for seq 65
    if (overflow?.type !== 'irq') throw new Error('expected a carried signal');
    host.carry(overflow.seq, { irqs: overflow.irqs, doorbell: overflow.doorbell });
    drain();
    expect(delivered.slice(63)).toEqual([
      { irqs: [2], doorbell: 63 },
      { irqs: [1], doorbell: 64 },
      { irqs: [3], doorbell: 65 },
    ]);
  });

  it('ends a nap as soon as the worker posts after the host read the head', () => {
    const { worker, host } = pair();
    const head = host.head();
    worker.post([2], 1);
    const start = performance.now();
    host.nap(head, 5000);
    expect(performance.now() - start).toBeLessThan(1000); // returned at once, not after 5 s
  });
});

describe('AdaptiveSpin', () => {
  it('stops spinning after four misses in a row, probes every 32nd wait, and spins again after a hit', () => {
    const spin = new AdaptiveSpin(30);
    for (let i = 0; i < 3; i++) {
      expect(spin.next()).toBe(30);
      spin.record(false);
    }
    spin.record(true); // a hit resets the count
    for (let i = 0; i < 4; i++) {
      expect(spin.next()).toBe(30);
      spin.record(false);
    }
    const spins = Array.from({ length: 64 }, () => spin.next());
    expect(spins.filter((s) => s === 30)).toHaveLength(2);
    expect(spins[31]).toBe(30);
    spin.record(true); // the probe found the event
    expect(spin.next()).toBe(30);
  });
});
