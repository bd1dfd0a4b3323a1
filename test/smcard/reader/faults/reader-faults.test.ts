// When armed faults fire: Nth APDU, hex pattern with wildcards, delay, seeded probability, one-shot vs sticky,
// the bounds, and the response alterations.

import { describe, expect, it } from 'vitest';
import { alterResponse, FaultSpecError, MAX_ARMED_FAULTS, ReaderFaults } from '../../../../smcard/reader/faults/reader-faults.js';

const apdu = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'));
const SELECT = apdu('00a4000c023f00');
const CHALLENGE = apdu('0084000008');

/** Which of `count` APDUs fire (1-based). */
function firing(faults: ReaderFaults, count: number, command = SELECT): number[] {
  const out: number[] = [];
  for (let i = 1; i <= count; i++) if (faults.onApdu(command)) out.push(i);
  return out;
}

describe('ReaderFaults triggers', () => {
  it('no trigger: the next APDU, once', () => {
    const f = new ReaderFaults();
    f.arm({ kind: 'mute' });
    expect(firing(f, 3)).toEqual([1]);
    expect(f.list()).toEqual([]);
  });

  it('nth: exactly the Nth once; the Nth and every later one until cleared', () => {
    const once = new ReaderFaults();
    once.arm({ kind: 'sw', sw: '6a82', trigger: { nth: 3 } });
    expect(firing(once, 6)).toEqual([3]);
    const sticky = new ReaderFaults();
    const a = sticky.arm({ kind: 'sw', sw: '6a82', trigger: { nth: 3 }, once: false });
    expect(firing(sticky, 5)).toEqual([3, 4, 5]);
    expect(sticky.list()[0]).toMatchObject({ id: a.id, seen: 5, fired: 3 });
    expect(sticky.clear(a.id)).toBe(1);
    expect(firing(sticky, 2)).toEqual([]);
  });

  it('match: a hex prefix with .. wildcards', () => {
    const f = new ReaderFaults();
    f.arm({ kind: 'slow', trigger: { match: '00a4..0c' }, once: false });
    expect(f.onApdu(CHALLENGE)).toBeNull();
    expect(f.onApdu(SELECT)?.kind).toBe('slow');
    expect(f.onApdu(apdu('00a4'))).toBeNull(); // shorter than the pattern
  });

  it('afterMs: not before the delay', () => {
    let now = 1000;
    const f = new ReaderFaults(() => now);
    f.arm({ kind: 'mute', trigger: { afterMs: 500 } });
    expect(f.onApdu(SELECT)).toBeNull();
    now = 1499;
    expect(f.onApdu(SELECT)).toBeNull();
    now = 1500;
    expect(f.onApdu(SELECT)?.kind).toBe('mute');
  });

  it('probability: the same seed hits the same APDUs, another seed others, about p of them', () => {
    const run = (seed: number) => {
      const f = new ReaderFaults();
      f.arm({ kind: 'corrupt', trigger: { probability: 0.25, seed }, once: false });
      return firing(f, 400);
    };
    const a = run(42);
    expect(run(42)).toEqual(a);
    expect(run(43)).not.toEqual(a);
    expect(a.length).toBeGreaterThan(60);
    expect(a.length).toBeLessThan(140);
  });

  it('the first matching fault of several fires; fired faults are reported', () => {
    const f = new ReaderFaults();
    const seen: string[] = [];
    f.onFired = (x) => seen.push(`${x.id}:${x.kind}`);
    f.arm({ kind: 'sw', sw: '6a82', trigger: { match: '0084' } });
    f.arm({ kind: 'slow' });
    expect(f.onApdu(SELECT)?.kind).toBe('slow');
    expect(f.onApdu(CHALLENGE)?.kind).toBe('sw');
    expect(seen).toEqual(['2:slow', '1:sw']);
  });

  it('bounds and bad specs throw FaultSpecError', () => {
    const f = new ReaderFaults();
    expect(() => f.arm({ kind: 'sw' })).toThrow(FaultSpecError);
    expect(() => f.arm({ kind: 'mute', trigger: { nth: 0 } })).toThrow(/nth/);
    expect(() => f.arm({ kind: 'mute', trigger: { match: '0g' } })).toThrow(/match/);
    expect(() => f.arm({ kind: 'mute', delayMs: 120_001 })).toThrow(/delayMs/);
    for (let i = 0; i < MAX_ARMED_FAULTS; i++) f.arm({ kind: 'slow' });
    expect(() => f.arm({ kind: 'slow' })).toThrow(/at most 32/);
  });
});

describe('alterResponse', () => {
  const response = apdu('0102039000');
  it('sw replaces the last two bytes', () => {
    expect(Buffer.from(alterResponse(response, { kind: 'sw', sw: '6A82' }, 1)).toString('hex')).toBe('0102036a82');
  });
  it('truncate drops the last byte; bitflip changes exactly one bit, chosen by the seed', () => {
    expect(Buffer.from(alterResponse(response, { kind: 'corrupt', corruption: 'truncate' }, 1)).toString('hex')).toBe('01020390');
    const flipped = alterResponse(response, { kind: 'corrupt' }, 9);
    let bits = 0;
    for (let i = 0; i < response.length; i++) for (let x = flipped[i] ^ response[i]; x; x &= x - 1) bits++;
    expect(bits).toBe(1);
    expect(alterResponse(response, { kind: 'corrupt' }, 9)).toEqual(flipped);
    expect(Buffer.from(response).toString('hex')).toBe('0102039000');
  });
});
