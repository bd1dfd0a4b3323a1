// OpenPGP applet: VERIFY modes 81/82/83 (status form, P1=FF reset, forcesig), retry counters as C4 shows them,
// CHANGE REFERENCE DATA, RESET RETRY COUNTER by resetting code and by PW3.

import { describe, expect, it } from 'vitest';
import { SELECT, VERIFY_PW1_81, VERIFY_PW1_82, VERIFY_PW3, ascii, blankCard, cmd, putData, send } from './support.js';

const wrongPw1 = (ref = '81'): string => `002000${ref}06${ascii('654321')}`;

describe('OpenPGP applet: VERIFY', () => {
  it('status form (no Lc) answers 63C3 before, 9000 after; P1=FF forgets the verification', async () => {
    const card = await blankCard();
    const r = await send(card, SELECT, '0020008100', '00200081', VERIFY_PW1_81, '00200081', '00200082', '0020FF81', '00200081');
    expect(r.slice(1).map((x) => x.sw)).toEqual(['63C3', '63C3', '9000', '9000', '63C3', '9000', '63C3']);
  });

  it('three wrong PW1 block it (63C2, 63C1, 63C0, then 6983 even for the right PIN); C4 counts down', async () => {
    const card = await blankCard();
    const r = await send(card, SELECT, wrongPw1(), '00CA00C400', wrongPw1('82'), wrongPw1(), VERIFY_PW1_81, '00CA00C400', '00200081');
    expect(r.slice(1).map((x) => x.sw)).toEqual(['63C2', '9000', '63C1', '63C0', '6983', '9000', '6983']);
    expect(r[2].data).toBe('007F7F7F020003');
    expect(r[6].data).toBe('007F7F7F000003');
  });

  it('PW3 unblocks PW1 with RESET RETRY COUNTER P1=02 (6982 before VERIFY 83)', async () => {
    const card = await blankCard();
    await send(card, SELECT, wrongPw1(), wrongPw1(), wrongPw1());
    const newPin = ascii('777777');
    const r = await send(card, cmd('002C0281', newPin), VERIFY_PW3, cmd('002C0281', ascii('12345')), cmd('002C0281', newPin), '00CA00C400', `0020008106${newPin}`, VERIFY_PW1_81);
    expect(r.map((x) => x.sw)).toEqual(['6982', '9000', '6A80', '9000', '9000', '9000', '63C2']);
    expect(r[4].data).toBe('007F7F7F030003');
  });

  it('a right PIN resets the counter; wrong PW3 counts separately', async () => {
    const card = await blankCard();
    const r = await send(card, SELECT, wrongPw1(), VERIFY_PW1_82, `0020008308${ascii('87654321')}`, '00CA00C400');
    expect(r.slice(1).map((x) => x.sw)).toEqual(['63C2', '9000', '63C2', '9000']);
    expect(r[4].data).toBe('007F7F7F030002');
  });

  it('wrong references and P1 values answer 6A86', async () => {
    const card = await blankCard();
    const r = await send(card, SELECT, cmd('00200080', ascii('123456')), cmd('00200084', ascii('123456')), cmd('00200181', ascii('123456')));
    expect(r.slice(1).map((x) => x.sw)).toEqual(['6A86', '6A86', '6A86']);
  });
});

describe('OpenPGP applet: CHANGE REFERENCE DATA and the resetting code', () => {
  it('changes PW1 (old‖new), after which the old PIN fails; a too short new PIN is 6A80', async () => {
    const card = await blankCard();
    const r = await send(card, SELECT, cmd('00240081', ascii('123456') + ascii('12345')), cmd('00240081', ascii('123456') + ascii('abcdef')), VERIFY_PW1_82, cmd('00200082', ascii('abcdef')));
    expect(r.slice(1).map((x) => x.sw)).toEqual(['6A80', '9000', '63C2', '9000']);
  });

  it('changes PW3; a wrong old PW3 costs a try', async () => {
    const card = await blankCard();
    const r = await send(card, SELECT, cmd('00240083', ascii('00000000') + ascii('abcdefgh')), cmd('00240083', ascii('12345678') + ascii('abcdefgh')), VERIFY_PW3, cmd('00200083', ascii('abcdefgh')), '00CA00C400');
    expect(r.slice(1).map((x) => x.sw)).toEqual(['63C2', '9000', '63C2', '9000', '9000']);
    expect(r[5].data).toBe('007F7F7F030003');
  });

  it('resetting code: set by PUT DATA D3 under PW3, then unblocks PW1; a wrong code counts down', async () => {
    const card = await blankCard();
    const rc = ascii('resetme1');
    const before = await send(card, SELECT, cmd('002C0081', rc + ascii('999999')), putData('00D3', rc), VERIFY_PW3, putData('00D3', ascii('short')), putData('00D3', rc), '00CA00C400');
    expect(before.slice(1).map((x) => x.sw)).toEqual(['6982', '6982', '9000', '6A80', '9000', '9000']);
    expect(before[6].data).toBe('007F7F7F030303');
    await send(card, wrongPw1(), wrongPw1(), wrongPw1());
    const r = await send(card, cmd('002C0081', ascii('resetme2') + ascii('999999')), cmd('002C0081', rc + ascii('999999')), '00CA00C400', cmd('00200081', ascii('999999')));
    expect(r.map((x) => x.sw)).toEqual(['63C2', '9000', '9000', '9000']);
    expect(r[2].data).toBe('007F7F7F030303');
  });
});
