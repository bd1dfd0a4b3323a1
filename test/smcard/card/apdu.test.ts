// Command APDU parsing: cases 1–4 short and extended (docs/smclib.md §8.2), malformed lengths → 6700.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { buildCommandApdu, parseCommandApdu, SW } from '../../../smcard/card/index.js';
import { SwError } from '../../../smcard/card/status-words.js';
import { h, hex } from './helpers.js';

describe('parseCommandApdu', () => {
  it('short cases', () => {
    expect(parseCommandApdu(h('00A40000'))).toMatchObject({ case: 1, ne: 0, extended: false, cla: 0, ins: 0xa4 });
    expect(parseCommandApdu(h('00B0000010'))).toMatchObject({ case: 2, ne: 16 });
    expect(parseCommandApdu(h('00B0000000'))).toMatchObject({ case: 2, ne: 256 });
    const c3 = parseCommandApdu(h('00A40000023F00'));
    expect(c3).toMatchObject({ case: 3, ne: 0 });
    expect(hex(c3.data)).toBe('3F00');
    const c4 = parseCommandApdu(h('00A40000023F0000'));
    expect(c4).toMatchObject({ case: 4, ne: 256 });
    expect(parseCommandApdu(h('00A40000023F0012')).ne).toBe(0x12);
  });

  it('extended cases', () => {
    expect(parseCommandApdu(h('00B00000000100'))).toMatchObject({ case: 2, ne: 256, extended: true });
    expect(parseCommandApdu(h('00B00000000000'))).toMatchObject({ case: 2, ne: 65536, extended: true });
    const c3 = parseCommandApdu(h('00D60000000003AABBCC'));
    expect(c3).toMatchObject({ case: 3, ne: 0, extended: true });
    expect(hex(c3.data)).toBe('AABBCC');
    expect(parseCommandApdu(h('002A9080000003616263 0000'))).toMatchObject({ case: 4, ne: 65536, extended: true });
    expect(parseCommandApdu(h('002A9080000003616263 0020'))).toMatchObject({ case: 4, ne: 32, extended: true });
    const big = new Uint8Array(7 + 300 + 2);
    big.set([0x00, 0xd6, 0, 0, 0, 0x01, 0x2c], 0);
    expect(parseCommandApdu(big)).toMatchObject({ case: 4, extended: true, ne: 65536 });
    expect(parseCommandApdu(big).data.length).toBe(300);
  });

  it('malformed lengths give 6700', () => {
    for (const bad of ['', '00', '00A400', '00A4000002AA', '00A40000023F000000', '00B000000001', '00B0000000000000', '00D600000000030102', '00D60000000002AA']) {
      let sw = -1;
      try {
        parseCommandApdu(h(bad));
      } catch (err) {
        sw = (err as SwError).sw;
      }
      expect(sw, bad).toBe(SW.WRONG_LENGTH);
    }
  });

  it('buildCommandApdu round-trips through the parser', () => {
    fc.assert(
      fc.property(
        fc.record({
          cla: fc.integer({ min: 0, max: 255 }),
          ins: fc.integer({ min: 0, max: 255 }),
          p1: fc.integer({ min: 0, max: 255 }),
          p2: fc.integer({ min: 0, max: 255 }),
          data: fc.uint8Array({ maxLength: 600 }),
          ne: fc.integer({ min: 0, max: 65536 }),
          extended: fc.boolean(),
        }),
        (o) => {
          const extended = o.extended || o.data.length > 255 || o.ne > 256;
          const parsed = parseCommandApdu(buildCommandApdu({ ...o, extended }));
          expect(parsed.data).toEqual(o.data);
          expect(parsed.ne).toBe(o.ne);
          expect(parsed.extended).toBe(extended && (o.data.length > 0 || o.ne > 0));
          const hasData = o.data.length > 0;
          const hasLe = o.ne > 0;
          expect(parsed.case).toBe(hasData && hasLe ? 4 : hasData ? 3 : hasLe ? 2 : 1);
        },
      ),
      { numRuns: 300 },
    );
  });
});
