// Shared card foundations: BER-TLV codec, asymmetric operations (checked against node:crypto verification),
// sealed key store (device key change refused), and the processor's chaining / missing-Le rules for applets
// that opt in.

import { createHash, createPublicKey, publicEncrypt, constants, verify } from 'node:crypto';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ApduProcessor } from '../../../smcard/card/apdu-processor.js';
import type { Applet, CardContext } from '../../../smcard/card/card-context.js';
import { BerTlvError, berTlv, encodeLength, parseTlvs, parseTlvsOrSw, readTlv } from '../../../smcard/card/ber-tlv.js';
import * as asym from '../../../smcard/card/asymmetric/index.js';
import { CardStateError } from '../../../smcard/card/errors.js';
import { CardFileSystem } from '../../../smcard/card/file-system.js';
import { KeyStoreError, sealBytes, sealKey, unsealBytes, unsealKey } from '../../../smcard/card/key-store.js';
import { Secret } from '../../../smcard/card/pin.js';
import { loadProfile } from '../../../smcard/card/profile-registry.js';
import { SwError } from '../../../smcard/card/status-words.js';
import { h, hex, nodeCryptoCardCrypto } from './helpers.js';

describe('BER-TLV', () => {
  it('encodes multi-byte tags and every length form', () => {
    expect(hex(berTlv(0x5fc105, [1, 2]))).toBe('5FC105020102');
    expect(hex(encodeLength(0x7f))).toBe('7F');
    expect(hex(encodeLength(0x80))).toBe('8180');
    expect(hex(encodeLength(0x100))).toBe('820100');
    expect(hex(encodeLength(0x10000))).toBe('83010000');
    expect(hex(berTlv(0x53, new Uint8Array(300)).subarray(0, 4))).toBe('5382012C');
  });

  it('parses nested and concatenated elements exactly', () => {
    const list = parseTlvs(h('5C035FC1057C0482008100'));
    expect(list.map((t) => [t.tag, hex(t.value)])).toEqual([[0x5c, '5FC105'], [0x7c, '82008100']]);
    expect(readTlv(h('7F4903860100'), 0)).toEqual(expect.objectContaining({ tag: 0x7f49, end: 6 }));
    expect(parseTlvs(h('53830000020102'))[0].value).toEqual(h('0102'));
  });

  it('refuses truncated, indefinite and overlong encodings; call sites see 6A80', () => {
    for (const bad of ['5C', '5C05010203', '5F', '5FC1', '5380', '53840000000100', '538201', '7C820100']) {
      expect(() => parseTlvs(h(bad)), bad).toThrow(BerTlvError);
    }
    expect(() => parseTlvsOrSw(h('5C05'))).toThrow(expect.objectContaining({ sw: 0x6a80 }) as SwError);
  });
});

describe('asymmetric', () => {
  it('RSA-2048: raw private op equals PKCS#1 signature; PKCS#1 decrypt; modulus/exponent', async () => {
    const key = await asym.generateKey('rsa2048');
    const { modulus, exponent } = asym.rsaPublicParts(key);
    expect(modulus).toHaveLength(256);
    expect(hex(exponent)).toBe('010001');
    const digestInfo = Buffer.concat([Buffer.from('3031300d060960864801650304020105000420', 'hex'), createHash('sha256').update('abc').digest()]);
    const block = Buffer.concat([Buffer.from([0, 1]), Buffer.alloc(256 - 3 - digestInfo.length, 0xff), Buffer.from([0]), digestInfo]);
    const raw = asym.rsaRawPrivate(key, block);
    expect(verify('sha256', Buffer.from('abc'), key.publicKey, raw)).toBe(true);
    expect(asym.rsaSignDigestInfo(key, digestInfo)).toEqual(raw);
    const ct = publicEncrypt({ key: key.publicKey, padding: constants.RSA_PKCS1_PADDING }, Buffer.from('hello'));
    expect(Buffer.from(asym.rsaDecryptPkcs1(key, ct)!).toString()).toBe('hello');
    expect(() => asym.rsaRawPrivate(key, new Uint8Array(256).fill(0xff))).toThrow(asym.AsymmetricError);
    expect(() => asym.rsaRawPrivate(key, new Uint8Array(255))).toThrow(asym.AsymmetricError);
  });

  it('RSA from primes gives the same key', async () => {
    const key = await asym.generateKey('rsa1024');
    const jwk = key.privateKey.export({ format: 'jwk' });
    const again = asym.rsaFromPrimes('rsa1024', asym.b64u(jwk.e), asym.b64u(jwk.p), asym.b64u(jwk.q));
    expect(asym.rsaPublicParts(again)).toEqual(asym.rsaPublicParts(key));
    expect(() => asym.rsaFromPrimes('rsa2048', asym.b64u(jwk.e), asym.b64u(jwk.p), asym.b64u(jwk.q))).toThrow(/bits/);
  });

  it('ECDSA over a digest verifies with node (message hashed by node = our digest); DER ↔ raw; ECDH agrees', async () => {
    for (const [alg, hash, size] of [['p256', 'sha256', 32], ['p384', 'sha384', 48]] as const) {
      const key = await asym.generateKey(alg);
      const digest = createHash(hash).update('msg').digest();
      const der = asym.ecdsaSignDigest(key, digest);
      expect(verify(hash, Buffer.from('msg'), key.publicKey, der)).toBe(true);
      const raw = asym.ecdsaDerToRaw(der, size);
      expect(raw).toHaveLength(2 * size);
      expect(verify(hash, Buffer.from('msg'), { key: key.publicKey, dsaEncoding: 'ieee-p1363' }, raw)).toBe(true);
      expect(asym.ecdsaRawToDer(raw)).toEqual(der);
      const other = await asym.generateKey(alg);
      expect(asym.ecdh(key, asym.ecPublicPoint(other))).toEqual(asym.ecdh(other, asym.ecPublicPoint(key)));
      expect(asym.ecPublicPoint(asym.ecFromScalar(alg, asym.ecScalar(key)))).toEqual(asym.ecPublicPoint(key));
    }
  });

  it('Ed25519 signs, X25519 agrees, raw forms round-trip', async () => {
    const ed = await asym.generateKey('ed25519');
    const sig = asym.ed25519Sign(ed, Buffer.from('m'));
    expect(verify(null, Buffer.from('m'), ed.publicKey, sig)).toBe(true);
    const a = await asym.generateKey('x25519');
    const b = await asym.generateKey('x25519');
    expect(asym.x25519(a, asym.okpPublicRaw(b))).toEqual(asym.x25519(b, asym.okpPublicRaw(a)));
    const seed = asym.b64u(ed.privateKey.export({ format: 'jwk' }).d);
    expect(asym.okpPublicRaw(asym.okpFromRaw('ed25519', seed))).toEqual(asym.okpPublicRaw(ed));
    expect(createPublicKey(ed.privateKey).export({ format: 'jwk' }).x).toBe(asym.toB64u(asym.okpPublicRaw(ed)));
  });
});

describe('key store', () => {
  it('seals through the device (no plaintext), opens with the same key, refuses another device key', async () => {
    const crypto = nodeCryptoCardCrypto();
    const key = await asym.generateKey('p256');
    const sealed = await sealKey(crypto, key);
    expect(crypto.calls).toEqual(['sha256', 'aesCbcEncrypt']);
    expect(sealed).not.toContain(Buffer.from(asym.keyToPkcs8(key)).toString('base64').slice(0, 40));
    const opened = await unsealKey(crypto, sealed, '/x/piv.json', 'key 9A');
    expect(asym.ecPublicPoint(opened)).toEqual(asym.ecPublicPoint(key));
    const other = nodeCryptoCardCrypto(createHash('sha256').update('other').digest());
    await expect(unsealKey(other, sealed, '/x/piv.json', 'key 9A')).rejects.toThrow(/\/x\/piv\.json.*key 9A: does not decrypt with this crypto device's key/);
    await expect(unsealKey(other, sealed, '/x/piv.json', 'key 9A')).rejects.toBeInstanceOf(CardStateError);
  });

  it('binds the label, and refuses to seal without a device', async () => {
    const crypto = nodeCryptoCardCrypto();
    const sealed = await sealBytes(crypto, 'pin', h('31323334'));
    expect(await unsealBytes(crypto, 'pin', sealed, 'f', 'pin')).toEqual(h('31323334'));
    await expect(unsealBytes(crypto, 'puk', sealed, 'f', 'puk')).rejects.toThrow(/holds a "pin" value/);
    await expect(unsealKey(crypto, sealed, 'f', 'k')).rejects.toThrow(/not a private key/);
    await expect(sealBytes(null, 'pin', h('31'))).rejects.toBeInstanceOf(KeyStoreError);
    await expect(unsealBytes(crypto, 'pin', 'plain', 'f', 'pin')).rejects.toThrow(/not a sealed value/);
  });

  it('the same secret sealed twice gives unrelated texts (random first block), and the older layout still opens', async () => {
    const crypto = nodeCryptoCardCrypto();
    const a = await sealBytes(crypto, 'pin', h('31323334'));
    const b = await sealBytes(crypto, 'pin', h('31323334'));
    expect(a).toMatch(/^vscr-sealed-2:/);
    expect(a).not.toBe(b);
    // No ciphertext block in common: with the device's fixed IV, only the random first block makes that so.
    const blocks = (t: string) => Buffer.from(t.slice('vscr-sealed-2:'.length), 'base64').toString('hex').match(/.{32}/g)!;
    expect(blocks(a).filter((x) => blocks(b).includes(x))).toEqual([]);
    expect(await unsealBytes(crypto, 'pin', b, 'f', 'pin')).toEqual(h('31323334'));
    // Layout 1: digest ‖ length ‖ label ‖ 00 ‖ secret, encrypted as is.
    const plain = Buffer.concat([Buffer.from('pin\0', 'latin1'), Buffer.from('31323334', 'hex')]);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(plain.length);
    const v1 = await crypto.aesCbcEncrypt(Buffer.concat([createHash('sha256').update(plain).digest(), len, plain]));
    expect(await unsealBytes(crypto, 'pin', `vscr-sealed-1:${Buffer.from(v1).toString('base64')}`, 'f', 'pin')).toEqual(h('31323334'));
  });
});

describe('processor: chaining and missing Le for applets that opt in', () => {
  const seen: number[][] = [];
  const applet: Applet = {
    aid: h('F0010203040506'),
    label: 'test',
    fcpContent: new Uint8Array(0),
    chaining: true,
    missingLeMeansMax: true,
    commands: {
      0x10: (_ctx, apdu) => {
        seen.push([apdu.cla, apdu.data.length]);
        return { sw: 0x9000, data: new Uint8Array(300).fill(0xab) };
      },
    },
  };
  const ctx = (): CardContext => {
    const fs = new CardFileSystem(loadProfile('default'));
    return {
      fs,
      pins: { pin: new Secret(h('31323334'), 3), puk: new Secret(h('31323334'), 3), minLength: 4, verified: false },
      applets: [applet],
      crypto: null,
      random: (n) => new Uint8Array(n),
      logger: pino({ level: 'silent' }),
      currentDf: fs.mf,
      currentEf: null,
      selectedApplet: applet,
      markDirty: () => undefined,
    };
  };
  const hooks = { save: async () => undefined, isDirty: () => false, changeCount: () => 0 };

  it('joins CLA 10 blocks, answers 9000 in between, serves 256 bytes + 61 2C without Le, then GET RESPONSE', async () => {
    const p = new ApduProcessor();
    const c = ctx();
    const run = async (x: string): Promise<string> => hex(await p.process(c, h(x), 2, hooks));
    expect(await run('1010000002' + 'AAAA')).toBe('9000');
    expect(await run('1010000001' + 'BB')).toBe('9000');
    const last = await run('0010000001' + 'CC');
    expect(last.length).toBe(2 * 258);
    expect(last.slice(-4)).toBe('612C');
    expect(seen.at(-1)).toEqual([0x00, 4]);
    expect(await run('00C0000000')).toBe('AB'.repeat(44) + '9000');
    // A different INS breaks the chain: 6883, and the next command starts afresh.
    expect(await run('1010000001AA')).toBe('9000');
    expect(await run('0011000000')).toBe('6883');
    // A chain is dropped at reset.
    expect(await run('1010000001AA')).toBe('9000');
    p.reset();
    expect((await run('0010000001DD')).slice(-4)).toBe('612C');
    expect(seen.at(-1)).toEqual([0x00, 1]);
  });

  it('refuses chains longer than 64 KiB with 6700', async () => {
    const p = new ApduProcessor();
    const c = ctx();
    const block = '1010000000FFFF' + 'EE'.repeat(0xffff);
    expect(hex(await p.process(c, h(block), 2, hooks))).toBe('9000');
    expect(hex(await p.process(c, h('1010000002EEEE'), 2, hooks))).toBe('6700');
  });
});
