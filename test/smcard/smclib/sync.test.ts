// OsData.Mutex and OsData.SpinLock (docs/smclib.md §3.1.5): FIFO serialisation that survives a throwing holder, and a
// spin lock that refuses re-entry (which would deadlock a real one).

import { describe, expect, it } from 'vitest';
import { AsyncMutex, SpinLock } from '../../../smcard/smclib/sync.js';
import { settle, within } from '../../support/io.js';

describe('AsyncMutex', () => {
  it('runs holders one at a time in arrival order, and releases after a throw', async () => {
    const mutex = new AsyncMutex();
    const log: string[] = [];
    const job = (name: string, fail = false) =>
      mutex.run(async () => {
        log.push(`${name}+`);
        await settle();
        log.push(`${name}-`);
        if (fail) throw new Error(name);
        return name;
      });
    const results = await within(Promise.allSettled([job('a'), job('b', true), job('c')]));
    expect(log).toEqual(['a+', 'a-', 'b+', 'b-', 'c+', 'c-']);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(mutex.locked).toBe(false);
  });
});

describe('SpinLock', () => {
  it('returns the section value, refuses re-entry, and is free again after a throw', () => {
    const lock = new SpinLock();
    expect(lock.run(() => 42)).toBe(42);
    expect(() => lock.run(() => lock.run(() => 0))).toThrow(/re-entered/);
    expect(() =>
      lock.run(() => {
        throw new Error('inside');
      }),
    ).toThrow('inside');
    expect(lock.run(() => 'free')).toBe('free');
  });
});
