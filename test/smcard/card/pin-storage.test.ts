// How the card-level PIN and PUK reach the state file: sealed by the crypto device when the card has one, a
// salted SHA-256 otherwise; never in hex, ASCII or base64. VERIFY / CHANGE / RESET answer the same across
// reloads; a version 1 file (plain hex) loads and is rewritten at once; a foreign seal is a CardStateError.

import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CardStateError, createVirtualCard, loadProfile, type CardCrypto, type CardProfile, type VirtualCard } from '../../../smcard/card/index.js';
import { ascii, nodeCryptoCardCrypto, tx } from './helpers.js';

// Distinctive values: '#', '!', '%' and '&' are neither hex nor base64, so a match can only be the secret itself.
const PIN = 'Zq7#Wx!k';
const PUK = 'Pu%k9&Yz';
const NEW_PIN = 'n3w!Pin#';

function profile(): CardProfile {
  const p = structuredClone(loadProfile('default'));
  return { ...p, pin: { ...p.pin, value: PIN }, puk: { ...p.puk, value: PUK } };
}

/** 8-byte PIN block: the value right-padded with FF. */
const block = (v: string): string => ascii(v).padEnd(16, 'F');
const VERIFY = (v: string): string => `0020008108${block(v)}`;
const CHANGE = (old: string, next: string): string => `0024008110${block(old)}${block(next)}`;
const RESET = (puk: string, next: string): string => `002C008110${block(puk)}${block(next)}`;

/** Every APDU of the scenario, each answered by a card reopened from its state file (when it has one). */
const SCENARIO = [
  VERIFY('wrong!!1'),
  '00200081', // status: 63C2 survives the reload
  VERIFY(PIN),
  CHANGE(PIN, NEW_PIN),
  VERIFY(PIN),
  VERIFY(NEW_PIN),
  RESET('wrongpuk', PIN),
  RESET(PUK, PIN),
  VERIFY(NEW_PIN),
  VERIFY(PIN),
];
const EXPECTED = ['63C2', '63C2', '9000', '9000', '63C2', '9000', '63C9', '9000', '63C2', '9000'];

let dataDir: string;
const stateFile = (): string => join(dataDir, 'cards', 'default.json');
beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'vscr-pins-'));
});
afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

async function open(crypto?: CardCrypto, dir: string | undefined = dataDir): Promise<VirtualCard> {
  const card = await createVirtualCard({ profile: profile(), dataDir: dir, crypto });
  await card.coldReset();
  return card;
}

/** Fails if any form of the secrets is in the text. */
function expectNoSecrets(text: string): void {
  for (const v of [PIN, PUK, NEW_PIN]) {
    const bytes = Buffer.from(v, 'latin1');
    for (const form of [v, bytes.toString('hex'), bytes.toString('base64').replace(/=+$/, ''), bytes.toString('base64url')]) {
      expect(text.toLowerCase(), `${v} as ${form}`).not.toContain(form.toLowerCase());
    }
  }
}

async function runScenario(crypto: CardCrypto | undefined, dir: string | undefined): Promise<string[]> {
  const sws: string[] = [];
  let card = await open(crypto, dir);
  for (const apdu of SCENARIO) {
    if (dir !== undefined) {
      await card.close!();
      card = await open(crypto, dir);
      expectNoSecrets(await readFile(stateFile(), 'utf8'));
    }
    sws.push((await tx(card, apdu)).sw);
  }
  await card.close?.();
  return sws;
}

describe('card-level PIN and PUK storage', () => {
  it('an in-memory card answers the scenario (the reference for the stored ones)', async () => {
    expect(await runScenario(undefined, undefined)).toEqual(EXPECTED);
  });

  it('with a crypto device they are sealed, and answer the same after every reload', async () => {
    const crypto = nodeCryptoCardCrypto();
    expect(await runScenario(crypto, dataDir)).toEqual(EXPECTED);
    const doc = JSON.parse(await readFile(stateFile(), 'utf8'));
    expect(doc.version).toBe(2);
    expect(Object.keys(doc.pin).sort()).toEqual(['retriesLeft', 'sealed']);
    expect(Object.keys(doc.puk).sort()).toEqual(['retriesLeft', 'sealed']);
    expect(doc.pin.sealed).toMatch(/^vscr-sealed-2:/);
    expect(crypto.calls).toContain('aesCbcEncrypt');
  });

  it('without a crypto device they are salted SHA-256 digests, and answer the same after every reload', async () => {
    expect(await runScenario(undefined, dataDir)).toEqual(EXPECTED);
    const doc = JSON.parse(await readFile(stateFile(), 'utf8'));
    expect(Object.keys(doc.pin).sort()).toEqual(['retriesLeft', 'salt', 'sha256']);
    // Known answer: SHA-256(salt ‖ value) of the PIN in force (the scenario ends with PIN restored by RESET).
    const digest = (salt: string, v: string): string => createHash('sha256').update(Buffer.from(salt, 'hex')).update(v, 'latin1').digest('hex');
    expect(doc.pin.sha256).toBe(digest(doc.pin.salt, PIN));
    expect(doc.puk.sha256).toBe(digest(doc.puk.salt, PUK));
    expect(doc.pin.salt).not.toBe(doc.puk.salt);
  });

  it('unchanged secrets are not rewritten: a reload gives the same text', async () => {
    for (const crypto of [undefined, nodeCryptoCardCrypto()]) {
      const card = await open(crypto);
      await tx(card, VERIFY('wrong!!1'));
      await card.close!();
      const before = await readFile(stateFile(), 'utf8');
      const again = await open(crypto);
      await again.flush();
      await again.close!();
      expect(await readFile(stateFile(), 'utf8')).toBe(before);
      await rm(stateFile());
    }
  });

  for (const withDevice of [false, true]) {
    it(`a version 1 file (plain hex) loads and is rewritten at once (${withDevice ? 'sealed' : 'digests'})`, async () => {
      const crypto = withDevice ? nodeCryptoCardCrypto() : undefined;
      const card = await open(crypto);
      await card.close!();
      const current = JSON.parse(await readFile(stateFile(), 'utf8'));
      const hex = (v: string): string => Buffer.from(v, 'latin1').toString('hex').toUpperCase();
      const old = { ...current, version: 1, pin: { value: hex(PIN), retriesLeft: 1 }, puk: { value: hex(PUK), retriesLeft: 4 } };
      await writeFile(stateFile(), JSON.stringify(old, null, 2));

      const loaded = await open(crypto);
      const rewritten = await readFile(stateFile(), 'utf8');
      expectNoSecrets(rewritten);
      const doc = JSON.parse(rewritten);
      expect(doc.version).toBe(2);
      expect(doc.pin.retriesLeft).toBe(1);
      expect(doc.puk.retriesLeft).toBe(4);
      expect(Object.hasOwn(doc.pin, withDevice ? 'sealed' : 'sha256')).toBe(true);
      expect((await tx(loaded, '00200081')).sw).toBe('63C1');
      expect((await tx(loaded, RESET('wrongpuk', PIN))).sw).toBe('63C3');
      expect((await tx(loaded, VERIFY(PIN))).sw).toBe('9000');
      await loaded.close!();
    });
  }

  it('a file sealed under another device key is a CardStateError naming the file, left as it was', async () => {
    const card = await open(nodeCryptoCardCrypto());
    await card.close!();
    const text = await readFile(stateFile(), 'utf8');
    const err = await createVirtualCard({ profile: profile(), dataDir, crypto: nodeCryptoCardCrypto(Buffer.alloc(32, 7)) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CardStateError);
    expect((err as CardStateError).file).toBe(stateFile());
    expect((err as CardStateError).message).toContain(stateFile());
    expect((err as CardStateError).message).toMatch(/"pin": does not decrypt with this crypto device's key/);
    expect(await readFile(stateFile(), 'utf8')).toBe(text);
    // Without any device the sealed file cannot be read either.
    await expect(createVirtualCard({ profile: profile(), dataDir })).rejects.toThrow(/"pin": the card has no crypto device to decrypt it with/);
    expect(await readFile(stateFile(), 'utf8')).toBe(text);
  });

  it('a sealed PUK moved into the PIN slot, a plain value in version 2 and bad digests are refused', async () => {
    const card = await open(nodeCryptoCardCrypto());
    await card.close!();
    const sealed = JSON.parse(await readFile(stateFile(), 'utf8'));
    const digestDoc = { salt: '00'.repeat(16), sha256: '00'.repeat(32), retriesLeft: 3 };
    const variants: [Record<string, unknown>, CardCrypto | undefined, RegExp][] = [
      [{ ...sealed, pin: { ...sealed.puk, retriesLeft: 3 } }, nodeCryptoCardCrypto(), /"pin": holds a "card-puk" value, expected "card-pin"/],
      [{ ...sealed, pin: { value: '31323334', retriesLeft: 3 } }, nodeCryptoCardCrypto(), /"pin" holds a plain "value"/],
      [{ ...sealed, pin: { ...digestDoc, salt: '00' } }, undefined, /"pin.salt" is not 16 bytes/],
      [{ ...sealed, pin: { ...digestDoc, sha256: 'zz' } }, undefined, /"pin.sha256" is not 32 bytes/],
      [{ ...sealed, version: 1, pin: { value: 'zz', retriesLeft: 3 } }, undefined, /"pin.value" is not 1..8 bytes of hex/],
    ];
    for (const [variant, crypto, reason] of variants) {
      const text = JSON.stringify(variant);
      await writeFile(stateFile(), text);
      await expect(createVirtualCard({ profile: profile(), dataDir, crypto }), String(reason)).rejects.toThrow(reason);
      expect(await readFile(stateFile(), 'utf8')).toBe(text);
    }
  });

  it('a digest file read by a card with a device still compares, and is sealed once the PIN changes', async () => {
    const card = await open();
    await card.close!();
    const crypto = nodeCryptoCardCrypto();
    const withDevice = await open(crypto);
    expect((await tx(withDevice, VERIFY(PIN))).sw).toBe('9000');
    expect(JSON.parse(await readFile(stateFile(), 'utf8')).pin).toHaveProperty('sha256');
    expect((await tx(withDevice, CHANGE(PIN, NEW_PIN))).sw).toBe('9000');
    const doc = JSON.parse(await readFile(stateFile(), 'utf8'));
    expect(doc.pin.sealed).toMatch(/^vscr-sealed-2:/);
    expect(doc.puk).toHaveProperty('sha256'); // the PUK is never replaced by a command
    await withDevice.close!();
    const again = await open(crypto);
    expect((await tx(again, VERIFY(NEW_PIN))).sw).toBe('9000');
    await again.close!();
  });
});
