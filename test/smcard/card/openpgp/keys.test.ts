// OpenPGP applet: GENERATE (80 needs PW3, 81 reads), PSO:CDS with the signature counter and forcesig, PSO:DECIPHER
// (RSA with padding indicator, X25519 and P-256 in the A6 form), INTERNAL AUTHENTICATE, key import (DB 3FFF),
// chaining. Every signature is verified with node:crypto, every shared secret compared with node's.

import { constants, createHash, diffieHellman, generateKeyPairSync, publicDecrypt, publicEncrypt, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { IMPORT_RSA_PRIVATE_KEY, IMPORT_RSA_PUBLIC_KEY } from './import-rsa-key.js';
import { ATTR, SELECT, VERIFY_PW1_81, VERIFY_PW1_82, VERIFY_PW3, blankCard, cmd, extended, okpPublicKey, p256PublicKey, parsePublicKey, putData, rsaPublicKey, send, tx } from './support.js';

const SHA256_PREFIX = '3031300D060960864801650304020105000420';
const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex').toUpperCase();
const GEN = { sig: '0047800002B600', dec: '0047800002B800', aut: '0047800002A400' };
const READ = { sig: '0047810002B600', dec: '0047810002B800', aut: '0047810002A400' };

describe('OpenPGP applet: RSA-2048', () => {
  it('generate needs PW3; 81 reads 6A88 before and the same 7F49 after', async () => {
    const card = await blankCard();
    const [, empty, denied] = await send(card, SELECT, READ.sig, GEN.sig);
    expect([empty.sw, denied.sw]).toEqual(['6A88', '6982']);
    const [, gen, read] = await send(card, VERIFY_PW3, extended('00478000', 'B600'), extended('00478100', 'B600'));
    expect(gen.sw).toBe('9000');
    expect(gen.data.slice(0, 18)).toBe('7F4982010981820100');
    const key = parsePublicKey(gen.data);
    expect(key.n).toHaveLength(512);
    expect(key.e).toBe('010001');
    expect(read.data).toBe(gen.data);
    const [de] = await send(card, '00CA00DE00');
    expect(de.data).toBe('010102000300');
  });

  it('PSO:CDS signs a DigestInfo (verifies with n, e), counts, and wants PW1 again when forced', async () => {
    const card = await blankCard();
    const [, , gen] = await send(card, SELECT, VERIFY_PW3, extended('00478000', 'B600'));
    const pub = rsaPublicKey(parsePublicKey(gen.data).n!, parsePublicKey(gen.data).e!);
    const cds = cmd('002A9E9A', SHA256_PREFIX + sha256('hello'), 256);
    const [denied, , sig, again] = await send(card, cds, VERIFY_PW1_81, cds, cds);
    expect([denied.sw, sig.sw, again.sw]).toEqual(['6982', '9000', '6982']);
    expect(verify('sha256', Buffer.from('hello'), pub, Buffer.from(sig.data, 'hex'))).toBe(true);
    // Not forced: one VERIFY, several signatures.
    const r = await send(card, putData('00C4', '01'), VERIFY_PW1_81, cds, cds, '00CA007A00');
    expect(r.map((x) => x.sw)).toEqual(['9000', '9000', '9000', '9000', '9000']);
    expect(r[4].data).toBe('7A059303000003');
    // A new signature key restarts the counter.
    const [, counter] = await send(card, extended('00478000', 'B600'), '00CA009300');
    expect(counter.data).toBe('000000');
  });

  it('PSO:DECIPHER: 00 ‖ cryptogram (extended and chained) gives the message; bad padding is 6A80', async () => {
    const card = await blankCard();
    const [, , gen] = await send(card, SELECT, VERIFY_PW3, extended('00478000', 'B800'));
    const pub = rsaPublicKey(parsePublicKey(gen.data).n!, parsePublicKey(gen.data).e!);
    const ct = publicEncrypt({ key: pub, padding: constants.RSA_PKCS1_PADDING }, Buffer.from('session key')).toString('hex').toUpperCase();
    const [denied, , plain] = await send(card, extended('002A8086', `00${ct}`), VERIFY_PW1_82, extended('002A8086', `00${ct}`));
    expect(denied.sw).toBe('6982');
    expect([plain.sw, Buffer.from(plain.data, 'hex').toString()]).toEqual(['9000', 'session key']);
    // scdaemon without extended length: CLA 10 chaining in 254-byte blocks.
    const data = `00${ct}`;
    const first = await tx(card, cmd('102A8086', data.slice(0, 508)));
    const last = await tx(card, cmd('002A8086', data.slice(508), 256));
    expect([first.sw, last.sw, Buffer.from(last.data, 'hex').toString()]).toEqual(['9000', '9000', 'session key']);
    const raw = publicEncrypt({ key: pub, padding: constants.RSA_NO_PADDING }, Buffer.alloc(256, 1)).toString('hex');
    expect((await tx(card, extended('002A8086', `00${raw}`))).sw).toBe('6A80');
    expect((await tx(card, extended('002A8086', `02${ct}`))).sw).toBe('6A80');
  });

  it('INTERNAL AUTHENTICATE pads with PKCS#1 type 1 and needs PW1 (82), not (81)', async () => {
    const card = await blankCard();
    const [, , gen] = await send(card, SELECT, VERIFY_PW3, extended('00478000', 'A400'));
    const pub = rsaPublicKey(parsePublicKey(gen.data).n!, parsePublicKey(gen.data).e!);
    const challenge = sha256('challenge');
    const [, denied, , auth, tooLong] = await send(card, VERIFY_PW1_81, cmd('00880000', challenge, 256), VERIFY_PW1_82, cmd('00880000', challenge, 256), cmd('00880000', '00'.repeat(103), 256));
    expect([denied.sw, auth.sw, tooLong.sw]).toEqual(['6982', '9000', '6700']);
    expect(publicDecrypt({ key: pub, padding: constants.RSA_PKCS1_PADDING }, Buffer.from(auth.data, 'hex')).toString('hex').toUpperCase()).toBe(challenge);
  });

  it('imports an RSA key (DB 3FFF, 4D with 7F48/5F48: e, p, q) that then signs', async () => {
    const card = await blankCard();
    const [privateKey, publicKey] = [IMPORT_RSA_PRIVATE_KEY, IMPORT_RSA_PUBLIC_KEY];
    const jwk = privateKey.export({ format: 'jwk' });
    const b = (s: string | undefined): string => Buffer.from(s!, 'base64url').toString('hex').toUpperCase();
    const [e, p, q] = [b(jwk.e), b(jwk.p), b(jwk.q)];
    const len = (hex: string): string => { const n = hex.length / 2; return n < 0x80 ? n.toString(16).padStart(2, '0') : `81${n.toString(16).padStart(2, '0')}`; };
    const header = `91${len(e)}92${len(p)}93${len(q)}`;
    const values = e + p + q;
    const body = `B600` + `7F48${len(header)}${header}` + `5F48820${(values.length / 2).toString(16).padStart(3, '0')}${values}`;
    const data = `4D82${(body.length / 2).toString(16).padStart(4, '0')}${body}`;
    const [, denied, , imported, read, info] = await send(card, SELECT, extended('00DB3FFF', data), VERIFY_PW3, extended('00DB3FFF', data), extended('00478100', 'B600'), '00CA00DE00');
    expect([denied.sw, imported.sw, info.data]).toEqual(['6982', '9000', '010202000300']);
    expect(parsePublicKey(read.data).n).toBe(b(publicKey.export({ format: 'jwk' }).n));
    const [, sig] = await send(card, VERIFY_PW1_81, cmd('002A9E9A', SHA256_PREFIX + sha256('imported'), 256));
    expect(verify('sha256', Buffer.from('imported'), publicKey, Buffer.from(sig.data, 'hex'))).toBe(true);
    expect((await tx(card, extended('00DB3FFF', data.replace(/^4D/, '4E')))).sw).toBe('6A80');
  });
});

describe('OpenPGP applet: ECC', () => {
  it('Ed25519 signature key: 7F49 86 with 32 raw bytes, R‖S over the data given', async () => {
    const card = await blankCard();
    const [, , attr, gen] = await send(card, SELECT, VERIFY_PW3, putData('00C1', ATTR.ed25519), GEN.sig + '00');
    expect([attr.sw, gen.sw]).toEqual(['9000', '9000']);
    expect(gen.data).toMatch(/^7F49228620[0-9A-F]{64}$/);
    const digest = sha256('eddsa message');
    const [, sig] = await send(card, VERIFY_PW1_81, cmd('002A9E9A', digest, 256));
    expect(sig.data).toHaveLength(128);
    expect(verify(null, Buffer.from(digest, 'hex'), okpPublicKey('Ed25519', parsePublicKey(gen.data).point!), Buffer.from(sig.data, 'hex'))).toBe(true);
  });

  it('Cv25519 decryption key: A6 7F49 86 point gives the X25519 shared secret', async () => {
    const card = await blankCard();
    const [, , , gen] = await send(card, SELECT, VERIFY_PW3, putData('00C2', ATTR.cv25519), GEN.dec + '00');
    const cardPub = okpPublicKey('X25519', parsePublicKey(gen.data).point!);
    const eph = generateKeyPairSync('x25519');
    const ephRaw = Buffer.from(eph.publicKey.export({ format: 'jwk' }).x!, 'base64url').toString('hex').toUpperCase();
    const expected = diffieHellman({ privateKey: eph.privateKey, publicKey: cardPub }).toString('hex').toUpperCase();
    const [denied, , secret, prefixed, bad] = await send(card, cmd('002A8086', `A6257F49228620${ephRaw}`, 256), VERIFY_PW1_82, cmd('002A8086', `A6257F49228620${ephRaw}`, 256), cmd('002A8086', `A6267F4923862140${ephRaw}`, 256), cmd('002A8086', `A6047F490100`, 256));
    expect([denied.sw, secret.sw, prefixed.sw, bad.sw]).toEqual(['6982', '9000', '9000', '6A80']);
    expect(secret.data).toBe(expected);
    expect(prefixed.data).toBe(expected);
  });

  it('P-256: ECDSA authentication answers r‖s; ECDH decryption answers the X coordinate', async () => {
    const card = await blankCard();
    const [, , , , aut, dec] = await send(card, SELECT, VERIFY_PW3, putData('00C3', ATTR.p256ecdsa), putData('00C2', ATTR.p256ecdh), GEN.aut + '00', GEN.dec + '00');
    const autPub = p256PublicKey(parsePublicKey(aut.data).point!);
    const [, sig] = await send(card, VERIFY_PW1_82, cmd('00880000', sha256('ecdsa'), 256));
    expect(sig.data).toHaveLength(128);
    expect(verify('sha256', Buffer.from('ecdsa'), { key: autPub, dsaEncoding: 'ieee-p1363' }, Buffer.from(sig.data, 'hex'))).toBe(true);
    const eph = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const jwk = eph.publicKey.export({ format: 'jwk' });
    const point = `04${Buffer.from(jwk.x!, 'base64url').toString('hex')}${Buffer.from(jwk.y!, 'base64url').toString('hex')}`.toUpperCase();
    const [secret] = await send(card, cmd('002A8086', `A6467F49438641${point}`, 256));
    const expected = diffieHellman({ privateKey: eph.privateKey, publicKey: p256PublicKey(parsePublicKey(dec.data).point!) }).toString('hex').toUpperCase();
    expect([secret.sw, secret.data]).toEqual(['9000', expected]);
  });

  it('changing the attributes erases the key of the old algorithm and its fingerprint', async () => {
    const card = await blankCard();
    await send(card, SELECT, VERIFY_PW3, putData('00C1', ATTR.ed25519), GEN.sig + '00', putData('00C7', '11'.repeat(20)));
    const [same, stillThere] = await send(card, putData('00C1', ATTR.ed25519), READ.sig + '00');
    expect([same.sw, stillThere.sw]).toEqual(['9000', '9000']);
    const [, gone, c5] = await send(card, putData('00C1', ATTR.p256ecdsa), READ.sig + '00', '00CA00C500');
    expect(gone.sw).toBe('6A88');
    expect(c5.data).toBe('00'.repeat(60));
  });

  it('imports an Ed25519 key by its 32-byte private key (92)', async () => {
    const card = await blankCard();
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const d = Buffer.from(privateKey.export({ format: 'jwk' }).d!, 'base64url').toString('hex').toUpperCase();
    const body = `B600` + `7F48029220` + `5F4820${d}`;
    const [, , , imported, read] = await send(card, SELECT, VERIFY_PW3, putData('00C1', ATTR.ed25519), extended('00DB3FFF', `4D${(body.length / 2).toString(16)}${body}`), READ.sig + '00');
    expect(imported.sw).toBe('9000');
    expect(parsePublicKey(read.data).point).toBe(Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url').toString('hex').toUpperCase());
  });
});
