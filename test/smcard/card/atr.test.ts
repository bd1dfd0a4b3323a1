// ATR rules (docs/smclib.md §8.1): TS, T0/TDi walk, TCK presence and XOR, 33-byte limit; the profiles' ATRs.

import { describe, expect, it } from 'vitest';
import { AtrError, atrProtocolMask, buildAtr, createVirtualCard, listProfiles, loadProfile, parseAtr } from '../../../smcard/card/index.js';
import { h, hex } from './helpers.js';

/** XOR of T0..end, computed here independently of the card's code. */
function xorFromT0(bytes: Uint8Array): number {
  let x = 0;
  for (let i = 1; i < bytes.length; i++) x ^= bytes[i];
  return x;
}

describe('ATR', () => {
  it('default card ATR: TS 3B, TD1 = T=0, TD2 = T=1, TCK makes T0..TCK XOR to 0', async () => {
    const card = await createVirtualCard({});
    const atr = await card.coldReset();
    expect(hex(atr)).toBe('3B8C800180318073B001406476736372CE');
    expect(atr[0]).toBe(0x3b);
    expect(atr[1] >> 4).toBe(0x8); // only TD1 follows
    expect(atr[1] & 0x0f).toBe(12); // K historical bytes
    expect(atr[2]).toBe(0x80); // TD1: TD2 follows, T=0
    expect(atr[3]).toBe(0x01); // TD2: T=1
    const tck = xorFromT0(atr.subarray(0, atr.length - 1));
    expect(atr[atr.length - 1]).toBe(tck);
    expect(xorFromT0(atr)).toBe(0);
    expect(atr.length).toBeLessThanOrEqual(33);
    expect(card.supportedProtocols).toBe(3);
  });

  it('every built-in profile has a valid ATR and derives its protocols from it', async () => {
    for (const name of listProfiles()) {
      const card = await createVirtualCard({ profile: name });
      const parsed = parseAtr(card.atr);
      expect(atrProtocolMask(parsed)).toBe(card.supportedProtocols);
    }
    const t1 = await createVirtualCard({ profile: 't1-only' });
    expect(t1.supportedProtocols).toBe(2);
    expect(hex(t1.atr)).toBe(loadProfile('t1-only').atr);
  });

  it('parses the spec examples', () => {
    expect(parseAtr(h('3B00'))).toMatchObject({ protocols: [0], tck: null });
    expect(atrProtocolMask(parseAtr(h('3B00')))).toBe(1);
    expect(parseAtr(h('3B800181'))).toMatchObject({ protocols: [1], tck: 0x81 });
    expect(atrProtocolMask(parseAtr(h('3B8080010 1')))).toBe(3);
    const vicc = parseAtr(h('3B95138101807 3FF01000B'));
    expect(vicc.groups[0].ta).toBe(0x13);
    expect(hex(vicc.historical)).toBe('8073FF0100');
    expect(vicc.protocols).toEqual([1, 1]);
  });

  it('rejects broken ATRs with a reason', () => {
    const cases: [string, RegExp][] = [
      ['3B', /too short/],
      ['3C00', /TS must be/],
      ['3B800180', /TCK wrong/],
      ['3B8001', /TCK missing/],
      ['3B82 01', /historical/],
      ['3B9001', /interface bytes/],
      ['3B0000', /unexpected/],
      ['3B8F01' + '00'.repeat(15) + '8E' + '00', /unexpected|too long/],
      ['3B' + 'FF'.repeat(40), /too long/],
    ];
    for (const [atr, msg] of cases) {
      expect(() => parseAtr(h(atr)), atr).toThrow(AtrError);
      expect(() => parseAtr(h(atr)), atr).toThrow(msg);
    }
  });

  it('T=0-only ATR needs no TCK; T=15 alone still needs one', () => {
    expect(parseAtr(h('3B8000')).tck).toBeNull(); // TD1 = T=0 only
    expect(() => parseAtr(h('3B800F'))).toThrow(/TCK missing/);
    expect(parseAtr(h('3B800F8F')).tck).toBe(0x8f);
  });

  it('buildAtr output always parses and has the independent TCK', () => {
    for (const protocols of [[0], [1], [0, 1], [1, 0]] as (0 | 1)[][]) {
      for (const ta1 of [undefined, 0x11, 0x96]) {
        const atr = buildAtr({ protocols, ta1, historical: h('8031C0') });
        const parsed = parseAtr(atr);
        expect(parsed.protocols).toEqual(protocols);
        if (protocols.length === 1 && protocols[0] === 0) expect(parsed.tck).toBeNull();
        else expect(xorFromT0(atr)).toBe(0);
      }
    }
    expect(() => buildAtr({ protocols: [1], historical: new Uint8Array(16) })).toThrow(AtrError);
  });
});
