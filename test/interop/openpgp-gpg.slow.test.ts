// GnuPG 2.2 and OpenSC with the OpenPGP card of a service in its default configuration, through our pcsc-lite
// socket: card status, key generation on the card, sign/verify, encrypt/decrypt, the signature counter, OpenSC's
// view and a PKCS#11 signature checked against gpg's exported key, remove/insert and restart, PIN change, blocking
// and unblocking, ed25519/cv25519, and factory reset. One card, one private GNUPGHOME, steps in order.

import { createPublicKey, verify } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { v4Fingerprint } from '../../smcard/card/openpgp/fingerprint.js';
import type { RunningService } from '../../service/service.js';
import { GpgHome, OPENPGP_READER, cardField, cardFingerprints, firstPublicKeyPacket, startDefaultService } from './openpgp-support.js';
import { gate, rest, run } from './support.js';

const g = gate([
  ['gpg', 'gnupg'],
  ['/usr/lib/gnupg/scdaemon', 'scdaemon'],
  ['opensc-tool', 'opensc'],
  ['pkcs15-tool', 'opensc'],
  ['pkcs11-tool', 'opensc'],
]);
const PKCS11_MODULE = '/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so';

describe.skipIf(g.skip)('OpenPGP card with GnuPG and OpenSC', () => {
  let dataDir: string;
  let service: RunningService;
  let serviceEnv: NodeJS.ProcessEnv;
  let home: GpgHome;
  let work: string;
  let serial: string;
  let fingerprints: string[];

  const start = async () => {
    ({ service, env: serviceEnv } = await startDefaultService(dataDir));
  };

  beforeAll(async () => {
    if (g.missing) throw new Error(g.missing);
    dataDir = await mkdtemp(path.join(tmpdir(), 'vscr-pgp-'));
    work = await mkdtemp(path.join(tmpdir(), 'vscr-pgpw-'));
    await writeFile(path.join(work, 'm.txt'), 'hello from the card\n');
    await start();
    home = await GpgHome.create(serviceEnv);
  });

  afterAll(async () => {
    await home?.dispose();
    await service?.close();
    await rm(dataDir, { recursive: true, force: true });
    await rm(work, { recursive: true, force: true });
  });

  const signAndVerify = async (user: string) => {
    const out = path.join(work, `${user}.sig`);
    const s = await home.gpg(['--batch', '--yes', '-u', user, '-o', out, '--sign', path.join(work, 'm.txt')]);
    expect(s.code, s.stderr).toBe(0);
    const v = await home.gpg(['--batch', '--verify', out]);
    expect(v.code, v.stderr).toBe(0);
    expect(v.stderr).toMatch(/Good signature from/);
  };

  const encryptAndDecrypt = async (user: string) => {
    const out = path.join(work, `${user}.enc`);
    const e = await home.gpg(['--batch', '--yes', '--trust-model', 'always', '-r', user, '-o', out, '--encrypt', path.join(work, 'm.txt')]);
    expect(e.code, e.stderr).toBe(0);
    const d = await home.gpg(['--batch', '--decrypt', out]);
    expect(d.code, d.stderr).toBe(0);
    expect(d.stdout).toBe('hello from the card\n');
  };

  /** gpg --export to a file (binary; stdout is read as text). */
  const exportKey = async (fpr: string): Promise<Buffer> => {
    const file = path.join(work, `${fpr}.pgp`);
    const r = await home.gpg(['--batch', '--yes', '-o', file, '--export', fpr]);
    expect(r.code, r.stderr).toBe(0);
    return readFile(file);
  };

  const generate = (name: string, email: string) => home.cardEdit(['admin', 'generate', 'n', '0', name, email, '', 'quit']);

  it('gpg --card-status on the blank card: AID, version 3.4, serial, counters 3 0 3, rsa2048 ×3', async () => {
    const status = await home.cardStatus();
    expect(cardField(status, 'Reader')).toMatch(new RegExp(`^${OPENPGP_READER} \\d\\d 00$`));
    const aid = cardField(status, 'Application ID');
    expect(aid).toMatch(/^D276000124010304FF7C[0-9A-F]{8}0000$/);
    serial = aid.slice(20, 28);
    expect(cardField(status, 'Application type')).toBe('OpenPGP');
    expect(cardField(status, 'Version')).toBe('3.4');
    expect(cardField(status, 'Serial number')).toBe(serial);
    expect(cardField(status, 'PIN retry counter')).toBe('3 0 3');
    expect(cardField(status, 'Key attributes')).toBe('rsa2048 rsa2048 rsa2048');
    expect(cardField(status, 'Signature PIN')).toBe('forced');
    expect(cardField(status, 'Signature key')).toBe('[none]');
    expect(cardField(status, 'Signature counter')).toBe('0');
  });

  it('name and lang are written (Admin PIN) and read back', async () => {
    const r = await home.cardEdit(['admin', 'name', 'Doe', 'John', 'lang', 'en', 'quit']);
    expect(r.code, r.stderr).toBe(0);
    const status = await home.cardStatus();
    expect(cardField(status, 'Name of cardholder')).toBe('John Doe');
    expect(cardField(status, 'Language prefs')).toBe('en');
  });

  it('generates RSA keys on the card: card-status fingerprints equal the ones gpg computed', async () => {
    const r = await generate('Card User', 'card@example.org');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/KEY_CREATED B [0-9A-F]{40}/);
    fingerprints = cardFingerprints(await home.cardStatus());
    const listed = await home.gpg(['--with-colons', '--list-keys', 'card@example.org']);
    const fprs = [...listed.stdout.matchAll(/^fpr:+([0-9A-F]{40}):/gm)].map((m) => m[1]);
    expect(fprs).toHaveLength(3);
    expect(fprs[0]).toBe(fingerprints[0]);
    expect([...fprs].sort()).toEqual([...fingerprints].sort());
    // The exported primary key hashes to the same fingerprint by the RFC 4880 rule.
    const packet = firstPublicKeyPacket(await exportKey(fingerprints[0]));
    expect(Buffer.from(v4Fingerprint(packet.body)).toString('hex').toUpperCase()).toBe(fingerprints[0]);
  });

  it('gpg --sign / --verify and --encrypt / --decrypt go through the card; the counter counts signatures', async () => {
    const before = Number(cardField(await home.cardStatus(), 'Signature counter'));
    await signAndVerify('card@example.org');
    await signAndVerify('card@example.org');
    expect(Number(cardField(await home.cardStatus(), 'Signature counter'))).toBe(before + 2);
    await encryptAndDecrypt('card@example.org');
  });

  it('OpenSC names the card, lists its keys, and a PKCS#11 signature verifies with the key gpg exported', async () => {
    await home.killAgents();
    const list = await run('opensc-tool', ['-l'], serviceEnv);
    const index = list.stdout.split('\n').find((l) => l.includes(OPENPGP_READER))?.trim().split(/\s+/)[0];
    expect(index, list.stdout).toMatch(/^\d+$/);
    const name = await run('opensc-tool', ['-r', index!, '-n'], serviceEnv);
    expect(name.code, name.stderr).toBe(0);
    expect(name.stdout).toContain(`OpenPGP card v3.4 (FF7C ${serial})`);
    const dump = await run('pkcs15-tool', ['--reader', index!, '-D'], serviceEnv);
    expect(dump.code, dump.stderr).toBe(0);
    expect(dump.stdout).toMatch(/Private RSA Key \[Signature key\]/);
    expect(dump.stdout).toMatch(/Private RSA Key \[Encryption key\]/);
    expect(dump.stdout).toMatch(/Private RSA Key \[Authentication key\]/);

    const sigFile = path.join(work, 'p11.sig');
    const p11 = await run('pkcs11-tool', ['--module', PKCS11_MODULE, '--token-label', 'OpenPGP card (User PIN (sig))', '--login', '--pin', '123456', '--sign', '--id', '01', '-m', 'SHA256-RSA-PKCS', '-i', path.join(work, 'm.txt'), '-o', sigFile], serviceEnv);
    expect(p11.code, p11.stderr).toBe(0);
    const { n, e } = firstPublicKeyPacket(await exportKey(fingerprints[0]));
    const key = createPublicKey({ key: { kty: 'RSA', n: n!.toString('base64url'), e: e!.toString('base64url') }, format: 'jwk' });
    expect(verify('sha256', await readFile(path.join(work, 'm.txt')), key, await readFile(sigFile))).toBe(true);
  });

  it('remove and re-insert, then a service restart: the same fingerprints, and signing still works', async () => {
    await home.killAgents();
    const readers = (await rest(service.url, 'GET', '/v1/readers')).body as { readers: { index: number; name: string }[] };
    const reader = readers.readers.find((r) => r.name.startsWith(OPENPGP_READER))!;
    expect((await rest(service.url, 'DELETE', `/v1/readers/${reader.index}/card`)).status).toBeLessThan(300);
    expect((await rest(service.url, 'POST', `/v1/readers/${reader.index}/card`, { profile: 'openpgp' })).status).toBeLessThan(300);
    expect(cardFingerprints(await home.cardStatus())).toEqual(fingerprints);

    await home.killAgents();
    await service.close();
    await start();
    const status = await home.cardStatus();
    expect(cardField(status, 'Serial number')).toBe(serial);
    expect(cardFingerprints(status)).toEqual(fingerprints);
    await signAndVerify('card@example.org');
  });

  it('passwd changes PW1: signing works with the new PIN', async () => {
    await home.setPins({ user: '123456', next: '246810' });
    const r = await home.cardEdit(['admin', 'passwd', '1', 'q', 'quit']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/SC_OP_SUCCESS/);
    await home.setPins({ user: '246810' });
    await signAndVerify('card@example.org');
    expect(cardField(await home.cardStatus(), 'PIN retry counter')).toBe('3 0 3');
  });

  it('three wrong PW1 block it; the Admin PIN unblocks it with a new PIN', async () => {
    await home.setPins({ user: '999999' });
    for (let i = 0; i < 3; i += 1) {
      const s = await home.gpg(['--batch', '--yes', '-u', 'card@example.org', '-o', path.join(work, 'x.sig'), '--sign', path.join(work, 'm.txt')]);
      expect(s.code).not.toBe(0);
    }
    expect(cardField(await home.cardStatus(), 'PIN retry counter')).toBe('0 0 3');
    await home.setPins({ next: '135790' });
    const r = await home.cardEdit(['admin', 'passwd', '2', 'q', 'quit']);
    expect(r.code, r.stderr).toBe(0);
    expect(cardField(await home.cardStatus(), 'PIN retry counter')).toBe('3 0 3');
    await home.setPins({ user: '135790' });
    await signAndVerify('card@example.org');
  });

  it('key-attr ed25519/cv25519, then generation, signing and decryption again', async () => {
    const attr = await home.cardEdit(['admin', 'key-attr', '2', '1', '2', '1', '2', '1', 'quit']);
    expect(attr.code, attr.stderr).toBe(0);
    expect(cardField(await home.cardStatus(), 'Key attributes')).toBe('ed25519 cv25519 ed25519');
    const r = await generate('Ecc User', 'ecc@example.org');
    expect(r.code, r.stderr).toBe(0);
    const status = await home.cardStatus();
    const listed = await home.gpg(['--with-colons', '--list-keys', 'ecc@example.org']);
    expect([...listed.stdout.matchAll(/^fpr:+([0-9A-F]{40}):/gm)].map((m) => m[1]).sort()).toEqual(cardFingerprints(status).sort());
    await signAndVerify('ecc@example.org');
    await encryptAndDecrypt('ecc@example.org');
  });

  it('factory-reset returns the card to the blank state (same serial)', async () => {
    const r = await home.cardEdit(['admin', 'factory-reset', 'y', 'yes', 'quit']);
    expect(r.code, r.stderr).toBe(0);
    const status = await home.cardStatus();
    expect(cardField(status, 'Serial number')).toBe(serial);
    expect(cardField(status, 'PIN retry counter')).toBe('3 0 3');
    expect(cardField(status, 'Key attributes')).toBe('rsa2048 rsa2048 rsa2048');
    expect(cardField(status, 'Name of cardholder')).toBe('[not set]');
    expect(cardField(status, 'Signature key')).toBe('[none]');
    expect(cardField(status, 'Signature counter')).toBe('0');
  });

  it('keytocard moves a key made off the card into the signature slot (key import), which then signs', async () => {
    await home.setPins({ user: '123456', admin: '12345678' }); // the factory PINs again
    const made = await home.gpg(['--batch', '--passphrase', '', '--quick-gen-key', 'Moved Key <moved@example.org>', 'rsa2048', 'sign', 'never']);
    expect(made.code, made.stderr).toBe(0);
    const fpr = /^fpr:+([0-9A-F]{40}):/m.exec((await home.gpg(['--with-colons', '--list-keys', 'moved@example.org'])).stdout)![1];
    const r = await home.gpg(['--no-tty', '--command-fd', '0', '--status-fd', '1', '--edit-key', fpr], 'keytocard\ny\n1\nsave\n');
    expect(r.code, r.stderr).toBe(0);
    expect(cardFingerprints(await home.cardStatus())[0]).toBe(fpr);
    await signAndVerify('moved@example.org');
    // Leave the card blank again for the next step.
    expect((await home.cardEdit(['admin', 'factory-reset', 'y', 'yes', 'quit'])).code).toBe(0);
  });

  it('kdf-setup: gpg then sends hashed PINs, which the card takes (Admin PIN for name, PIN for CHECKPIN)', async () => {
    const r = await home.cardEdit(['admin', 'kdf-setup', 'name', 'Kdf', 'Kim', 'quit']);
    expect(r.code, r.stderr).toBe(0);
    const status = await home.cardStatus();
    expect(cardField(status, 'KDF setting')).toBe('on');
    expect(cardField(status, 'Name of cardholder')).toBe('Kim Kdf');
    expect(cardField(status, 'PIN retry counter')).toBe('3 0 3');
  });
});
