// Crypto applet through the APDU layer with a node:crypto stand-in for the device: PSO HASH/ENCIPHER/DECIPHER,
// INTERNAL AUTHENTICATE, PIN protection, parameter errors, and device failures mapped to 6F00.

import { beforeEach, describe, expect, it } from 'vitest';
import { NTSTATUS, NtStatusError } from '../../../kernel/ntstatus.js';
import { createVirtualCard, type CardCrypto, type VirtualCard } from '../../../smcard/card/index.js';
import { T0, T1, ascii, h, nodeCryptoCardCrypto, refDecrypt, refEncrypt, refSha256, tx } from './helpers.js';

const SELECT_APPLET = '00A4040C06F07673637201';
const VERIFY = '002000810431323334';

let card: VirtualCard;
let crypto: ReturnType<typeof nodeCryptoCardCrypto>;
beforeEach(async () => {
  crypto = nodeCryptoCardCrypto();
  card = await createVirtualCard({ crypto });
  await card.coldReset();
  expect((await tx(card, SELECT_APPLET)).sw).toBe('9000');
});

const up = (b: Buffer): string => b.toString('hex').toUpperCase();

describe('crypto applet (node:crypto stand-in)', () => {
  it('PSO HASH needs no PIN and returns SHA-256 of the data', async () => {
    expect(await tx(card, '002A908003' + ascii('123') + '00')).toEqual(
      expect.objectContaining({ data: 'A665A45920422F9D417E4867EFDC4FB8A04A1F3FFF1FA07E998E86F7F7A27AE3', sw: '9000' }),
    );
    expect((await tx(card, '002A908000')).data).toBe(up(refSha256(new Uint8Array(0))));
    expect(crypto.calls).toEqual(['sha256', 'sha256']);
  });

  it('ENCIPHER / DECIPHER / INTERNAL AUTHENTICATE need the PIN (6982) and do not reach the device without it', async () => {
    expect((await tx(card, '002A868003' + ascii('123') + '00')).sw).toBe('6982');
    expect((await tx(card, '002A808611' + '00' + '00'.repeat(16) + '00')).sw).toBe('6982');
    expect((await tx(card, '0088000008' + '0102030405060708' + '00')).sw).toBe('6982');
    expect(crypto.calls).toEqual([]);
  });

  it('ENCIPHER answers 00 || AES-256-CBC(zero-padded data); DECIPHER inverts it', async () => {
    await tx(card, VERIFY);
    const enc = await tx(card, '002A868003' + ascii('123') + '00');
    expect(enc).toEqual(expect.objectContaining({ data: '00' + '13933C64935F9001534E01365105AA56', sw: '9000' }));
    const msg = Buffer.from('1234567890qwertyuiopasdfghjklzxcvbnm');
    const enc2 = await tx(card, '002A868024' + up(msg) + '00');
    expect(enc2.data).toBe('00' + up(refEncrypt(msg)));
    const dec = await tx(card, '002A808631' + enc2.data + '00');
    expect(dec.sw).toBe('9000');
    expect(dec.data).toBe(up(refDecrypt(h(enc2.data.slice(2)))));
    expect(dec.data).toBe(up(msg) + '000000000000000000000000'); // zero padding is kept, as the device does
  });

  it('INTERNAL AUTHENTICATE = AES-256-CBC encipherment of the challenge', async () => {
    await tx(card, VERIFY);
    const challenge = Buffer.from('0102030405060708', 'hex');
    expect(await tx(card, '0088000008' + up(challenge) + '00')).toEqual(expect.objectContaining({ data: up(refEncrypt(challenge)), sw: '9000' }));
    expect((await tx(card, '0088000108' + up(challenge) + '00')).sw).toBe('6A86');
    expect((await tx(card, '0088000000')).sw).toBe('6700');
  });

  it('parameter errors: bad PSO P1P2 6A86, empty ENCIPHER 6700, bad DECIPHER data 6A80', async () => {
    await tx(card, VERIFY);
    expect((await tx(card, '002A9E9A03' + ascii('123') + '00')).sw).toBe('6A86');
    expect((await tx(card, '002A868000')).sw).toBe('6700');
    expect((await tx(card, '002A808600')).sw).toBe('6700');
    expect((await tx(card, '002A808610' + '00'.repeat(16) + '00')).sw).toBe('6A80'); // 15 bytes after the indicator
    expect((await tx(card, '002A808611' + '01' + '00'.repeat(16) + '00')).sw).toBe('6A80'); // indicator must be 00
  });

  it('works the same over T=0 with GET RESPONSE', async () => {
    await tx(card, VERIFY, T0);
    const r = await tx(card, '002A908003' + ascii('123') + '00', T0);
    expect(r.sw).toBe('6120');
    expect((await tx(card, '00C0000020', T0)).data).toBe('A665A45920422F9D417E4867EFDC4FB8A04A1F3FFF1FA07E998E86F7F7A27AE3');
  });

  it('selecting a file leaves the applet: PSO is then 6D00', async () => {
    expect((await tx(card, '00A4000C023F00')).sw).toBe('9000');
    expect((await tx(card, '002A908000')).sw).toBe('6D00');
  });
});

describe('device failures and a card without a device', () => {
  it('an NtStatusError from the device becomes 6F00, never a throw', async () => {
    const failing: CardCrypto = {
      sha256: async () => {
        throw new NtStatusError(NTSTATUS.STATUS_DEVICE_BUSY);
      },
      aesCbcEncrypt: async () => {
        throw new NtStatusError(NTSTATUS.STATUS_IO_DEVICE_ERROR);
      },
      aesCbcDecrypt: async () => {
        throw new Error('worker died');
      },
    };
    const c = await createVirtualCard({ crypto: failing });
    await c.coldReset();
    await tx(c, SELECT_APPLET);
    await tx(c, VERIFY);
    expect((await tx(c, '002A908000')).sw).toBe('6F00');
    expect((await tx(c, '002A868001AA00', T1)).sw).toBe('6F00');
    expect((await tx(c, '002A808611' + '00'.repeat(17) + '00')).sw).toBe('6F00');
    expect((await tx(c, '0088000001AA00')).sw).toBe('6F00');
    expect((await tx(c, '0084000004')).sw).toBe('9000'); // the card itself still works
  });

  it('without a crypto device the applet answers 6A81', async () => {
    const c = await createVirtualCard({});
    await c.coldReset();
    await tx(c, SELECT_APPLET);
    expect((await tx(c, '002A908000')).sw).toBe('6A81');
  });
});
