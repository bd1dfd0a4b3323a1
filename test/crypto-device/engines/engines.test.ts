// Each engine against FIPS 180-4 SHA-256 and SP 800-38A AES-256-CBC vectors, plus streaming and padding rules.

import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import sha from '../../vectors/sha256-fips180-4.json' with { type: 'json' };
import aes from '../../vectors/aes256-cbc-sp800-38a.json' with { type: 'json' };
import { getEngine, nativeEngine, nobleEngine, type CryptoEngine } from '../../../crypto-device/engines/index.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const fromHex = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));
const utf8 = (s: string) => new TextEncoder().encode(s);

function message(v: (typeof sha.vectors)[number]): Uint8Array {
  return 'repeat' in v && v.repeat ? utf8(v.repeat.utf8.repeat(v.repeat.count)) : utf8(v.utf8 ?? '');
}

/** Splits `data` at the given cut points (sorted, deduplicated) into pieces. */
function pieces(data: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of [...points, data.length]) {
    out.push(data.subarray(prev, p));
    prev = p;
  }
  return out;
}

for (const engine of [nativeEngine, nobleEngine] as CryptoEngine[]) {
  describe(`${engine.name} engine`, () => {
    it('is found by name', () => {
      expect(getEngine(engine.name)).toBe(engine);
    });

    for (const v of sha.vectors) {
      it(`SHA-256 FIPS 180-4: ${v.name}`, () => {
        const m = message(v);
        expect(hex(engine.sha256(m))).toBe(v.digest);
        const h = engine.createSha256();
        for (let i = 0; i < m.length; i += 4093) h.update(m.subarray(i, i + 4093));
        expect(hex(h.digest())).toBe(v.digest);
      });
    }

    for (const v of aes.vectors) {
      const key = fromHex(v.key);
      const iv = fromHex(v.iv);
      const pt = fromHex(v.plaintext.join(''));
      const ct = fromHex(v.ciphertext.join(''));
      it(`AES-256-CBC SP 800-38A ${v.name}: encrypt (F.2.5)`, () => {
        expect(hex(engine.aesCbc(key, iv).encrypt(pt))).toBe(hex(ct));
      });
      it(`AES-256-CBC SP 800-38A ${v.name}: decrypt (F.2.6)`, () => {
        expect(hex(engine.aesCbc(key, iv).decrypt(ct))).toBe(hex(pt));
      });
      it('chains across updates of any length (one CBC pass)', () => {
        for (const cuts of [[1], [15, 16, 17], [5, 33, 47], [63]]) {
          const enc = engine.createAesCbc('encrypt', key, iv);
          const parts = pieces(pt, cuts).map((p) => enc.update(p));
          parts.push(enc.final());
          expect(hex(Buffer.concat(parts))).toBe(hex(ct));
          const dec = engine.createAesCbc('decrypt', key, iv);
          const back = pieces(ct, cuts).map((p) => dec.update(p));
          back.push(dec.final());
          expect(hex(Buffer.concat(back))).toBe(hex(pt));
        }
      });
    }

    it('zero-pads to a multiple of 16 and strips nothing on decrypt', () => {
      const key = randomBytes(32);
      const iv = randomBytes(16);
      const data = utf8('1234567890qwertyuiopasdfghjklzxcvbnm'); // 36 bytes, the original's test string
      const ct = engine.aesCbc(key, iv).encrypt(data);
      expect(ct.length).toBe(48);
      const padded = new Uint8Array(48);
      padded.set(data);
      const ref = createCipheriv('aes-256-cbc', key, iv).setAutoPadding(false);
      expect(hex(ct)).toBe(hex(Buffer.concat([ref.update(padded), ref.final()])));
      expect(hex(engine.aesCbc(key, iv).decrypt(ct))).toBe(hex(padded));
      expect(engine.aesCbc(key, iv).encrypt(new Uint8Array(0)).length).toBe(0);
    });

    it('never mutates its inputs', () => {
      const key = randomBytes(32);
      const iv = randomBytes(16);
      const data = randomBytes(100);
      const copies = [Buffer.from(key), Buffer.from(iv), Buffer.from(data)];
      engine.aesCbc(key, iv).encrypt(data);
      engine.aesCbc(key, iv).decrypt(data.subarray(0, 96));
      engine.sha256(data);
      expect([Buffer.from(key), Buffer.from(iv), Buffer.from(data)]).toEqual(copies);
    });

    it('checks key and IV lengths with RangeError and types with TypeError', () => {
      expect(() => engine.createAesCbc('encrypt', new Uint8Array(16), new Uint8Array(16))).toThrow(RangeError);
      expect(() => engine.createAesCbc('encrypt', new Uint8Array(32), new Uint8Array(8))).toThrow(/iv/);
      expect(() => engine.sha256('abc' as unknown as Uint8Array)).toThrow(TypeError);
    });

    it('matches node:crypto over random data split at random points (fast-check)', () => {
      fc.assert(
        fc.property(
          fc.uint8Array({ minLength: 0, maxLength: 3000 }),
          fc.array(fc.nat(3000), { maxLength: 6 }),
          fc.uint8Array({ minLength: 32, maxLength: 32 }),
          fc.uint8Array({ minLength: 16, maxLength: 16 }),
          (data, cuts, key, iv) => {
            const h = engine.createSha256();
            for (const p of pieces(data, cuts)) h.update(p);
            expect(hex(h.digest())).toBe(createHash('sha256').update(data).digest('hex'));
            const enc = engine.createAesCbc('encrypt', key, iv);
            const out = [...pieces(data, cuts).map((p) => enc.update(p)), enc.final()];
            const ct = Buffer.concat(out);
            const padded = new Uint8Array(Math.ceil(data.length / 16) * 16);
            padded.set(data);
            const ref = createCipheriv('aes-256-cbc', key, iv).setAutoPadding(false);
            expect(hex(ct)).toBe(hex(Buffer.concat([ref.update(padded), ref.final()])));
          },
        ),
        { numRuns: 60 },
      );
    });
  });
}
