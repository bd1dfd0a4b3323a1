// KEVENT-style events and the wait lock used for IoLock/ResetLock.

import { describe, expect, it } from 'vitest';
import { KernelEvent, waitForAny } from '../../kernel/kernel-event.js';
import { WaitLock } from '../../kernel/wait-lock.js';

describe('KernelEvent / waitForAny', () => {
  it('returns the first already-signalled event without waiting', async () => {
    const a = new KernelEvent('a');
    const b = new KernelEvent('b');
    b.set();
    expect(await waitForAny([a, b], 1000)).toBe(1);
    expect(b.isSet).toBe(true); // notification event: stays set until cleared
  });

  it('wakes on a later set and times out with -1', async () => {
    const a = new KernelEvent('a');
    const waiting = waitForAny([a], 5000);
    setTimeout(() => a.set(), 5);
    expect(await waiting).toBe(0);
    a.clear();
    expect(await waitForAny([a], 10)).toBe(-1);
  });
});

describe('WaitLock', () => {
  it('hands the lock over in FIFO order', async () => {
    const lock = new WaitLock('test');
    const order: number[] = [];
    await lock.acquire();
    const jobs = [1, 2, 3].map((n) => lock.withLock(async () => void order.push(n)));
    expect(lock.tryAcquire()).toBe(false);
    lock.release();
    await Promise.all(jobs);
    expect(order).toEqual([1, 2, 3]);
    expect(lock.isHeld).toBe(false);
    expect(lock.tryAcquire()).toBe(true);
  });
});
