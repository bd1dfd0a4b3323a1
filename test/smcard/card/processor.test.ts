// APDU processor: cases 1–4 short/extended end to end, every malformed-APDU status word, and the T=0/T=1
// transport rules (61xx + GET RESPONSE, 6Cxx, T=1 full responses) documented in smcard/card/APDUS.md.

import { beforeEach, describe, expect, it } from 'vitest';
import { createVirtualCard, type VirtualCard } from '../../../smcard/card/index.js';
import { T0, T1, apdu, ascii, nodeCryptoCardCrypto, refEncrypt, refSha256, tx } from './helpers.js';

const MF_FCI = '6F0A820138' + '83023F00' + '8A0105';
const APPLET = '00A4040C06F07673637201';

let card: VirtualCard;
beforeEach(async () => {
  card = await createVirtualCard({ crypto: nodeCryptoCardCrypto() });
  await card.coldReset();
});

describe('APDU cases end to end (T=1)', () => {
  it('case 1: SELECT MF without data; with FCI requested and no Le the FCI waits for GET RESPONSE', async () => {
    expect(await tx(card, '00A4000C')).toEqual(expect.objectContaining({ data: '', sw: '9000' }));
    expect(await tx(card, '00A40000')).toEqual(expect.objectContaining({ data: '', sw: '610C' }));
    expect(await tx(card, '00C000000C')).toEqual(expect.objectContaining({ data: MF_FCI, sw: '9000' }));
  });

  it('case 2: GET CHALLENGE returns exactly Ne random bytes', async () => {
    const a = await tx(card, '0084000008');
    const b = await tx(card, '0084000008');
    expect(a.sw).toBe('9000');
    expect(a.data).toHaveLength(16);
    expect(a.data).not.toBe(b.data);
    expect((await tx(card, '0084000000')).data).toHaveLength(512);
  });

  it('case 3 and case 4 short', async () => {
    expect((await tx(card, '00A4000C023F00')).sw).toBe('9000');
    expect(await tx(card, '00A40000023F0000')).toEqual(expect.objectContaining({ data: MF_FCI, sw: '9000' }));
  });

  it('extended case 2: Le 0200 reads a 512-byte EF in one response; Le 0000 = 65536', async () => {
    await tx(card, '00A40800045000500300');
    const r = await tx(card, '00B00000000200');
    expect(r.sw).toBe('9000');
    expect(r.data).toBe(Buffer.from(Array.from({ length: 512 }, (_, i) => i & 0xff)).toString('hex').toUpperCase());
    const all = await tx(card, '00B00000000000');
    expect(all.data.length / 2).toBe(512);
    expect(all.sw).toBe('6282');
    expect((await tx(card, '00840000000000')).data.length / 2).toBe(65536);
  });

  it('extended case 3 and 4: UPDATE BINARY of 300 bytes, PSO HASH of 300 bytes', async () => {
    const data = Buffer.alloc(300, 0x5a);
    expect((await tx(card, apdu('0020008104', ascii('1234')).slice(0, 10) + ascii('1234'))).sw).toBe('9000');
    await tx(card, '00A4080C0450005003');
    expect((await tx(card, '00D6000000012C' + data.toString('hex'))).sw).toBe('9000');
    const back = await tx(card, '00B00000000200');
    expect(back.data.slice(0, 600)).toBe(data.toString('hex').toUpperCase());
    await tx(card, APPLET);
    const hash = await tx(card, '002A908000012C' + data.toString('hex') + '0000');
    expect(hash).toEqual(expect.objectContaining({ sw: '9000', data: refSha256(data).toString('hex').toUpperCase() }));
  });
});

describe('malformed APDUs → status words', () => {
  const cases: [string, string, string][] = [
    ['too short', '00A4', '6700'],
    ['Lc larger than the data', '00A40000023F', '6700'],
    ['Lc smaller than the data', '00A40000013F0000', '6700'],
    ['extended Lc 0', '00D6000000000001', '6700'],
    ['unknown INS', '00120000', '6D00'],
    ['INS 6x (a T=0 procedure byte)', '00600000', '6D00'],
    ['proprietary CLA', '80A40000', '6E00'],
    ['CLA FF', 'FFA40000', '6E00'],
    ['command chaining', '10A4000C023F00', '6884'],
    ['secure messaging', '0CA4000C023F00', '6882'],
    ['logical channel 1', '01A4000C023F00', '6881'],
    ['SELECT P1 05', '00A40500023F00', '6A86'],
    ['SELECT P2 01 (next occurrence)', '00A40001023F00', '6A86'],
    ['SELECT unknown FID', '00A4000C021234', '6A82'],
    ['SELECT unknown AID', '00A4040C05A000000001', '6A82'],
    ['SELECT FID of 3 bytes', '00A4000C033F0000', '6700'],
    ['READ BINARY with no current EF', '00B0000010', '6986'],
    ['GET RESPONSE with nothing pending', '00C0000010', '6985'],
    ['GET RESPONSE P1P2 not 0000', '00C0010010', '6A86'],
    ['GET CHALLENGE P1 01', '0084010008', '6A86'],
    ['GET CHALLENGE without Le', '00840000', '6700'],
    ['PSO with no applet selected', '002A908000', '6D00'],
    ['INTERNAL AUTHENTICATE with no applet selected', '0088000008010203040506070800', '6D00'],
    ['lengths are checked before CLA', '80A40000023F', '6700'],
    ['secure messaging, CLA 08', '08A4000C023F00', '6882'],
    ['secure messaging, CLA 04', '04A4000C023F00', '6882'],
    ['logical channel 3', '03A4000C023F00', '6881'],
    ['interindustry CLA 40 (further logical channels)', '40A4000C023F00', '6E00'],
    ['VERIFY unknown reference', '002000800431323334', '6A88'],
    ['VERIFY P1 01', '002001810431323334', '6A86'],
  ];
  for (const [what, cmd, sw] of cases) {
    it(`${what}: ${cmd} → ${sw}`, async () => {
      expect((await tx(card, cmd, T1)).sw).toBe(sw);
      await card.coldReset();
      expect((await tx(card, cmd, T0)).sw).toBe(sw);
    });
  }

  it('an error SW never carries data', async () => {
    const r = await tx(card, '00A4000C021234');
    expect(r.raw).toHaveLength(2);
  });
});

describe('T=0 transport', () => {
  it('case 4 is answered with 61xx and the data comes with GET RESPONSE', async () => {
    expect(await tx(card, '00A40000023F0000', T0)).toEqual(expect.objectContaining({ data: '', sw: '610C' }));
    expect(await tx(card, '00C000000C', T0)).toEqual(expect.objectContaining({ data: MF_FCI, sw: '9000' }));
    expect((await tx(card, '00C000000C', T0)).sw).toBe('6985');
  });

  it('GET RESPONSE with a wrong Le gets 6Cxx and keeps the data; P1P2 ≠ 0 gets 6A86 and keeps it too', async () => {
    await tx(card, '00A40000023F00', T0);
    expect((await tx(card, '00C0000020', T0)).sw).toBe('6C0C');
    expect((await tx(card, '00C0000000', T0)).sw).toBe('6C0C');
    expect((await tx(card, '00C001000C', T0)).sw).toBe('6A86');
    expect((await tx(card, '00C00000', T0)).sw).toBe('6700');
    expect(await tx(card, '00C0000005', T0)).toEqual(expect.objectContaining({ data: MF_FCI.slice(0, 10), sw: '6107' }));
    expect(await tx(card, '00C0000007', T0)).toEqual(expect.objectContaining({ data: MF_FCI.slice(10), sw: '9000' }));
  });

  it("the original command's SW arrives with the last GET RESPONSE chunk (6283 from a deactivated EF)", async () => {
    const fcp = '620E' + '80020010' + '820101' + '83025004' + '8A0104';
    expect(await tx(card, '00A40804045000500400', T0)).toEqual(expect.objectContaining({ data: '', sw: '6110' }));
    expect(await tx(card, '00C0000008', T0)).toEqual(expect.objectContaining({ data: fcp.slice(0, 16), sw: '6108' }));
    expect(await tx(card, '00C0000008', T0)).toEqual(expect.objectContaining({ data: fcp.slice(16), sw: '6283' }));
  });

  it('GET RESPONSE with data in the command is 6700 and the held data stays', async () => {
    await tx(card, '00A40000023F00', T0);
    expect((await tx(card, '00C00000010000', T0)).sw).toBe('6700');
    expect(await tx(card, '00C000000C', T0)).toEqual(expect.objectContaining({ data: MF_FCI, sw: '9000' }));
  });

  it('any other command discards data held for GET RESPONSE', async () => {
    await tx(card, '00A40000023F00', T0);
    await tx(card, '0084000008', T0);
    expect((await tx(card, '00C000000C', T0)).sw).toBe('6985');
  });

  it('case 2 with Le shorter than the answer: Le bytes then 61 rest', async () => {
    await tx(card, APPLET, T0);
    const digest = refSha256(new Uint8Array(0)).toString('hex').toUpperCase();
    expect(await tx(card, '002A908010', T0)).toEqual(expect.objectContaining({ data: digest.slice(0, 32), sw: '6110' }));
    expect(await tx(card, '00C0000010', T0)).toEqual(expect.objectContaining({ data: digest.slice(32), sw: '9000' }));
  });

  it('case 2 with Le longer than the answer: 6Cxx, then the exact Le works', async () => {
    await tx(card, '00A4080C0450005001', T0);
    expect(await tx(card, '00B0000000', T0)).toEqual(expect.objectContaining({ data: '', sw: '6C40' }));
    const r = await tx(card, '00B0000040', T0);
    expect(r.sw).toBe('9000');
    expect(r.data.slice(0, 10)).toBe(ascii('hello'));
    expect(await tx(card, '00B0003000', T0)).toEqual(expect.objectContaining({ sw: '6C10' }));
  });

  it('more than 255 bytes pending: 61FF, then the remainder', async () => {
    await tx(card, '002000810431323334', T0);
    await tx(card, APPLET, T0);
    const plain = Buffer.alloc(255, 0x41);
    const expected = Buffer.concat([Buffer.from([0]), refEncrypt(plain)]).toString('hex').toUpperCase();
    expect((await tx(card, '002A8680FF' + plain.toString('hex') + '00', T0)).sw).toBe('61FF');
    const first = await tx(card, '00C00000FF', T0);
    expect(first.sw).toBe('6102');
    const second = await tx(card, '00C0000002', T0);
    expect(second.sw).toBe('9000');
    expect(first.data + second.data).toBe(expected);
  });

  it('extended APDUs are refused in T=0 with 6700', async () => {
    expect((await tx(card, '00840000000010', T0)).sw).toBe('6700');
    expect((await tx(card, '00840000000010', T1)).sw).toBe('9000');
  });

  it('a case-1 command padded to P3 = 00 still works (docs/smclib.md §3.6)', async () => {
    expect((await tx(card, '00A4000C00', T0)).sw).toBe('9000');
    expect((await tx(card, '0020008100', T0)).sw).toBe('63C3');
  });
});

describe('T=1 transport', () => {
  it('answers case 4 in one response, honouring Le', async () => {
    expect(await tx(card, '00A40000023F0000', T1)).toEqual(expect.objectContaining({ data: MF_FCI, sw: '9000' }));
  });

  it('Le shorter than the answer: Le bytes and 61 rest; Le longer: everything with 9000', async () => {
    expect(await tx(card, '00A40000023F0005', T1)).toEqual(expect.objectContaining({ data: MF_FCI.slice(0, 10), sw: '6107' }));
    expect(await tx(card, '00C0000007', T1)).toEqual(expect.objectContaining({ data: MF_FCI.slice(10), sw: '9000' }));
    await tx(card, '00A40000023F00', T1);
    expect(await tx(card, '00C0000000', T1)).toEqual(expect.objectContaining({ data: MF_FCI, sw: '9000' }));
  });

  it('a 257-byte answer with extended Le comes whole', async () => {
    await tx(card, '002000810431323334', T1);
    await tx(card, APPLET, T1);
    const plain = Buffer.alloc(255, 0x41);
    const r = await tx(card, '002A868000' + '00FF' + plain.toString('hex') + '0000', T1);
    expect(r.sw).toBe('9000');
    expect(r.data).toBe(Buffer.concat([Buffer.from([0]), refEncrypt(plain)]).toString('hex').toUpperCase());
  });
});

describe('power', () => {
  it('unpowered card answers 6F00 without state change; reset clears selection and PIN status', async () => {
    await tx(card, '002000810431323334');
    await tx(card, '00A4080C0450005002');
    expect((await tx(card, '00B0000004')).sw).toBe('9000');
    await card.powerDown();
    expect(card.powered).toBe(false);
    expect((await tx(card, '00B0000004')).sw).toBe('6F00');
    await card.warmReset();
    expect(card.powered).toBe(true);
    expect((await tx(card, '00B0000004')).sw).toBe('6986');
    await tx(card, '00A4080C0450005002');
    expect((await tx(card, '00B0000004')).sw).toBe('6982');
  });
});
