// Property: any byte string sent as an APDU, over T=0 or T=1, in any card state, gets a response of at least
// two bytes ending in a status word, and transmit never throws.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createVirtualCard } from '../../../smcard/card/index.js';
import { nodeCryptoCardCrypto } from './helpers.js';

const KNOWN_SW1 = new Set([0x90, 0x61, 0x62, 0x63, 0x65, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f]);

describe('random APDUs', () => {
  it('never throw and always end in a status word', async () => {
    const card = await createVirtualCard({ crypto: nodeCryptoCardCrypto() });
    await card.coldReset();
    // Bias towards real headers so handlers are reached, not only the parser.
    const header = fc.tuple(
      fc.constantFrom(0x00, 0x00, 0x00, 0x80, 0x10, 0x0c, 0xff),
      fc.constantFrom(0xa4, 0xb0, 0xd6, 0x20, 0x24, 0x2c, 0x84, 0x88, 0x2a, 0xc0, 0x00, 0x6a),
      fc.integer({ min: 0, max: 255 }),
      fc.integer({ min: 0, max: 255 }),
    );
    const structured = fc.tuple(header, fc.uint8Array({ maxLength: 300 })).map(([h, rest]) => Uint8Array.from([...h, ...rest]));
    const apdu = fc.oneof(fc.uint8Array({ maxLength: 600 }), structured);
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(apdu, fc.constantFrom(1, 2)), { minLength: 1, maxLength: 8 }), async (commands) => {
        await card.coldReset();
        // Sometimes select the applet and verify first, so the PIN-protected paths are exercised too.
        await card.transmit(Uint8Array.from(Buffer.from('00A4040C06F07673637201', 'hex')), 2);
        await card.transmit(Uint8Array.from(Buffer.from('002000810431323334', 'hex')), 2);
        for (const [bytes, protocol] of commands) {
          const r = await card.transmit(bytes, protocol);
          expect(r.length).toBeGreaterThanOrEqual(2);
          expect(KNOWN_SW1.has(r[r.length - 2])).toBe(true);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('with a data directory too (state writes on the way), and the state file stays loadable', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'vscr-card-prop-'));
    try {
      const card = await createVirtualCard({ dataDir });
      await fc.assert(
        fc.asyncProperty(fc.array(fc.tuple(fc.uint8Array({ minLength: 4, maxLength: 40 }), fc.constantFrom(1, 2)), { maxLength: 6 }), async (commands) => {
          await card.coldReset();
          await card.transmit(Uint8Array.from(Buffer.from('00A4080C0450005001', 'hex')), 2);
          for (const [generated, protocol] of commands) {
            // Put real INS values on random bodies so UPDATE BINARY and VERIFY really write state.
            const bytes = Uint8Array.from(generated);
            bytes[0] = 0;
            bytes[1] = [0xd6, 0x20, 0xb0, 0x2c][bytes[1] & 3];
            const r = await card.transmit(bytes, protocol);
            expect(r.length).toBeGreaterThanOrEqual(2);
          }
        }),
        { numRuns: 60 },
      );
      await card.close!();
      const again = await createVirtualCard({ dataDir });
      expect(again.profile).toBe('default');
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
