// Property test end to end: random byte strings as APDUs, sent with IOCTL_SMARTCARD_TRANSMIT through the library
// and the reader driver to the REAL virtual card, over T=0 and T=1, with random output sizes. Each IRP completes
// exactly once with a status docs/smclib.md §3.2 allows, and a successful reply is header + response ending in a
// status word.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NTSTATUS } from '../../../kernel/ntstatus.js';
import { createVirtualCard } from '../../../smcard/card/index.js';
import { IOCTL_SMARTCARD } from '../../../smcard/constants/ioctl.js';
import { WinScard } from '../../../smcard/constants/scard.js';
import { nodeCryptoCardCrypto } from '../card/helpers.js';
import { power, readDword, setProtocol, settle, transmitInput, within } from '../../support/io.js';
import { newReader } from '../../support/reader.js';

const S = NTSTATUS;
const KNOWN_SW1 = new Set([0x90, 0x61, 0x62, 0x63, 0x65, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f]);

/** Real headers with random bodies, so the card's handlers are reached and not only its parser. */
const apduArb = fc.oneof(
  fc.uint8Array({ maxLength: 300 }),
  fc
    .tuple(
      fc.constantFrom(0x00, 0x00, 0x80, 0x10),
      fc.constantFrom(0xa4, 0xb0, 0xd6, 0x20, 0x24, 0x2c, 0x84, 0x88, 0x2a, 0xc0),
      fc.integer({ min: 0, max: 255 }),
      fc.integer({ min: 0, max: 255 }),
      fc.uint8Array({ maxLength: 280 }),
    )
    .map(([cla, ins, p1, p2, rest]) => Uint8Array.from([cla, ins, p1, p2, ...rest])),
);

describe('random APDUs through IOCTL_SMARTCARD_TRANSMIT to the virtual card', () => {
  it('complete every IRP exactly once, with SUCCESS + a status word, BUFFER_TOO_SMALL or INVALID_PARAMETER', async () => {
    const card = await createVirtualCard({ crypto: nodeCryptoCardCrypto() });
    let successes = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(WinScard.PROTOCOL_T0, WinScard.PROTOCOL_T1),
        fc.array(fc.tuple(apduArb, fc.integer({ min: 0, max: 400 })), { minLength: 1, maxLength: 8 }),
        async (protocol, commands) => {
          const { reader, h } = newReader();
          reader.insertCard(card);
          expect((await power(h, WinScard.COLD_RESET)).status).toBe(S.STATUS_SUCCESS);
          expect(readDword((await setProtocol(h, protocol)).output)).toBe(protocol);
          for (const [apdu, outLen] of commands) {
            const io = h.deviceIoControl(IOCTL_SMARTCARD.TRANSMIT, transmitInput(protocol, apdu), outLen);
            let completions = 0;
            void io.result.then(() => completions++);
            const r = await within(io.result, 5000, 'TRANSMIT');
            await settle();
            expect(completions).toBe(1);
            const minApdu = protocol === WinScard.PROTOCOL_T0 ? 4 : 1;
            if (apdu.length < minApdu) {
              expect([r.status, r.information]).toEqual([S.STATUS_INVALID_PARAMETER, 0]);
            } else if (r.status === S.STATUS_SUCCESS) {
              successes++;
              expect(r.information).toBeGreaterThanOrEqual(10);
              expect(r.information).toBeLessThanOrEqual(outLen);
              expect([readDword(r.output, 0), readDword(r.output, 4)]).toEqual([protocol, 8]);
              expect(KNOWN_SW1.has(r.output[r.information - 2])).toBe(true);
            } else {
              // The response did not fit the caller's buffer (or the buffer could not even hold header + SW).
              expect([r.status, r.information, r.output.length]).toEqual([S.STATUS_BUFFER_TOO_SMALL, 0, 0]);
            }
          }
          expect(reader.removeCard()).toBe(card);
          h.close();
          expect(reader.device.faults).toEqual([]);
          expect(reader.device.outstandingIrps()).toEqual([]);
        },
      ),
      { numRuns: Number(process.env.VSCR_FC_RUNS ?? 150) },
    );
    expect(successes).toBeGreaterThan(0);
  });
});
