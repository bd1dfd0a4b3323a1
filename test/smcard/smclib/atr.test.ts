// ATR parsing and SmartcardUpdateCardCapabilities (docs/smclib.md §3.4, §8.1): TS, Fl/Dl validity, TCK.

import { describe, expect, it } from 'vitest';
import { NTSTATUS } from '../../../kernel/ntstatus.js';
import { PTS_TYPE_OPTIMAL } from '../../../smcard/constants/smclib.js';
import { parseAtr, SmartcardUpdateCardCapabilities } from '../../../smcard/smclib/atr.js';
import { createSmartcardExtension } from '../../../smcard/smclib/extension.js';

const h = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

function update(atrHex: string, pts = 0) {
  const ext = createSmartcardExtension();
  const atr = h(atrHex);
  ext.CardCapabilities.ATR.Buffer.set(atr);
  ext.CardCapabilities.ATR.Length = atr.length;
  ext.CardCapabilities.PtsData.Type = pts;
  return { ext, status: SmartcardUpdateCardCapabilities(ext) };
}

describe('parseAtr', () => {
  it('accepts the §8.1 examples with the right protocols', () => {
    const cases: [string, number][] = [
      ['3B 00', 1],
      ['3B 80 01 81', 2],
      ['3B 80 80 01 01', 3],
      ['3B 95 13 81 01 80 73 FF 01 00 0B', 2],
      ['3B 8C 80 01 80 31 80 73 B0 01 40 64 76 73 63 72 CE', 3], // the `default` card profile's ATR
    ];
    for (const [atr, protocols] of cases) {
      const r = parseAtr(h(atr));
      expect(r.ok, atr).toBe(true);
      if (r.ok) expect(r.atr.protocols, atr).toBe(protocols);
    }
  });

  it('reads TA1 (Fl/Dl), TC1, historical bytes and T=1 parameters', () => {
    const r = parseAtr(h('3B 95 13 81 01 80 73 FF 01 00 0B'));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect([r.atr.Fl, r.atr.Dl]).toEqual([1, 3]);
    expect([...r.atr.historical]).toEqual([0x80, 0x73, 0xff, 0x01, 0x00]);
    expect(r.atr.tck).toBe(0x0b);
    expect(r.atr.specific).toBeNull();
    // TD1 = 81, TD2 = 71: T=1 with TA3/TB3/TC3 → IFSC 0xFE, BWI 4 / CWI 5, CRC; TCK = CA.
    const t1 = parseAtr(h('3B 80 81 71 FE 45 01 CA'));
    expect(t1.ok).toBe(true);
    if (t1.ok) expect(t1.atr.t1).toEqual({ IFSC: 0xfe, CWI: 5, BWI: 4, EDC: 1 });
  });

  it('rejects bad TS, RFU Fl/Dl, wrong TCK, truncation and trailing bytes', () => {
    expect(parseAtr(h('3C 00')).ok).toBe(false);
    expect(parseAtr(h('3B 10 71')).ok).toBe(false); // Fl = 7 is RFU
    expect(parseAtr(h('3B 10 1A')).ok).toBe(false); // Dl = 10 is RFU
    expect(parseAtr(h('3B 80 01 80')).ok).toBe(false); // TCK should be 81
    expect(parseAtr(h('3B 80 01')).ok).toBe(false); // TCK missing
    expect(parseAtr(h('3B 82 01 41')).ok).toBe(false); // historical bytes truncated
    expect(parseAtr(h('3B 00 00')).ok).toBe(false);
    expect(parseAtr(new Uint8Array(34).fill(0x3b)).ok).toBe(false);
    expect(parseAtr(h('3B')).ok).toBe(false);
  });

  it('reports TA2 specific mode', () => {
    // T0 = 80; TD1 = 90 (TA2 and TD2 follow, T=0); TA2 = 01 (specific T=1); TD2 = 01 (T=1); TCK = 10.
    const r = parseAtr(h('3B 80 90 01 01 10'));
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.atr.specific).toEqual({ protocol: 1, implicit: false });
  });
});

describe('SmartcardUpdateCardCapabilities', () => {
  it('fills CardCapabilities or returns STATUS_UNRECOGNIZED_MEDIA', () => {
    const good = update('3B 95 13 81 01 80 73 FF 01 00 0B', PTS_TYPE_OPTIMAL);
    expect(good.status).toBe(NTSTATUS.STATUS_SUCCESS);
    expect(good.ext.CardCapabilities.Protocol.Supported).toBe(2);
    expect(good.ext.CardCapabilities.HistoricalChars.Length).toBe(5);
    expect([good.ext.CardCapabilities.PtsData.Fl, good.ext.CardCapabilities.PtsData.Dl]).toEqual([1, 3]);
    // 4000 kHz · D 4 / F 372 = 43010 bps.
    expect(good.ext.CardCapabilities.PtsData.DataRate).toBe(43010);
    expect(update('3B 95 13 81 01 80 73 FF 01 00 0B').ext.CardCapabilities.PtsData.Dl).toBe(1); // DEFAULT keeps Dd
    expect(update('3F 00').status).toBe(NTSTATUS.STATUS_SUCCESS);
    expect(update('3F 00').ext.CardCapabilities.InversConvention).toBe(true);
    expect(update('3A 00').status).toBe(NTSTATUS.STATUS_UNRECOGNIZED_MEDIA);
    expect(update('3B 80 01 80').status).toBe(NTSTATUS.STATUS_UNRECOGNIZED_MEDIA);
    expect(update('3B 10 F1').status).toBe(NTSTATUS.STATUS_UNRECOGNIZED_MEDIA);
  });

  it('drops protocols the reader does not offer', () => {
    const ext = createSmartcardExtension({ supportedProtocols: 1 });
    const atr = h('3B 80 01 81');
    ext.CardCapabilities.ATR.Buffer.set(atr);
    ext.CardCapabilities.ATR.Length = atr.length;
    expect(SmartcardUpdateCardCapabilities(ext)).toBe(NTSTATUS.STATUS_SUCCESS);
    expect(ext.CardCapabilities.Protocol.Supported).toBe(0);
  });
});
