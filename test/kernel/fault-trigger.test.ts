// The trigger conditions reader and device faults share (kernel/fault-trigger.ts): their checks, their field
// table, and when they let a fault act; both injectors refuse the same bad triggers with the same words.
import { describe, expect, it } from 'vitest';
import { DeviceFaultInjector, DeviceFaultSpecError, MAX_DEVICE_FAULT_DELAY_MS } from '../../crypto-device/device/fault-injector.js';
import { sharedTriggerDue, sharedTriggerFields, sharedTriggerProblem, MAX_TRIGGER_SEED } from '../../kernel/fault-trigger.js';
import { prng } from '../../kernel/prng.js';
import { FaultSpecError, MAX_FAULT_DELAY_MS, ReaderFaults } from '../../smcard/reader/faults/reader-faults.js';

describe('shared trigger conditions', () => {
  it('names the first problem, field by field', () => {
    expect(sharedTriggerProblem({}, 100)).toBeUndefined();
    expect(sharedTriggerProblem({ nth: 1, afterMs: 100, probability: 1, seed: MAX_TRIGGER_SEED }, 100)).toBeUndefined();
    expect(sharedTriggerProblem({ nth: 0 }, 100)).toBe('trigger.nth must be an integer >= 1');
    expect(sharedTriggerProblem({ nth: 1.5 }, 100)).toBe('trigger.nth must be an integer >= 1');
    expect(sharedTriggerProblem({ afterMs: 101 }, 100)).toBe('trigger.afterMs must be 0..100');
    expect(sharedTriggerProblem({ afterMs: -1 }, 100)).toBe('trigger.afterMs must be 0..100');
    expect(sharedTriggerProblem({ probability: 0 }, 100)).toBe('trigger.probability must be in (0, 1]');
    expect(sharedTriggerProblem({ probability: 1.01 }, 100)).toBe('trigger.probability must be in (0, 1]');
    expect(sharedTriggerProblem({ seed: MAX_TRIGGER_SEED + 1 }, 100)).toBe('trigger.seed must be 0..4294967295');
    expect(sharedTriggerProblem({ seed: -1 }, 100)).toBe('trigger.seed must be 0..4294967295');
  });

  it('describes the same bounds as a field table', () => {
    expect(sharedTriggerFields(250, 'the Nth thing')).toEqual({
      nth: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'the Nth thing' },
      afterMs: { type: 'integer', minimum: 0, maximum: 250, description: 'not before this many ms after arming' },
      probability: { type: 'number', exclusiveMinimum: 0, maximum: 1 },
      seed: { type: 'integer', minimum: 0, maximum: 4294967295 },
    });
  });

  it('lets a one-shot nth fault act on exactly the Nth event, a kept one on the Nth and later', () => {
    const due = (once: boolean, seen: number) => sharedTriggerDue({ nth: 3 }, { once, armedAt: 0, seen }, 0, undefined);
    expect([1, 2, 3, 4, 5].map((seen) => due(true, seen))).toEqual([false, false, true, false, false]);
    expect([1, 2, 3, 4, 5].map((seen) => due(false, seen))).toEqual([false, false, true, true, true]);
  });

  it('waits for afterMs from arming', () => {
    const f = { once: true, armedAt: 1000, seen: 1 };
    expect(sharedTriggerDue({ afterMs: 500 }, f, 1499, undefined)).toBe(false);
    expect(sharedTriggerDue({ afterMs: 500 }, f, 1500, undefined)).toBe(true);
  });

  it('draws the PRNG only when every other condition holds, so a seed gives the same firings', () => {
    const draws: number[] = [];
    const source = prng(7);
    const rng = () => {
      const v = source();
      draws.push(v);
      return v;
    };
    const f = { once: false, armedAt: 0, seen: 1 };
    expect(sharedTriggerDue({ afterMs: 10, probability: 0.5 }, f, 5, rng)).toBe(false);
    expect(draws).toEqual([]);
    const expected = prng(7)();
    expect(sharedTriggerDue({ afterMs: 10, probability: 0.5 }, f, 10, rng)).toBe(expected < 0.5);
    expect(draws).toEqual([expected]);
  });
});

describe('both injectors', () => {
  it('refuse the same bad triggers with the same words, each in its own error class', () => {
    const bad = [{ nth: 0 }, { probability: 2 }, { seed: 2 ** 32 }];
    for (const trigger of bad) {
      const words = sharedTriggerProblem(trigger, Math.min(MAX_FAULT_DELAY_MS, MAX_DEVICE_FAULT_DELAY_MS));
      expect(() => new ReaderFaults().arm({ kind: 'mute', trigger })).toThrow(new FaultSpecError(words!));
      expect(() => new DeviceFaultInjector(() => undefined).arm({ kind: 'dma-error', trigger })).toThrow(new DeviceFaultSpecError(words!));
    }
  });
});
