// The crypto applet on the REAL emulated crypto device (CryptoDeviceHost → driver → device worker), checked
// against answers computed here with node:crypto (key SHA-256("secret"), fixed IV, zero padding).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CryptoDeviceHost, type CryptoDeviceControl } from '../../../crypto-device/index.js';
import { createVirtualCard, type VirtualCard } from '../../../smcard/card/index.js';
import { T0, T1, h, refDecrypt, refEncrypt, refSha256, tx } from './helpers.js';

const up = (b: Buffer): string => b.toString('hex').toUpperCase();

let host: CryptoDeviceHost;
let device: CryptoDeviceControl;
let card: VirtualCard;

beforeAll(async () => {
  host = new CryptoDeviceHost();
  const index = await host.addDevice({ keyString: 'secret', guestMemoryBytes: 16 * 1024 * 1024 });
  device = await host.open(index);
  card = await createVirtualCard({ crypto: device });
  await card.coldReset();
  expect((await tx(card, '00A4040C06F07673637201')).sw).toBe('9000');
});

afterAll(async () => {
  await device?.close().catch(() => undefined); // already closed by the last test

  await host?.shutdown();
});

describe('crypto applet on the crypto device', () => {
  it('PSO HASH: SHA-256 of short, empty and extended-length data', async () => {
    expect((await tx(card, '002A90800331323300')).data).toBe('A665A45920422F9D417E4867EFDC4FB8A04A1F3FFF1FA07E998E86F7F7A27AE3');
    expect((await tx(card, '002A908000')).data).toBe(up(refSha256(new Uint8Array(0))));
    const big = Buffer.alloc(5000);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
    const r = await tx(card, '002A9080001388' + up(big) + '0000', T1);
    expect(r).toEqual(expect.objectContaining({ sw: '9000', data: up(refSha256(big)) }));
  });

  it('ENCIPHER / DECIPHER with the device key, and INTERNAL AUTHENTICATE', async () => {
    expect((await tx(card, '002000810431323334')).sw).toBe('9000');
    expect((await tx(card, '002A86800331323300')).data).toBe('00' + '13933C64935F9001534E01365105AA56');
    expect((await tx(card, '002A868010' + '00'.repeat(16) + '00')).data).toBe('00' + '32D6E396F76EA81EE5F9BB9643C259DB');
    const msg = Buffer.from('1234567890qwertyuiopasdfghjklzxcvbnm');
    const enc = await tx(card, '002A868024' + up(msg) + '00');
    expect(enc).toEqual(expect.objectContaining({ sw: '9000', data: '00' + up(refEncrypt(msg)) }));
    const dec = await tx(card, '002A808631' + enc.data + '00');
    expect(dec).toEqual(expect.objectContaining({ sw: '9000', data: up(refDecrypt(h(enc.data.slice(2)))) }));
    expect(dec.data.startsWith(up(msg))).toBe(true);
    const challenge = Buffer.from('A1B2C3D4E5F60718', 'hex');
    expect((await tx(card, '0088000008' + up(challenge) + '00')).data).toBe(up(refEncrypt(challenge)));
  });

  it('over T=0 a 257-byte cryptogram comes as 61FF then 6102 via GET RESPONSE', async () => {
    const data = Buffer.alloc(255, 0x41);
    const expected = '00' + up(refEncrypt(data));
    await card.coldReset();
    await tx(card, '00A4040C06F07673637201', T0);
    await tx(card, '002000810431323334', T0);
    expect((await tx(card, '002A8680FF' + up(data) + '00', T0)).sw).toBe('61FF');
    const a = await tx(card, '00C00000FF', T0);
    const b = await tx(card, '00C0000002', T0);
    expect([a.sw, b.sw]).toEqual(['6102', '9000']);
    expect(a.data + b.data).toBe(expected);
  });

  it('a device failure (closed handle) is 6F00 from transmit, not an exception', async () => {
    await card.coldReset();
    await tx(card, '00A4040C06F07673637201');
    await device.close();
    const r = await tx(card, '002A90800331323300');
    expect(r.sw).toBe('6F00');
    expect(r.raw).toHaveLength(2);
  });
});
