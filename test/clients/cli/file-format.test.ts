// The original console's encrypted-file layout: padding, trailer, strip count 16..31 and the decrypt checks.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createCipheriv, createDecipheriv, createHash } from 'node:crypto';
import { checkEncryptedSize, encryptLayout, readTrailer } from '../../../clients/cli/file-format.js';

describe('encryptLayout', () => {
  it('pads to 16 and appends a 16-byte trailer holding the strip count', () => {
    expect(encryptLayout(0)).toMatchObject({ padBytes: 0, totalSize: 16, strip: 16 });
    expect(encryptLayout(1)).toMatchObject({ padBytes: 15, totalSize: 32, strip: 31 });
    expect(encryptLayout(15)).toMatchObject({ padBytes: 1, totalSize: 32, strip: 17 });
    expect(encryptLayout(16)).toMatchObject({ padBytes: 0, totalSize: 32, strip: 16 });
    expect(encryptLayout(17)).toMatchObject({ padBytes: 15, totalSize: 48, strip: 31 });
    // 20,000 lines of 1000 '1' plus LF (the scaled-down autotest file)
    expect(encryptLayout(20_020_000)).toMatchObject({ padBytes: 0, totalSize: 20_020_016, strip: 16 });
  });

  it('writes the count little-endian followed by 14 zero bytes', () => {
    expect(Buffer.from(encryptLayout(5).trailer).toString('hex')).toBe('1b00' + '00'.repeat(14)); // 27 = 0x1b
  });

  it('keeps the strip count in 16..31 and the total a multiple of 16 for any size', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 1 << 30 }), (n) => {
      const l = encryptLayout(n);
      return l.strip >= 16 && l.strip <= 31 && l.totalSize % 16 === 0 && l.totalSize - l.strip === n;
    }));
  });

  it('rejects negative and fractional sizes', () => {
    expect(() => encryptLayout(-1)).toThrow(RangeError);
    expect(() => encryptLayout(1.5)).toThrow(RangeError);
  });
});

describe('readTrailer', () => {
  const plainWithTrailer = (n: number) => {
    const l = encryptLayout(n);
    const buf = new Uint8Array(l.totalSize);
    buf.fill(0x31, 0, n);
    buf.set(l.trailer, l.totalSize - 16);
    return buf;
  };

  it('reads back the strip count for every residue mod 16', () => {
    for (let n = 0; n < 40; n++) {
      const buf = plainWithTrailer(n);
      expect(readTrailer(buf.subarray(Math.max(0, buf.length - 32)), buf.length)).toEqual({ strip: buf.length - n });
    }
  });

  it('refuses counts outside 16..31, non-zero trailer bytes and non-zero padding', () => {
    const buf = plainWithTrailer(5);
    const tail = () => buf.slice(buf.length - 32);
    let t = tail();
    t[16] = 15;
    expect(readTrailer(t, buf.length)).toHaveProperty('error');
    t = tail();
    t[16] = 32;
    expect(readTrailer(t, buf.length)).toHaveProperty('error');
    t = tail();
    t[20] = 1;
    expect(readTrailer(t, buf.length)).toHaveProperty('error');
    t = tail();
    t[15] = 7; // inside the 11 bytes of padding before the trailer (strip 27)
    expect(readTrailer(t, buf.length)).toHaveProperty('error');
    expect(readTrailer(new Uint8Array(8), 8)).toHaveProperty('error');
  });

  it('detects a wrong key: decrypting with another key gives no valid trailer', () => {
    const iv = Buffer.from('32ad5cdf529aae2be15c7e2ea19e5163', 'hex');
    const key = (s: string) => createHash('sha256').update(s).digest();
    const plain = plainWithTrailer(100);
    const enc = createCipheriv('aes-256-cbc', key('secret'), iv).setAutoPadding(false).update(plain);
    const dec = createDecipheriv('aes-256-cbc', key('other'), iv).setAutoPadding(false).update(enc);
    expect(readTrailer(dec.subarray(dec.length - 32), dec.length)).toHaveProperty('error');
    const ok = createDecipheriv('aes-256-cbc', key('secret'), iv).setAutoPadding(false).update(enc);
    expect(readTrailer(ok.subarray(ok.length - 32), ok.length)).toEqual({ strip: 28 });
  });
});

describe('checkEncryptedSize', () => {
  it('accepts multiples of 16 from 16 up, nothing else', () => {
    expect(checkEncryptedSize(16)).toBeNull();
    expect(checkEncryptedSize(4096)).toBeNull();
    expect(checkEncryptedSize(0)).toMatch(/at least 16/);
    expect(checkEncryptedSize(33)).toMatch(/multiple of 16/);
  });
});
