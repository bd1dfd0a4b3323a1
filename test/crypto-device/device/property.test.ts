// Property tests (fast-check): random register traffic and random page lists never throw, never hang, never raise
// an internal error, write guest RAM only where the OUT list says, and a reset always brings the device back.

import { createCipheriv, createDecipheriv, createHash } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEVICE_IV, deriveDeviceKey } from '../../../crypto-device/device/commands.js';
import type { PciCryptoDeviceModel } from '../../../crypto-device/device/index.js';
import { COMMAND, ERROR, IRQ_NUM, PAGE_SIZE, STATE } from '../../../crypto-device/device/registers.js';
import { nativeEngine } from '../../../crypto-device/engines/index.js';
import { IrqRecorder, makeDevice, program, rd, wr, writeEntries } from './harness.js';

const RAM_PAGES = 64;
const RAM = RAM_PAGES * PAGE_SIZE;
const KEY = deriveDeviceKey(nativeEngine, 'secret');

async function until(cond: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`device hung: ${what}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}
const idle = (dev: PciCryptoDeviceModel) => rd(dev, 'COMMAND') === COMMAND.IDLE && rd(dev, 'STATE') === STATE.READY;

/** Reset with everything enabled and wait (bounded) for interrupt 3; then the device must be ready and clean. */
async function resetAndCheck(dev: PciCryptoDeviceModel, rec: IrqRecorder): Promise<void> {
  dev.setInterruptMode('msi-multi');
  wr(dev, 'INTERRUPT_FLAG', 0xff);
  const before = rec.events.length;
  wr(dev, 'COMMAND', COMMAND.RESET);
  await until(() => rec.events.slice(before).some((e) => e.vector === IRQ_NUM.RESET), 'reset interrupt');
  await until(() => idle(dev), 'idle after reset');
  expect(rd(dev, 'STATE')).toBe(STATE.READY);
  expect(rd(dev, 'ERROR_CODE')).toBe(ERROR.NONE);
  expect(rd(dev, 'COMMAND')).toBe(COMMAND.IDLE);
}

describe('random register traffic', () => {
  let dev: PciCryptoDeviceModel;
  let rec: IrqRecorder;
  beforeAll(async () => {
    dev = await makeDevice({ guestMemoryBytes: RAM, chunkBytes: 4096, intxUnhandledLimit: 50 });
    rec = new IrqRecorder(dev);
  });
  afterAll(() => dev.destroy());

  const action = fc.oneof(
    fc.record({ kind: fc.constant('write' as const), offset: fc.integer({ min: 0, max: 0x30 }), size: fc.constantFrom(1, 2, 4, 8, 3), value: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }) }),
    fc.record({ kind: fc.constant('write' as const), offset: fc.integer({ min: -8, max: 4200 }), size: fc.constantFrom(1, 2, 4, 8), value: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }) }),
    fc.record({ kind: fc.constant('read' as const), offset: fc.integer({ min: -8, max: 4200 }), size: fc.constantFrom(1, 2, 4, 8, 5) }),
    fc.record({ kind: fc.constant('command' as const), value: fc.integer({ min: 0, max: 6 }), inPfn: fc.integer({ min: 0, max: 80 }), outPfn: fc.integer({ min: 0, max: 80 }), inSize: fc.integer({ min: 0, max: 2 ** 32 - 1 }), outSize: fc.integer({ min: 0, max: 300_000 }) }),
    fc.record({ kind: fc.constant('mode' as const), mode: fc.constantFrom('intx' as const, 'msi' as const, 'msi-multi' as const) }),
    fc.record({ kind: fc.constant('ram' as const), seed: fc.integer() }),
  );

  it('never throws, never hangs, never raises an internal error; reset always recovers', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(action, { maxLength: 25 }), async (actions) => {
        for (const a of actions) {
          switch (a.kind) {
            case 'write':
              expect(() => dev.mmioWrite(a.offset, a.size as 1, a.size === 8 ? a.value : Number(a.value & 0xffff_ffffn))).not.toThrow();
              break;
            case 'read':
              expect(() => dev.mmioRead(a.offset, a.size as 1)).not.toThrow();
              break;
            case 'command':
              program(dev, { listPfn: a.inPfn, length: a.inSize }, { listPfn: a.outPfn, length: a.outSize });
              wr(dev, 'COMMAND', a.value);
              break;
            case 'mode':
              dev.setInterruptMode(a.mode);
              break;
            case 'ram': {
              // Random bytes, with some plausible u64 entries (small page addresses) mixed in.
              let x = a.seed | 1;
              const view = new DataView(dev.memory.sab);
              for (let off = 0; off < RAM; off += 8) {
                x ^= x << 13;
                x ^= x >>> 17;
                x ^= x << 5;
                const plausible = (x & 3) !== 0;
                view.setUint32(off, plausible ? ((x >>> 2) % RAM_PAGES) * PAGE_SIZE + (x & 0x3f) : x >>> 0, true);
                view.setUint32(off + 4, plausible ? 0 : (x * 7) >>> 0, true);
              }
              break;
            }
          }
          await until(() => idle(dev), 'idle after action');
          expect(rd(dev, 'ERROR_CODE')).not.toBe(ERROR.INTERNAL);
        }
        await resetAndCheck(dev, rec);
      }),
      { numRuns: 40 },
    );
  });
});

// --- guarded DMA: structured random lists against an independent reference walk ---

const BAD_ENTRIES = [0n, BigInt(RAM), 2n ** 44n, 2n ** 44n - 4096n, 2n ** 64n - 1n];
const LIST_PAGES = [1, 2, 3, 4, 5, 6, 7]; // page lists live here
const IN_PAGES = Array.from({ length: 24 }, (_, i) => 8 + i); // IN data may come from here
const OUT_PAGES = Array.from({ length: 32 }, (_, i) => 32 + i); // OUT data may only go here

/** Independent model of the walk: segments of the list, or undefined when the walk hits a bad entry. */
function refWalk(ram: Uint8Array, listAddr: number, size: number): [number, number][] | undefined {
  const view = new DataView(ram.buffer, ram.byteOffset, ram.length);
  const segs: [number, number][] = [];
  for (let pos = 0, i = 0; pos < size; i++) {
    const at = listAddr + 8 * i;
    if (at + 8 > ram.length) return undefined;
    const e = view.getBigUint64(at, true);
    if (e === 0n || e > 0xfff_ffff_ffffn || e >= BigInt(ram.length)) return undefined;
    const start = Number(e);
    const n = Math.min(PAGE_SIZE - (start % PAGE_SIZE), size - pos);
    if (start + n > ram.length) return undefined;
    segs.push([start, n]);
    pos += n;
  }
  return segs;
}

const gather = (ram: Uint8Array, segs: [number, number][]) => Buffer.concat(segs.map(([s, n]) => ram.subarray(s, s + n)));
function scatter(ram: Uint8Array, segs: [number, number][], data: Uint8Array): void {
  let pos = 0;
  for (const [s, n] of segs) {
    ram.set(data.subarray(pos, pos + n), s);
    pos += n;
  }
}

describe('random page lists against a reference walk', () => {
  for (const chunkBytes of [4096, 65536]) {
    let dev: PciCryptoDeviceModel;
    let rec: IrqRecorder;
    beforeAll(async () => {
      dev = await makeDevice({ guestMemoryBytes: RAM, chunkBytes, interruptMode: 'msi-multi' });
      wr(dev, 'INTERRUPT_FLAG', 0xff);
      rec = new IrqRecorder(dev);
    });
    afterAll(() => dev.destroy());

    const entry = (pool: number[]) =>
      fc.oneof({ weight: 30, arbitrary: fc.constantFrom(...pool).map((p) => BigInt(p * PAGE_SIZE)) }, { weight: 1, arbitrary: fc.constantFrom(...BAD_ENTRIES) });
    const list = (pool: number[]) =>
      fc.record({
        listPage: fc.constantFrom(...LIST_PAGES),
        firstOffset: fc.integer({ min: 0, max: 4095 }),
        entries: fc.array(entry(pool), { minLength: 1, maxLength: 40 }),
        zeroAddress: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
      });

    it(`chunk ${chunkBytes}: outcome and RAM match the model; nothing outside the OUT pages changes`, async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(COMMAND.SHA256, COMMAND.AES_CBC_ENCRYPT, COMMAND.AES_CBC_DECRYPT),
          list(IN_PAGES),
          list(OUT_PAGES),
          fc.integer({ min: 0, max: 45 * PAGE_SIZE }),
          fc.integer({ min: -40, max: 40 }),
          fc.integer(),
          async (command, inList, outList, inSizeRaw, outDelta, seed) => {
            const ram = dev.memory.bytes;
            let x = seed | 1;
            for (let i = PAGE_SIZE; i < RAM; i++) {
              x ^= x << 13;
              x ^= x >>> 17;
              x ^= x << 5;
              ram[i] = x & 0xff;
            }
            // Lists: distinct list pages for IN and OUT so neither list is overwritten by the other.
            const outListPage = inList.listPage === outList.listPage ? (outList.listPage % 7) + 1 : outList.listPage;
            const write = (l: typeof inList, page: number) => {
              ram.fill(0, page * PAGE_SIZE, (page + 1) * PAGE_SIZE);
              const e = l.entries.map((v, i) => (i === 0 && v !== 0n && v < BigInt(RAM) ? v + BigInt(l.firstOffset) : v));
              writeEntries(dev, page * PAGE_SIZE, e);
            };
            write(inList, inList.listPage);
            write(outList, outListPage);
            const inSize = inSizeRaw % (inList.entries.length * PAGE_SIZE + 1);
            const need = command === COMMAND.SHA256 ? 32 : Math.ceil(inSize / 16) * 16;
            const outSize = Math.max(0, need + outDelta);
            const inPfn = inList.zeroAddress ? 0 : inList.listPage;
            const outPfn = outList.zeroAddress ? 0 : outListPage;

            // The model.
            const expected = Uint8Array.from(ram);
            let ok: boolean;
            const inSegs = inPfn === 0 ? (inSize === 0 ? [] : undefined) : refWalk(expected, inPfn * PAGE_SIZE, inSize);
            const outSegs = outPfn === 0 ? undefined : refWalk(expected, outPfn * PAGE_SIZE, need);
            if (command === COMMAND.SHA256) {
              ok = outPfn !== 0 && outSize >= 32 && !(inPfn === 0 && inSize !== 0) && inSegs !== undefined && outSegs !== undefined;
              if (ok) scatter(expected, outSegs!, createHash('sha256').update(gather(expected, inSegs!)).digest());
            } else {
              ok = inPfn !== 0 && inSize !== 0 && outPfn !== 0 && outSize >= need && inSegs !== undefined && outSegs !== undefined;
              if (ok) {
                const padded = new Uint8Array(need);
                padded.set(gather(expected, inSegs!));
                const c = command === COMMAND.AES_CBC_ENCRYPT ? createCipheriv('aes-256-cbc', KEY, DEVICE_IV) : createDecipheriv('aes-256-cbc', KEY, DEVICE_IV);
                c.setAutoPadding(false);
                scatter(expected, outSegs!, Buffer.concat([c.update(padded), c.final()]));
              }
            }

            const before = rec.events.length;
            program(dev, { listPfn: inPfn, length: inSize }, { listPfn: outPfn, length: outSize });
            wr(dev, 'COMMAND', command);
            await until(() => rec.events.length > before, 'completion interrupt');
            await until(() => idle(dev), 'idle');
            expect(rec.events[before].vector).toBe(ok ? IRQ_NUM.READY : IRQ_NUM.ERROR);
            if (ok) {
              expect(Buffer.compare(ram, expected)).toBe(0);
            } else {
              expect(rd(dev, 'ERROR_CODE')).toBe(ERROR.DMA);
              // Whatever was moved before the fault, only OUT pages may differ.
              for (let page = 0; page < RAM_PAGES; page++) {
                if (OUT_PAGES.includes(page)) continue;
                const a = ram.subarray(page * PAGE_SIZE, (page + 1) * PAGE_SIZE);
                const b = expected.subarray(page * PAGE_SIZE, (page + 1) * PAGE_SIZE);
                expect(Buffer.compare(a, b), `page ${page}`).toBe(0);
              }
              await resetAndCheck(dev, rec);
            }
          },
        ),
        { numRuns: 60 },
      );
    });
  }
});
