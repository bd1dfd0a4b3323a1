// OpenPGP applet: TERMINATE DF / ACTIVATE FILE (gpg's factory-reset sequence), reset clearing verifications, and
// the persisted state: the same serial, keys and DOs after a new card object is built from the state file; no PIN
// or private key in the file; a file sealed with another device key is a CardStateError.

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CardStateError } from '../../../../smcard/card/index.js';
import { ATTR, SELECT, VERIFY_PW1_81, VERIFY_PW3, ascii, blankCard, extended, putData, send, tx } from './support.js';

const BLOCK_PW1 = `0020008120${'40'.repeat(32)}`;
const BLOCK_PW3 = `0020008320${'40'.repeat(32)}`;

describe('OpenPGP applet: factory reset', () => {
  it("gpg's sequence: block PW1 and PW3, TERMINATE DF, ACTIVATE FILE → factory state with the same serial", async () => {
    const card = await blankCard();
    const [, aid] = await send(card, SELECT, '00CA004F00');
    await send(card, VERIFY_PW3, putData('005B', ascii('Doe<<John')), putData('00C1', ATTR.ed25519), '0047800002B600', putData('00C4', '01'));
    const early = await send(card, '00E60000');
    expect(early[0].sw).toBe('9000'); // PW3 verified
    await send(card, '00440000');
    const r = await send(card, VERIFY_PW1_81, BLOCK_PW1, BLOCK_PW1, BLOCK_PW1, BLOCK_PW1, BLOCK_PW3, BLOCK_PW3, BLOCK_PW3, BLOCK_PW3, '00E60000', '00CA006500', SELECT, '00440000', SELECT, '00CA004F00', '00CA00C400', '00CA006500', '0047810002B600', '00CA00C100', VERIFY_PW1_81);
    expect(r.map((x) => x.sw)).toEqual(['9000', '63C2', '63C1', '63C0', '6983', '63C2', '63C1', '63C0', '6983', '9000', '6285', '6285', '9000', '9000', '9000', '9000', '9000', '6A88', '9000', '9000']);
    expect(r[14].data).toBe(aid.data);
    expect(r[15].data).toBe('007F7F7F030003');
    expect(r[16].data).toBe('65085B005F2D005F3500');
    expect(r[18].data).toBe(ATTR.rsa2048);
  });

  it('TERMINATE DF is refused (6985) while PW3 is neither verified nor blocked; ACTIVATE on a live card changes nothing', async () => {
    const card = await blankCard();
    const r = await send(card, SELECT, '00E60000', '00440000', VERIFY_PW3, putData('005B', ascii('Kept')), '00440000', '00CA005B00');
    expect(r.slice(1).map((x) => x.sw)).toEqual(['6985', '9000', '9000', '9000', '9000', '9000']);
    expect(r[6].data).toBe(ascii('Kept'));
  });

  it('a card reset forgets every verification', async () => {
    const card = await blankCard();
    await send(card, SELECT, VERIFY_PW3, VERIFY_PW1_81);
    await card.coldReset();
    const r = await send(card, SELECT, '00200081', '00200083', putData('005B', '00'));
    expect(r.slice(1).map((x) => x.sw)).toEqual(['63C3', '63C3', '6982']);
  });
});

describe('OpenPGP applet: persistence', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'vscr-pgp-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('serial, keys, fingerprints, DOs, counters and PIN changes survive a new card object', async () => {
    const card = await blankCard({ dataDir: dir });
    const fpr = '5A'.repeat(20);
    const before = await send(card, SELECT, '00CA004F00', VERIFY_PW3, extended('00478000', 'B600'), putData('00C7', fpr), putData('005B', ascii('Doe<<Jane')), `0020008106${ascii('000000')}`, '00240081' + '0C' + ascii('123456') + ascii('654321'));
    expect(before.slice(2).map((x) => x.sw)).toEqual(['9000', '9000', '9000', '9000', '63C2', '9000']);
    // close() saves and releases the state file, as a removal does.
    await card.close?.();
    const text = await readFile(path.join(dir, 'cards', 'openpgp.json'), 'utf8');
    const file = JSON.parse(text) as { applets: Record<string, unknown> };
    // Nowhere in the file a password in hex, ASCII or base64: the application's PW1/PW3 and the card-level PIN
    // and PUK (the profile's 123456 and 12345678) are only sealed.
    for (const secret of ['654321', '123456', '12345678']) {
      expect(text.toLowerCase()).not.toContain(ascii(secret).toLowerCase());
      expect(text).not.toContain(secret);
      expect(text).not.toContain(Buffer.from(secret).toString('base64').replace(/=+$/, ''));
    }
    const section = JSON.stringify(file.applets.D27600012401);
    expect(section).not.toMatch(/MII[A-Za-z0-9+/]{20}/); // no PKCS#8 DER in base64
    expect(section.match(/vscr-sealed-2:/g)).toHaveLength(3); // PW1, PW3, the signature key

    const again = await blankCard({ dataDir: dir });
    const r = await send(again, SELECT, '00CA004F00', extended('00478100', 'B600'), '00CA00C500', '00CA005B00', '00CA00C400', `0020008106${ascii('654321')}`);
    expect(r[1].data).toBe(before[1].data);
    expect(r[2].data).toBe(before[3].data);
    expect(r[3].data.slice(0, 40)).toBe(fpr);
    expect(r[4].data).toBe(ascii('Doe<<Jane'));
    expect(r[5].data).toBe('007F7F7F030003');
    expect(r[6].sw).toBe('9000');
  });

  it('a state file sealed under another device key is a CardStateError, not a blank card', async () => {
    const card = await blankCard({ dataDir: dir });
    await send(card, SELECT, VERIFY_PW3, '0047800002B600');
    await card.close?.();
    const { createHash } = await import('node:crypto');
    const other = blankCard({ dataDir: dir, key: createHash('sha256').update('another').digest() });
    await expect(other).rejects.toBeInstanceOf(CardStateError);
    await expect(other).rejects.toThrow(/does not decrypt/);
    expect((await tx(card, '00CA004F00')).sw).toBe('9000');
  });
});
