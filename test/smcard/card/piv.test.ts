// PIV applet through the APDU layer: SELECT and its template, GET/PUT DATA (access rules, chaining, GET RESPONSE,
// missing and extended Le), PIN/PUK commands and counters, management-key authentication (3DES and AES known
// answers), GENERAL AUTHENTICATE per slot and PIN policy, GENERATE, the Yubico extensions, and persistence.

import { createCipheriv, createDecipheriv, createECDH, createHash, createPublicKey, verify, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createVirtualCard, loadProfile, type CardProfile, type VirtualCard } from '../../../smcard/card/index.js';
import { parseTlvs, readTlv } from '../../../smcard/card/ber-tlv.js';
import { h, nodeCryptoCardCrypto, tx } from './helpers.js';

const SELECT5 = '00A4040005A000000308';
const APT = '61114F0600001000010079074F05A000000308';
const DISCOVERY = '7E124F0BA0000003080000100001005F2F024000';
const DEFAULT_KEY = Buffer.from('010203040506070801020304050607080102030405060708', 'hex');
const VERIFY_123456 = '0020008008313233343536FFFF';
const getData = (tag: string, le = '00'): string => `00CB3FFF${(tag.length / 2 + 2).toString(16).padStart(2, '0')}5C${(tag.length / 2).toString(16).padStart(2, '0')}${tag}${le}`;

function pivProfile(entry: Record<string, unknown> = {}): CardProfile {
  return { ...loadProfile('piv'), applets: [{ type: 'piv', provision: 'blank', ...entry } as never, { type: 'yubico-otp', aid: 'A000000527200101' }] };
}

/** Mutual authentication with the management key; `cipher` is the node name for one ECB block. */
async function mgmtAuth(card: VirtualCard, key: Buffer = DEFAULT_KEY, alg = '03', cipher = 'des-ede3', block = 8): Promise<void> {
  const r1 = await tx(card, `0087${alg}9B047C028000`);
  expect(r1.sw).toBe('9000');
  const encW = h(r1.data).subarray(4);
  expect(encW).toHaveLength(block);
  const enc = createCipheriv(cipher, key, null);
  enc.setAutoPadding(false);
  const d = createDecipheriv(cipher, key, null);
  d.setAutoPadding(false);
  const w = Buffer.concat([d.update(encW), d.final()]);
  const c = Buffer.alloc(block, 0x5a);
  const body = `80${block.toString(16).padStart(2, '0')}${w.toString('hex')}81${block.toString(16).padStart(2, '0')}${c.toString('hex')}`;
  const r2 = await tx(card, `0087${alg}9B${(body.length / 2 + 2).toString(16).padStart(2, '0')}7C${(body.length / 2).toString(16).padStart(2, '0')}${body}`);
  expect(r2.sw).toBe('9000');
  const expected = Buffer.concat([enc.update(c), enc.final()]).toString('hex').toUpperCase();
  expect(r2.data).toBe(`7C${(block + 2).toString(16).padStart(2, '0').toUpperCase()}82${block.toString(16).padStart(2, '0').toUpperCase()}${expected}`);
}

/** Reads a whole object through 61xx / GET RESPONSE. */
async function readObject(card: VirtualCard, tag: string): Promise<{ data: string; sw: string }> {
  let r = await tx(card, getData(tag));
  let data = r.data;
  while (r.sw.startsWith('61')) {
    r = await tx(card, `00C00000${r.sw.slice(2)}`);
    data += r.data;
  }
  return { data, sw: r.sw };
}

describe('PIV applet: selection, data objects, transport', () => {
  let card: VirtualCard;
  beforeEach(async () => {
    card = await createVirtualCard({ profile: pivProfile() });
    await card.coldReset();
  });

  it('SELECT by RID, by 9-byte prefix and by full AID answers the property template; 4 bytes are not enough', async () => {
    expect(await tx(card, '00A4040004A0000003')).toMatchObject({ sw: '6A82' });
    expect(await tx(card, SELECT5)).toMatchObject({ data: APT, sw: '9000' });
    expect(await tx(card, '00A4040009A0000003080000100000')).toMatchObject({ data: APT, sw: '9000' });
    expect(await tx(card, '00A404000BA000000308000010000100')).toMatchObject({ data: APT, sw: '9000' });
  });

  it('before SELECT, PIV commands are unknown (6D00); an unknown AID (6A82) keeps PIV selected', async () => {
    expect((await tx(card, getData('7E'))).sw).toBe('6D00');
    await tx(card, SELECT5);
    for (const probe of ['00A404000762 7601FF000000', '00A4040006A00000000101', '00A404000BE82B0601040181C31F0201']) {
      expect((await tx(card, probe.replace(/ /g, ''))).sw).toBe('6A82');
    }
    expect(await tx(card, getData('7E'))).toMatchObject({ data: DISCOVERY, sw: '9000' });
    // setcos's probe and other unknown instructions.
    expect((await tx(card, '00CADF3005')).sw).toBe('6D00');
    expect((await tx(card, '00F7009A00')).sw).toBe('6D00');
  });

  it('GET DATA: Le=08 gives 8 bytes + 61xx, absent 6A82, bad P1P2 6A86, malformed 5C 6A80', async () => {
    await tx(card, SELECT5);
    expect(await tx(card, getData('7E', '08'))).toMatchObject({ data: DISCOVERY.slice(0, 16), sw: '610C' });
    expect(await tx(card, '00C000000C')).toMatchObject({ data: DISCOVERY.slice(16), sw: '9000' });
    expect((await tx(card, getData('5FC10C'))).sw).toBe('6A82');
    expect((await tx(card, getData('5FC105'))).sw).toBe('6A82');
    expect((await tx(card, '00CB3FFE035C017E00')).sw).toBe('6A86');
    expect((await tx(card, '00CB3FFF035C027E00')).sw).toBe('6A80');
    expect((await tx(card, '00CB3FFF065C045FC1050100')).sw).toBe('6A80');
  });

  it('PUT DATA needs the management key; chained 255-byte blocks, GET RESPONSE, missing and extended Le', async () => {
    await tx(card, SELECT5);
    const value = Buffer.alloc(700, 0xa5);
    const obj = Buffer.concat([Buffer.from('5C035FC105538202BC', 'hex'), value]);
    const blocks: Buffer[] = [];
    for (let i = 0; i < obj.length; i += 255) blocks.push(obj.subarray(i, i + 255));
    const send = async (): Promise<string[]> => {
      const sws: string[] = [];
      for (const [i, b] of blocks.entries()) {
        const cla = i < blocks.length - 1 ? '10' : '00';
        sws.push((await tx(card, `${cla}DB3FFF${b.length.toString(16).padStart(2, '0')}${b.toString('hex')}`)).sw);
      }
      return sws;
    };
    expect(await send()).toEqual(['9000', '9000', '6982']);
    await mgmtAuth(card);
    expect(await send()).toEqual(['9000', '9000', '9000']);
    const full = `538202BC${value.toString('hex').toUpperCase()}`;
    // Le 00: 256 bytes and 61 FF, then GET RESPONSE rounds.
    const first = await tx(card, getData('5FC105'));
    expect(first.sw).toBe('61FF');
    expect(first.data).toBe(full.slice(0, 512));
    expect((await readObject(card, '5FC105')).data).toBe(full);
    // No Le at all (yubico-piv-tool's case 3): still 256 bytes and 61xx.
    const noLe = await tx(card, '00CB3FFF055C035FC105');
    expect(noLe).toMatchObject({ data: full.slice(0, 512), sw: '61FF' });
    // Extended Le: everything at once. Extended Lc: a PUT DATA in one APDU.
    expect(await tx(card, '00CB3FFF0000055C035FC1050000')).toMatchObject({ data: full, sw: '9000' });
    const ext = Buffer.concat([Buffer.from('5C035FC10A538201F4', 'hex'), Buffer.alloc(500, 0x11)]);
    expect((await tx(card, `00DB3FFF00${ext.length.toString(16).padStart(4, '0')}${ext.toString('hex')}`)).sw).toBe('9000');
    expect((await tx(card, '00CB3FFF0000055C035FC10A0000')).data).toHaveLength(2 * 504);
    // 53 00 deletes.
    expect((await tx(card, '00DB3FFF075C035FC10A5300')).sw).toBe('9000');
    expect((await tx(card, getData('5FC10A'))).sw).toBe('6A82');
    // Objects outside the data model cannot be written; the wrapper must be 53.
    expect((await tx(card, '00DB3FFF085C03123456530100')).sw).toBe('6A80');
    expect((await tx(card, '00DB3FFF085C035FC10A540101')).sw).toBe('6A80');
  });

  it('a chain broken off by another command is dropped with 6883', async () => {
    await tx(card, SELECT5);
    await mgmtAuth(card);
    expect((await tx(card, '10DB3FFF055C035FC105')).sw).toBe('9000');
    expect((await tx(card, '0020008000')).sw).toBe('6883');
    expect((await tx(card, '0020008000')).sw).toBe('63C3');
  });
});

describe('PIV applet: PIN, PUK, management key', () => {
  let card: VirtualCard;
  beforeEach(async () => {
    card = await createVirtualCard({ profile: pivProfile() });
    await card.coldReset();
    await tx(card, SELECT5);
  });

  it('VERIFY: status query, 63C2, 63C1, the blocking try 6983, then RESET RETRY COUNTER by PUK', async () => {
    expect((await tx(card, '0020008000')).sw).toBe('63C3');
    expect((await tx(card, '00200080')).sw).toBe('63C3');
    const wrong = '0020008008393939393939FFFF';
    expect((await tx(card, wrong)).sw).toBe('63C2');
    expect((await tx(card, wrong)).sw).toBe('63C1');
    expect((await tx(card, wrong)).sw).toBe('6983');
    expect((await tx(card, VERIFY_123456)).sw).toBe('6983');
    expect((await tx(card, '00200080')).sw).toBe('6983');
    // Wrong PUK spends a PUK try; the right one sets the new PIN and its counter.
    expect((await tx(card, '002C008010' + '3030303030303030' + '373737373737FFFF')).sw).toBe('63C2');
    expect((await tx(card, '002C008010' + '3132333435363738' + '373737373737FFFF')).sw).toBe('9000');
    expect((await tx(card, '0020008008373737373737FFFF')).sw).toBe('9000');
    expect((await tx(card, '00200080')).sw).toBe('9000');
    // P1=FF forgets the verification.
    expect((await tx(card, '0020FF80')).sw).toBe('9000');
    expect((await tx(card, '00200080')).sw).toBe('63C3');
    expect((await tx(card, '0020008100')).sw).toBe('6A88');
    expect((await tx(card, '002C008110' + '3132333435363738' + '373737373737FFFF')).sw).toBe('6A88');
  });

  it('CHANGE REFERENCE DATA for PIN and PUK; new values of 6..8 bytes only', async () => {
    expect((await tx(card, '0024008010' + '313233343536FFFF' + '393939393939FFFF')).sw).toBe('9000');
    expect((await tx(card, VERIFY_123456)).sw).toBe('63C2');
    expect((await tx(card, '0020008008393939393939FFFF')).sw).toBe('9000');
    expect((await tx(card, '0024008110' + '3132333435363738' + '3837363534333231')).sw).toBe('9000');
    expect((await tx(card, '0024008110' + '3132333435363738' + '3837363534333231')).sw).toBe('63C2');
    expect((await tx(card, '0024008010' + '393939393939FFFF' + '31323334FFFFFFFF')).sw).toBe('6A80');
    expect((await tx(card, '002400800A' + '393939393939FFFF3132')).sw).toBe('6700');
  });

  it('3DES management key: the check value of the default key, mutual auth, wrong witness 6982, wrong P1 6A86', async () => {
    const c = createCipheriv('des-ede3', DEFAULT_KEY, null);
    c.setAutoPadding(false);
    expect(c.update(Buffer.alloc(8)).toString('hex')).toBe('b073dc3fb209536d');
    await mgmtAuth(card);
    expect((await tx(card, '0087039B047C028000')).sw).toBe('9000');
    expect((await tx(card, '0087039B167C14800800000000000000008108' + '11'.repeat(8))).sw).toBe('6982');
    expect((await tx(card, '0087089B047C028000')).sw).toBe('6A86');
    // External authentication and the bare challenge OpenSC uses as a random source.
    const r = await tx(card, '0087009B047C028100');
    expect(r.sw).toBe('9000');
    expect(r.data).toMatch(/^7C0A8108[0-9A-F]{16}$/);
    const e = createCipheriv('des-ede3', DEFAULT_KEY, null);
    e.setAutoPadding(false);
    const resp = e.update(h(r.data.slice(8))).toString('hex');
    expect((await tx(card, `0087039B0C7C0A8208${resp}`)).sw).toBe('9000');
  });

  it('AES-128/192/256 management keys from the profile; SET MANAGEMENT KEY (FF) changes the key', async () => {
    for (const [alg, id, len] of [['aes128', '08', 16], ['aes192', '0A', 24], ['aes256', '0C', 32]] as const) {
      const key = Buffer.alloc(len, 0x42);
      const c = await createVirtualCard({ profile: pivProfile({ managementKey: { algorithm: alg, value: key.toString('hex') } }) });
      await c.coldReset();
      await tx(c, SELECT5);
      expect((await tx(c, '0087039B047C028000')).sw).toBe('6A86');
      await mgmtAuth(c, key, id, `aes-${len * 8}-ecb`, 16);
    }
    await mgmtAuth(card);
    const next = Buffer.alloc(24, 0x33);
    expect((await tx(card, `00FFFFFF1B039B18${next.toString('hex')}`)).sw).toBe('9000');
    expect((await tx(card, `00FFFFFF1B039B10${next.toString('hex')}`)).sw).toBe('6A80');
    await card.coldReset();
    await tx(card, SELECT5);
    await mgmtAuth(card, next);
  });

  it('Yubico: version, serial (also through the OTP stand-in), reset only when PIN and PUK are blocked', async () => {
    expect(await tx(card, '00FD000000')).toMatchObject({ data: '000100', sw: '9000' });
    const serial = await tx(card, '00F8000000');
    expect(serial.data).toMatch(/^[0-9A-F]{8}$/);
    expect((await tx(card, '00A4040008A000000527200101')).sw).toBe('9000');
    expect(await tx(card, '0001100000')).toMatchObject({ data: serial.data, sw: '9000' });
    await tx(card, SELECT5);
    expect((await tx(card, '00FB000000')).sw).toBe('6985');
    for (let i = 0; i < 3; i++) await tx(card, '0020008008393939393939FFFF');
    expect((await tx(card, '00FB000000')).sw).toBe('6985');
    for (let i = 0; i < 3; i++) await tx(card, '002C008010' + '3030303030303030' + '373737373737FFFF');
    expect((await tx(card, '00FB000000')).sw).toBe('9000');
    expect((await tx(card, '0020008000')).sw).toBe('63C3');
    expect((await tx(card, VERIFY_123456)).sw).toBe('9000');
  });

  it('SET PIN RETRIES (FA) needs the management key and the PIN, and restores default values', async () => {
    expect((await tx(card, '00FA050600')).sw).toBe('6982');
    await mgmtAuth(card);
    expect((await tx(card, '00FA050600')).sw).toBe('6982');
    await tx(card, VERIFY_123456);
    expect((await tx(card, '00FA050600')).sw).toBe('9000');
    expect((await tx(card, '0020008000')).sw).toBe('63C5');
  });
});

describe('PIV applet: keys (provisioned card)', () => {
  let card: VirtualCard;
  const certs = new Map<string, X509Certificate>();
  beforeAll(async () => {
    card = await createVirtualCard({ profile: 'piv' });
    await card.coldReset();
    await tx(card, SELECT5);
    for (const [slot, tag] of [['9A', '5FC105'], ['9C', '5FC10A'], ['9D', '5FC10B'], ['9E', '5FC101']]) {
      const { data, sw } = await readObject(card, tag);
      expect(sw).toBe('9000');
      const outer = readTlv(h(data));
      const der = parseTlvs(outer.value).find((t) => t.tag === 0x70)!.value;
      certs.set(slot, new X509Certificate(Buffer.from(der)));
    }
  });
  beforeEach(async () => {
    await card.coldReset();
    await tx(card, SELECT5);
  });

  it('the provisioned certificates are self-signed and carry RSA-2048 (9A, 9D) and P-256 (9C, 9E)', () => {
    for (const [slot, cert] of certs) {
      expect(cert.verify(cert.publicKey), slot).toBe(true);
      expect(cert.subject).toMatch(/CN=vscr /);
    }
    expect(certs.get('9A')!.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(certs.get('9C')!.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
  });

  it('printed information needs the PIN (6982 before, data after); CHUID and CCC are free', async () => {
    expect((await tx(card, getData('5FC109'))).sw).toBe('6982');
    expect((await tx(card, getData('5FC102'))).data).toMatch(/^533B3019D4E739DA739CED39CE739D836858210842108421C84210C3EB3410[0-9A-F]{32}3508[0-9A-F]{16}3E00FE00$/);
    expect((await tx(card, getData('5FC107'))).data).toMatch(/^5333F015A000000116FF02[0-9A-F]{28}F10121F20121F300F40100F50110F600F700FA00FB00FC00FD00FE00$/);
    await tx(card, VERIFY_123456);
    expect((await tx(card, getData('5FC109'))).data).toMatch(/^53/);
  });

  it('9A: raw RSA after VERIFY (6982 before), verified against the certificate; wrong P1 6A86, bad block 6A80', async () => {
    const digestInfo = Buffer.concat([Buffer.from('3031300d060960864801650304020105000420', 'hex'), Buffer.from(createHash('sha256').update('abc').digest())]);
    const block = Buffer.concat([Buffer.from([0, 1]), Buffer.alloc(256 - 3 - digestInfo.length, 0xff), Buffer.from([0]), digestInfo]);
    const ga = `7C820106820081820100${block.toString('hex')}`;
    const chunks = [ga.slice(0, 510), ga.slice(510)];
    const sign = async (p1 = '07'): Promise<{ data: string; sw: string }> => {
      await tx(card, `1087${p1}9AFF${chunks[0]}`);
      const r = await tx(card, `0087${p1}9A${(chunks[1].length / 2).toString(16).padStart(2, '0')}${chunks[1]}00`);
      if (!r.sw.startsWith('61')) return r;
      const rest = await tx(card, `00C00000${r.sw.slice(2)}`);
      return { data: r.data + rest.data, sw: rest.sw };
    };
    expect((await sign()).sw).toBe('6982');
    await tx(card, VERIFY_123456);
    expect((await sign('11')).sw).toBe('6A86');
    const r = await sign();
    expect(r.sw).toBe('9000');
    expect(r.data.slice(0, 16)).toBe('7C82010482820100');
    const sig = h(r.data).subarray(8);
    expect(verify('sha256', Buffer.from('abc'), certs.get('9A')!.publicKey, sig)).toBe(true);
    expect((await tx(card, '0087079A0B7C09820081050001FFFFFF')).sw).toBe('6A80');
  });

  it('9C wants a VERIFY before every signature; ECDSA answer is DER and verifies; 9E needs no PIN', async () => {
    const hash = createHash('sha256').update('m').digest('hex');
    const ga = `0087119C267C24820081 20${hash}`.replace(' ', '');
    await tx(card, VERIFY_123456);
    const r = await tx(card, ga);
    expect(r.sw).toBe('9000');
    const outer = readTlv(h(r.data));
    const der = parseTlvs(outer.value)[0].value;
    expect(verify('sha256', Buffer.from('m'), certs.get('9C')!.publicKey, der)).toBe(true);
    expect((await tx(card, ga)).sw).toBe('6982');
    await tx(card, VERIFY_123456);
    expect((await tx(card, ga)).sw).toBe('9000');
    await card.coldReset();
    await tx(card, SELECT5);
    const e = await tx(card, ga.replace('0087119C', '0087119E'));
    expect(e.sw).toBe('9000');
    expect(verify('sha256', Buffer.from('m'), certs.get('9E')!.publicKey, parseTlvs(readTlv(h(e.data)).value)[0].value)).toBe(true);
  });

  it('P-384 (14) and RSA-3072 (05): GENERATE, then signatures that verify with node', async () => {
    await mgmtAuth(card);
    const g = await tx(card, '0047009A05AC03800114');
    expect(g.sw).toBe('9000');
    expect(g.data).toMatch(/^7F4963866104[0-9A-F]{192}$/);
    const point = h(g.data).subarray(6);
    const pub = createPublicKey({ key: { kty: 'EC', crv: 'P-384', x: Buffer.from(point.subarray(0, 48)).toString('base64url'), y: Buffer.from(point.subarray(48)).toString('base64url') }, format: 'jwk' });
    await tx(card, VERIFY_123456);
    const digest = createHash('sha384').update('p384').digest('hex');
    const r = await tx(card, `0087149A367C34820081 30${digest}00`.replace(' ', ''));
    expect(r.sw).toBe('9000');
    expect(verify('sha384', Buffer.from('p384'), pub, parseTlvs(readTlv(h(r.data)).value)[0].value)).toBe(true);
    // The P-256 algorithm on a P-384 key is refused.
    expect((await tx(card, `0087119A267C24820081 20${'00'.repeat(32)}`.replace(' ', ''))).sw).toBe('6A86');
    await mgmtAuth(card);
    const rsa = await tx(card, '0047009D05AC03800105');
    // 7F49 82 01 89 { 81 82 01 80 n, 82 03 e }: 398 bytes, 256 now and 61 8E.
    expect(rsa.sw).toBe('618E');
    let rest = '';
    let sw = rsa.sw;
    while (sw.startsWith('61')) {
      const next = await tx(card, `00C00000${sw.slice(2)}`);
      rest += next.data;
      sw = next.sw;
    }
    const tpl = parseTlvs(readTlv(h(rsa.data + rest)).value);
    expect(tpl.find((t) => t.tag === 0x81)!.value).toHaveLength(384);
  });

  it('ATTEST (F9): a certificate for the slot key, signed by the attestation key whose certificate is 5FFF01', async () => {
    const ca = readTlv(h((await readObject(card, '5FFF01')).data));
    const caCert = new X509Certificate(Buffer.from(parseTlvs(ca.value).find((t) => t.tag === 0x70)!.value));
    expect(caCert.verify(caCert.publicKey)).toBe(true);
    let r = await tx(card, '00F99C0000');
    let data = r.data;
    while (r.sw.startsWith('61')) {
      r = await tx(card, `00C00000${r.sw.slice(2)}`);
      data += r.data;
    }
    expect(r.sw).toBe('9000');
    const att = new X509Certificate(h(data));
    expect(att.verify(caCert.publicKey)).toBe(true);
    expect(att.checkIssued(caCert)).toBe(true);
    expect(att.publicKey.export({ format: 'jwk' })).toEqual(certs.get('9C')!.publicKey.export({ format: 'jwk' }));
    expect((await tx(card, '00F9850000')).sw).toBe('6A88');
    expect((await tx(card, '00F99B0000')).sw).toBe('6A86');
  });

  it('GENERATE needs the management key; EC answer 7F49/86; ECDH with the new 9D key agrees with node', async () => {
    expect((await tx(card, '0047009D05AC03800111')).sw).toBe('6982');
    await mgmtAuth(card);
    expect((await tx(card, '0047009D05AC038001FF')).sw).toBe('6A80');
    expect((await tx(card, '0047009B05AC03800111')).sw).toBe('6A86');
    const g = await tx(card, '0047009D05AC03800111');
    expect(g.sw).toBe('9000');
    expect(g.data).toMatch(/^7F4943864104[0-9A-F]{128}$/);
    const point = h(g.data).subarray(5);
    const peer = createECDH('prime256v1');
    peer.generateKeys();
    await tx(card, VERIFY_123456);
    const r = await tx(card, `0087119D477C458200854104${peer.getPublicKey().subarray(1).toString('hex')}`);
    expect(r.sw).toBe('9000');
    expect(r.data).toBe(`7C228220${peer.computeSecret(point).toString('hex').toUpperCase()}`);
    // RSA generation: 7F49 82 01 09 { 81 n, 82 010001 }, served as 256 bytes + 61 0E without Le.
    await mgmtAuth(card);
    const rsa = await tx(card, '0047009A05AC03800107');
    expect(rsa.sw).toBe('610E');
    expect(rsa.data.slice(0, 18)).toBe('7F4982010981820100');
    expect((await tx(card, '00C000000E')).data).toMatch(/8203010001$/);
  });
});

describe('PIV applet: persistence', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'vscr-piv-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keys, certificates and counters survive re-creation; no PIV secret in plaintext; another device key is refused', async () => {
    const crypto = nodeCryptoCardCrypto();
    const first = await createVirtualCard({ profile: 'piv', dataDir: dir, crypto });
    await first.coldReset();
    await tx(first, SELECT5);
    const cert = (await readObject(first, '5FC105')).data;
    await tx(first, '0020008008393939393939FFFF');
    // close() saves and releases the state file, as a removal does.
    await first.close?.();
    const file = path.join(dir, 'cards', 'piv.json');
    const text = await readFile(file, 'utf8');
    const section = JSON.stringify(JSON.parse(text).applets);
    expect(section).not.toMatch(/313233343536|3132333435363738|010203040506070801020304/i);
    expect(section).not.toMatch(/BEGIN|PRIVATE/);

    const again = await createVirtualCard({ profile: 'piv', dataDir: dir, crypto });
    await again.coldReset();
    await tx(again, SELECT5);
    expect((await readObject(again, '5FC105')).data).toBe(cert);
    expect((await tx(again, '0020008000')).sw).toBe('63C2');
    await again.close?.();

    const other = nodeCryptoCardCrypto(Buffer.alloc(32, 7));
    await expect(createVirtualCard({ profile: 'piv', dataDir: dir, crypto: other })).rejects.toThrow(
      new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*does not decrypt with this crypto device's key`),
    );
    // The file is left as it was.
    expect(await readFile(file, 'utf8')).toBe(text);
    await expect(createVirtualCard({ profile: 'piv', dataDir: dir })).rejects.toThrow(/only stored encrypted by a crypto device/);
    await writeFile(path.join(dir, 'cards', 'broken.json'), text.replace('"serial"', '"serial": "x", "x"'));
    await expect(createVirtualCard({ profile: 'piv', dataDir: dir, crypto, cardId: 'broken' })).rejects.toThrow(/PIV applet: "serial"/);
  });
});
