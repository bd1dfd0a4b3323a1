// Card profiles: the built-in list, loading by name, custom profiles, and validation errors that name the rule.

import { describe, expect, it } from 'vitest';
import { CardProfileError, createVirtualCard, listProfiles, loadProfile, validateProfile, type CardProfile } from '../../../smcard/card/index.js';
import { ascii, tx } from './helpers.js';

describe('profiles', () => {
  it('lists the built-ins with default first, and loads each', () => {
    const names = listProfiles();
    expect(names[0]).toBe('default');
    expect(names).toContain('t1-only');
    for (const name of names) expect(loadProfile(name).name).toBe(name);
    const p = loadProfile('default');
    expect(p.applets).toEqual([{ type: 'crypto', aid: 'F07673637201' }]);
    expect(p.pin).toEqual({ value: '1234', maxRetries: 3, minLength: 4 });
  });

  it('an unknown profile name is a CardProfileError listing the available ones', async () => {
    expect(() => loadProfile('nope')).toThrow(CardProfileError);
    expect(() => loadProfile('nope')).toThrow(/available: default, t1-only/);
    await expect(createVirtualCard({ profile: 'nope' })).rejects.toBeInstanceOf(CardProfileError);
  });

  it('accepts a custom profile object', async () => {
    const custom: CardProfile = {
      name: 'tiny',
      atr: '3B800181',
      pin: { value: '0000', maxRetries: 5 },
      puk: { value: '11111111', maxRetries: 3 },
      files: [{ type: 'EF', path: '3F00/0001', contents: ascii('hi'), read: 'always', update: 'always' }],
      applets: [],
    };
    const card = await createVirtualCard({ profile: custom });
    expect(card.profile).toBe('tiny');
    expect(card.supportedProtocols).toBe(2);
    await card.coldReset();
    expect((await tx(card, '00200081')).sw).toBe('63C5');
    await tx(card, '00A4000C020001');
    expect((await tx(card, '00B0000002')).data).toBe(ascii('hi'));
    expect((await tx(card, '00A4040C06F07673637201')).sw).toBe('6A82'); // no applet in this profile
  });

  it('reports every problem of a bad profile in one error', () => {
    const bad = {
      name: 'Bad Name',
      atr: '3B800180',
      pin: { value: '12', maxRetries: 0, minLength: 4 },
      puk: { value: 'x'.repeat(9), maxRetries: 3 },
      files: [
        { type: 'EF', path: '3F00/5000/5001' },
        { type: 'DF', path: '3F00/5000', name: 'zz' },
        { type: 'EF', path: '3F00/0001', contents: 'ABC' },
        { type: 'EF', path: '3F00/0002', contents: 'AABB', size: 1 },
        { type: 'EF', path: '3F00/0003', read: 'maybe' },
        { type: 'EF', path: '3F00/0003' },
        { type: 'EF', path: '3F00/3FFF' },
        { type: 'XF', path: '3F00/0004' },
      ],
      applets: [{ type: 'crypto', aid: 'F001' }, { type: 'wallet', aid: 'F0767363720A' }],
    };
    let err: CardProfileError | null = null;
    try {
      validateProfile(bad, 'test');
    } catch (e) {
      err = e as CardProfileError;
    }
    expect(err).toBeInstanceOf(CardProfileError);
    const text = err!.problems.join('\n');
    for (const expected of [
      /name must match/,
      /atr: TCK wrong/,
      /pin.maxRetries must be an integer 1..15/,
      /puk.value must be 1..8 printable ASCII/,
      /files\[0\].path "3F00\/5000\/5001": parent 3F00\/5000 must be a DF declared earlier/,
      /files\[1\].name must be 1..16 bytes of hex/,
      /files\[2\].contents must be hex/,
      /files\[3\].contents \(2 bytes\) is larger than size 1/,
      /files\[4\].read must be one of always, pin, never/,
      /files\[5\].path "3F00\/0003" is declared twice/,
      /files\[6\].path "3F00\/3FFF": FID 3FFF is reserved/,
      /files\[7\].type must be "DF" or "EF"/,
      /applets\[0\].aid must be 5..16 bytes/,
      /applets\[1\].type must be one of "crypto"/,
    ]) {
      expect(text).toMatch(expected);
    }
    expect(err!.code).toBe('VSCR_ERR_CARD_PROFILE');
    expect(() => validateProfile('nope')).toThrow(/must be a JSON object/);
  });

  it('rejects a DF name shared with an applet AID, and PINs shorter than minLength', () => {
    const base = loadProfile('default');
    expect(() => validateProfile({ ...base, files: [{ type: 'DF', path: '3F00/5000', name: 'F07673637201' }] })).toThrow(/already used by 3F00\/5000/);
    expect(() => validateProfile({ ...base, pin: { value: '12', maxRetries: 3 } })).toThrow(/shorter than pin.minLength/);
  });
});
