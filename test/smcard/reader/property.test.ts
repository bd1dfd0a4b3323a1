// Property test: random IOCTL codes, input buffers, output lengths and card events never throw out of the stack,
// and every IRP completes exactly once (IS_PRESENT/IS_ABSENT may pend; they are then cancelled, once).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NTSTATUS } from '../../../kernel/ntstatus.js';
import { IOCTL_SMARTCARD, scardCtlCode } from '../../../smcard/constants/ioctl.js';
import { SCARD_ATTR } from '../../../smcard/constants/scard-attributes.js';
import type { IoResult } from '../../../smcard/reader/contract.js';
import { FIXTURE_ATR_T0, FIXTURE_ATR_T1, FixtureCard } from '../../support/fixture-card.js';
import { settle, within } from '../../support/io.js';
import { newReader } from '../../support/reader.js';

const knownCodes = [...Object.values(IOCTL_SMARTCARD), scardCtlCode(8), scardCtlCode(2048), scardCtlCode(4095)];
const tracking = new Set<number>([IOCTL_SMARTCARD.IS_PRESENT, IOCTL_SMARTCARD.IS_ABSENT]);
const interestingDwords = [0, 1, 2, 3, 0x80000000, 0x10000, ...Object.values(SCARD_ATTR)];

const codeArb = fc.oneof(fc.constantFrom(...knownCodes), fc.integer({ min: 0, max: 0xffffffff }));
/** Random bytes, or a meaningful first DWORD (power code, protocol mask, attribute tag, SCARD_IO_REQUEST) + random tail. */
const inputArb = fc.oneof(
  fc.uint8Array({ maxLength: 48 }),
  fc.tuple(fc.constantFrom(...interestingDwords), fc.uint8Array({ maxLength: 24 })).map(([d, tail]) => {
    const out = new Uint8Array(4 + tail.length);
    new DataView(out.buffer).setUint32(0, d >>> 0, true);
    out.set(tail, 4);
    return out;
  }),
  fc.tuple(fc.constantFrom(1, 2), fc.integer({ min: 0, max: 40 }), fc.uint8Array({ maxLength: 24 })).map(([p, pci, apdu]) => {
    const out = new Uint8Array(8 + apdu.length);
    const v = new DataView(out.buffer);
    v.setUint32(0, p, true);
    v.setUint32(4, pci, true);
    out.set(apdu, 8);
    return out;
  }),
);

type Step =
  | { kind: 'ioctl'; code: number; input: Uint8Array; out: number }
  | { kind: 'insert'; atr: number }
  | { kind: 'remove' }
  | { kind: 'reopen' };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('ioctl' as const), code: codeArb, input: inputArb, out: fc.integer({ min: 0, max: 300 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('insert' as const), atr: fc.integer({ min: 0, max: 2 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'remove' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'reopen' as const }) },
);

const ATRS = [undefined, FIXTURE_ATR_T1, FIXTURE_ATR_T0];
let pendedCount = 0;

describe('random IOCTLs against the reader stack', () => {
  for (const variant of ['correct', 'forum-broken'] as const) {
    it(`never throws and completes each IRP exactly once (${variant})`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(stepArb, { minLength: 1, maxLength: 25 }), async (steps) => {
          const opened = newReader(variant);
          const reader = opened.reader;
          let h = opened.h;
          for (const step of steps) {
            if (step.kind === 'insert') {
              if (!reader.card) reader.insertCard(new FixtureCard({ atr: ATRS[step.atr] }));
              continue;
            }
            if (step.kind === 'remove') {
              reader.removeCard();
              continue;
            }
            if (step.kind === 'reopen') {
              h.close();
              h = reader.device.open();
              continue;
            }
            const io = h.deviceIoControl(step.code, step.input, step.out);
            let completions = 0;
            let last: IoResult | undefined;
            void io.result.then((r) => {
              completions++;
              last = r;
            });
            await settle();
            await settle();
            if (completions === 0) {
              // Only card tracking may stay pending (the fixture card answers at once).
              expect(tracking.has(step.code >>> 0)).toBe(true);
              pendedCount++;
              io.cancel();
              const r = await within(io.result, 2000, 'cancelled tracking IRP');
              expect([NTSTATUS.STATUS_CANCELLED, NTSTATUS.STATUS_SUCCESS]).toContain(r.status);
              await settle();
            }
            expect(completions).toBe(1);
            expect(last!.status).not.toBe(NTSTATUS.STATUS_PENDING);
            expect(last!.output.length).toBeLessThanOrEqual(step.out);
            expect(last!.output.length).toBe(Math.min(last!.information, step.out));
          }
          h.close();
          await settle();
          expect(reader.device.faults).toEqual([]);
          expect(reader.device.outstandingIrps()).toEqual([]);
        }),
        { numRuns: Number(process.env.VSCR_FC_RUNS ?? 150) },
      );
      // The pending-then-cancel path must actually be exercised (the correct driver pends tracking IRPs).
      if (variant === 'correct') expect(pendedCount).toBeGreaterThan(0);
    });
  }
});
