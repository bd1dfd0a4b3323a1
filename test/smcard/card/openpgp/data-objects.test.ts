// OpenPGP applet: SELECT and the probes before it, every data object's encoding, PUT DATA access rules and limits,
// SELECT DATA for the three certificate occurrences, GET CHALLENGE.

import { describe, expect, it } from 'vitest';
import { ATTR, SELECT, VERIFY_PW1_82, VERIFY_PW3, ascii, blankCard, cmd, hex, putData, send, tlvMap, tx } from './support.js';

const HIST = '00730000E0059000';

describe('OpenPGP applet: identity and probes', () => {
  it('answers scdaemon probes as a card without MF files, then SELECT by AID with no data', async () => {
    const card = await blankCard();
    const [mf, gdo, yubi, sel, selOpensc] = await send(card, '00A4000C023F00', '00A4020C022F02', '00A4040008A000000527471117', SELECT, `${SELECT}00`);
    expect(mf.sw).toBe('9000');
    expect(gdo.sw).toBe('6A82');
    expect(yubi.sw).toBe('6A82');
    expect([sel.sw, sel.data]).toEqual(['9000', '']);
    expect([selOpensc.sw, selOpensc.data]).toEqual(['9000', '']);
  });

  it('4F is the 16-byte AID: RID, application 01, version 3.4, manufacturer FF7C, serial, 0000', async () => {
    const card = await blankCard();
    const [, aid] = await send(card, SELECT, '00CA004F00');
    expect(aid.sw).toBe('9000');
    expect(aid.data).toMatch(/^D276000124010304FF7C[0-9A-F]{8}0000$/);
    expect(aid.data.slice(20, 28)).not.toMatch(/^(00000000|FFFFFFFF)$/);
  });

  it('5F52 equals the historical bytes of the ATR (chaining + extended length)', async () => {
    const card = await blankCard();
    const [, hist] = await send(card, SELECT, '00CA5F5200');
    expect(hist.data).toBe(HIST);
    expect(hex(card.atr).endsWith(`${HIST}8F`)).toBe(true);
  });

  it('C4, 7A, 65, 7F74 and 7F66 of a blank card', async () => {
    const card = await blankCard();
    const r = await send(card, SELECT, '00CA00C400', '00CA007A00', '00CA006500', '00CA7F7400', '00CA7F6600');
    expect(r.slice(1).map((x) => x.sw)).toEqual(['9000', '9000', '9000', '9000', '9000']);
    expect(r[1].data).toBe('007F7F7F030003');
    expect(r[2].data).toBe('7A059303000000');
    expect(r[3].data).toBe('65085B005F2D005F3500');
    expect(r[4].data).toBe('7F7403810100');
    expect(r[5].data).toBe('7F660802020800' + '02020800');
  });

  it('6E holds 4F, 5F52, 7F66 and 73 with C0-C6, CD and DE, with its outer tag', async () => {
    const card = await blankCard();
    const [, aid, app] = await send(card, SELECT, '00CA004F00', '00CA006E00');
    const outer = tlvMap(app.data);
    expect([...outer.keys()]).toEqual([0x6e]);
    const inner = tlvMap(outer.get(0x6e)!);
    expect([...inner.keys()]).toEqual([0x4f, 0x5f52, 0x7f66, 0x73]);
    expect(inner.get(0x4f)).toBe(aid.data);
    expect(inner.get(0x5f52)).toBe(HIST);
    const dd = tlvMap(inner.get(0x73)!);
    expect([...dd.keys()]).toEqual([0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xcd, 0xde]);
    expect(dd.get(0xc0)).toBe('7D000800080000FF0000');
    for (const t of [0xc1, 0xc2, 0xc3]) expect(dd.get(t)).toBe(ATTR.rsa2048);
    expect(dd.get(0xc4)).toBe('007F7F7F030003');
    expect(dd.get(0xc5)).toBe('00'.repeat(60));
    expect(dd.get(0xc6)).toBe('00'.repeat(60));
    expect(dd.get(0xcd)).toBe('00'.repeat(12));
    expect(dd.get(0xde)).toBe('010002000300');
  });

  it('empty special DOs answer 9000 without data; unknown DOs 6A88; 0103 needs PW1 (82), 0104 PW3', async () => {
    const card = await blankCard();
    const r = await send(card, SELECT, '00CA005E00', '00CA5F5000', '00CA010100', '00CA010200', '00CA00FA00', '00CA010300', '00CA010400');
    expect(r.slice(1).map((x) => `${x.sw}:${x.data}`)).toEqual(['9000:', '9000:', '9000:', '9000:', '6A88:', '6982:', '6982:']);
    const [, o3, o4] = await send(card, VERIFY_PW1_82, '00CA010300', '00CA010400');
    expect([o3.sw, o4.sw]).toEqual(['9000', '6982']);
  });
});

describe('OpenPGP applet: PUT DATA', () => {
  it('name, language, salutation, URL, login need PW3 and read back', async () => {
    const card = await blankCard();
    const [, denied] = await send(card, SELECT, putData('005B', ascii('Doe<<John')));
    expect(denied.sw).toBe('6982');
    const r = await send(card, VERIFY_PW3, putData('005B', ascii('Doe<<John')), putData('5F2D', ascii('en')), putData('5F35', '31'), putData('5F50', ascii('https://example.org/k.asc')), putData('005E', ascii('jdoe')));
    expect(r.map((x) => x.sw)).toEqual(['9000', '9000', '9000', '9000', '9000', '9000']);
    const [ch, url, login, name] = await send(card, '00CA006500', '00CA5F5000', '00CA005E00', '00CA005B00');
    expect(ch.data).toBe(`6514` + `5B09${ascii('Doe<<John')}` + `5F2D02${ascii('en')}` + '5F350131');
    expect(url.data).toBe(ascii('https://example.org/k.asc'));
    expect(login.data).toBe(ascii('jdoe'));
    expect(name.data).toBe(ascii('Doe<<John'));
  });

  it('refuses over-long values with 6700, read-only DOs with 6982, unknown ones with 6A88', async () => {
    const card = await blankCard();
    const r = await send(card, SELECT, VERIFY_PW3, putData('005B', ascii('x'.repeat(40))), putData('5F2D', ascii('abcdefghi')), putData('5F35', '3132'), putData('004F', '00'), putData('006E', '00'), putData('00FA', '00'), putData('00C7', '00'.repeat(19)), putData('00CE', '000000'));
    expect(r.slice(2).map((x) => x.sw)).toEqual(['6700', '6700', '6700', '6982', '6982', '6A88', '6700', '6700']);
  });

  it('private DOs: 0101/0103 written after PW1 (82), 0102/0104 after PW3', async () => {
    const card = await blankCard();
    const r1 = await send(card, SELECT, putData('0101', 'AA'), putData('0102', 'BB'), VERIFY_PW1_82, putData('0101', 'AA'), putData('0103', 'CC'), putData('0102', 'BB'), VERIFY_PW3, putData('0102', 'BB'), putData('0104', 'DD'));
    expect(r1.slice(1).map((x) => x.sw)).toEqual(['6982', '6982', '9000', '9000', '9000', '6982', '9000', '9000', '9000']);
    const r2 = await send(card, '00CA010100', '00CA010200', '00CA010300', '00CA010400');
    expect(r2.map((x) => x.data)).toEqual(['AA', 'BB', 'CC', 'DD']);
  });

  it('algorithm attributes: the four supported forms are accepted per slot, others 6A80', async () => {
    const card = await blankCard();
    const ok = await send(card, SELECT, VERIFY_PW3, putData('00C1', ATTR.ed25519), putData('00C2', ATTR.cv25519), putData('00C3', ATTR.p256ecdsa), putData('00C2', ATTR.p256ecdh), putData('00C1', `${ATTR.ed25519}FF`), putData('00C3', ATTR.rsa2048));
    expect(ok.slice(2).map((x) => x.sw)).toEqual(['9000', '9000', '9000', '9000', '9000', '9000']);
    const bad = await send(card, putData('00C2', ATTR.ed25519), putData('00C1', ATTR.cv25519), putData('00C1', '010400002000'), putData('00C1', ATTR.p256ecdh), putData('00C1', ''));
    expect(bad.map((x) => x.sw)).toEqual(['6A80', '6A80', '6A80', '6A80', '6A80']);
    const [c1, c2, c3] = await send(card, '00CA00C100', '00CA00C200', '00CA00C300');
    expect([c1.data, c2.data, c3.data]).toEqual([`${ATTR.ed25519}FF`, ATTR.p256ecdh, ATTR.rsa2048]);
  });

  it('fingerprints, CA fingerprints and times land in C5, C6, CD', async () => {
    const card = await blankCard();
    const fpr = 'AB'.repeat(20);
    await send(card, SELECT, VERIFY_PW3, putData('00C8', fpr), putData('00CB', 'CD'.repeat(20)), putData('00D0', '6955B900'));
    const [c5, c6, cd] = await send(card, '00CA00C500', '00CA00C600', '00CA00CD00');
    expect(c5.data).toBe('00'.repeat(20) + fpr + '00'.repeat(20));
    expect(c6.data).toBe('00'.repeat(20) + 'CD'.repeat(20) + '00'.repeat(20));
    expect(cd.data).toBe('00'.repeat(8) + '6955B900');
  });

  it('C4 byte 1 switches the signature PIN between forced (00) and not forced (01)', async () => {
    const card = await blankCard();
    const r = await send(card, SELECT, VERIFY_PW3, putData('00C4', '01'), '00CA00C400', putData('00C4', '02'));
    expect(r[3].data).toBe('017F7F7F030003');
    expect(r[4].sw).toBe('6A80');
  });
});

describe('OpenPGP applet: KDF data object (F9)', () => {
  it('reads 81 01 00 on a blank card; a KDF-DO with 87/88 makes those hashes the PINs (as gpg kdf-setup expects)', async () => {
    const card = await blankCard();
    const [, blank] = await send(card, SELECT, '00CA00F900');
    expect(blank.data).toBe('810100');
    const user = '11'.repeat(32);
    const admin = '22'.repeat(32);
    const kdf = `810103820108830400000400` + `8408${'AA'.repeat(8)}` + `8608${'BB'.repeat(8)}` + `8720${user}` + `8820${admin}`;
    const r = await send(card, putData('00F9', kdf), VERIFY_PW3, putData('00F9', '810102'), putData('00F9', '810103'), putData('00F9', kdf), '00CA00F900', VERIFY_PW3, cmd('00200083', admin), cmd('00200081', user), '00CA00C400');
    expect(r.map((x) => x.sw)).toEqual(['6982', '9000', '6A80', '6A80', '9000', '9000', '63C2', '9000', '9000', '9000']);
    expect(r[5].data).toBe(kdf);
    expect(r[9].data).toBe('007F7F7F030003');
  });
});

describe('OpenPGP applet: SELECT DATA and GET CHALLENGE', () => {
  it('keeps three certificate occurrences (OpenSC form 60 04 5C 02 7F 21 and the bare 5C form)', async () => {
    const card = await blankCard();
    const r = await send(card, SELECT, VERIFY_PW3, '00A502040660045C027F21', putData('7F21', '3082AAAA'), '00A500040660045C027F21', '00CA7F2100', '00A50204045C027F21', '00CA7F2100');
    expect(r.slice(2).map((x) => x.sw)).toEqual(['9000', '9000', '9000', '9000', '9000', '9000']);
    expect(r[5].data).toBe('');
    expect(r[7].data).toBe('3082AAAA');
    const bad = await send(card, '00A503040660045C027F21', '00A50004045C025F50');
    expect(bad.map((x) => x.sw)).toEqual(['6A86', '6A88']);
  });

  it('GET CHALLENGE gives Le fresh bytes', async () => {
    const card = await blankCard();
    const [, a, b] = await send(card, SELECT, cmd('00840000', '', 16), cmd('00840000', '', 16));
    expect([a.sw, a.data.length, b.sw]).toEqual(['9000', 32, '9000']);
    expect(a.data).not.toBe(b.data);
  });

  it('unknown instructions answer 6D00, not a probe-breaking error', async () => {
    const card = await blankCard();
    const [, r] = await send(card, SELECT, '00CB3FFF055C037E0800');
    expect(r.sw).toBe('6D00');
    expect((await tx(card, '00A4040006D27600012402')).sw).toBe('6A82');
  });
});
