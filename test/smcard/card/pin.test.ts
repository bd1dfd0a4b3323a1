// PIN rules: VERIFY (status query, 63Cx, blocking 6983), CHANGE REFERENCE DATA, RESET RETRY COUNTER with the
// PUK and its own counter, VERIFY P1=FF, and GET CHALLENGE lengths.

import { beforeEach, describe, expect, it } from 'vitest';
import { createVirtualCard, type VirtualCard } from '../../../smcard/card/index.js';
import { T0, ascii, pinBlock, tx } from './helpers.js';

const verify = (pin: string): string => '00200081' + (pin.length).toString(16).padStart(2, '0') + ascii(pin);

let card: VirtualCard;
beforeEach(async () => {
  card = await createVirtualCard({});
  await card.coldReset();
});

describe('VERIFY', () => {
  it('empty VERIFY reports retries without spending one; success resets the counter', async () => {
    expect((await tx(card, '00200081')).sw).toBe('63C3');
    expect((await tx(card, verify('9999'))).sw).toBe('63C2');
    expect((await tx(card, '00200081')).sw).toBe('63C2');
    expect((await tx(card, verify('1234'))).sw).toBe('9000');
    expect((await tx(card, '00200081')).sw).toBe('9000'); // verified
    expect((await tx(card, '00200081')).sw).toBe('9000');
    expect((await tx(card, '002000FF')).sw).toBe('6A88');
    expect((await tx(card, '00 20 FF 81'.replace(/ /g, ''))).sw).toBe('9000'); // reset verification status
    expect((await tx(card, '00200081')).sw).toBe('63C3');
  });

  it('3 wrong PINs block it: 63C2, 63C1, 63C0, then 6983 even for the right PIN', async () => {
    expect((await tx(card, verify('0000'))).sw).toBe('63C2');
    expect((await tx(card, verify('0000'))).sw).toBe('63C1');
    expect((await tx(card, verify('0000'))).sw).toBe('63C0');
    expect((await tx(card, verify('1234'))).sw).toBe('6983');
    expect((await tx(card, '00200081')).sw).toBe('6983');
    expect((await tx(card, '00200081', T0)).sw).toBe('6983');
  });

  it('a wrong PIN clears an earlier verification; bad PIN lengths are 6700 and spend nothing', async () => {
    await tx(card, verify('1234'));
    await tx(card, verify('4321'));
    await tx(card, '00A4080C0450005002');
    expect((await tx(card, '00B0000001')).sw).toBe('6982');
    expect((await tx(card, verify('123'))).sw).toBe('6700');
    expect((await tx(card, '0020008109313233343536373839')).sw).toBe('6700');
    expect((await tx(card, '00200081')).sw).toBe('63C2');
  });

  it('accepts a PIN block padded with FF', async () => {
    expect((await tx(card, '0020008108' + pinBlock('1234'))).sw).toBe('9000');
  });
});

describe('RESET RETRY COUNTER with the PUK', () => {
  async function block(): Promise<void> {
    for (let i = 0; i < 3; i++) await tx(card, verify('0000'));
    expect((await tx(card, '00200081')).sw).toBe('6983');
  }

  it('P1=01 with the PUK unblocks and keeps the PIN', async () => {
    await block();
    expect((await tx(card, '002C018108' + ascii('12345678'))).sw).toBe('9000');
    expect((await tx(card, '00200081')).sw).toBe('63C3');
    expect((await tx(card, verify('1234'))).sw).toBe('9000');
  });

  it('P1=00 with PUK block + new PIN block unblocks and sets the new PIN', async () => {
    await block();
    expect((await tx(card, '002C008110' + pinBlock('12345678') + pinBlock('5678'))).sw).toBe('9000');
    expect((await tx(card, verify('1234'))).sw).toBe('63C2');
    expect((await tx(card, verify('5678'))).sw).toBe('9000');
  });

  it('a wrong PUK counts down its own counter (10 tries) and finally blocks for good', async () => {
    await block();
    for (let left = 9; left >= 0; left--) {
      expect((await tx(card, '002C018108' + ascii('00000000'))).sw).toBe(`63C${left.toString(16).toUpperCase()}`);
    }
    expect((await tx(card, '002C018108' + ascii('12345678'))).sw).toBe('6983');
    expect((await tx(card, verify('1234'))).sw).toBe('6983');
  });

  it('format errors: wrong block length 6700, invalid new PIN 6A80 (no PUK try spent), P1 02 6A86', async () => {
    expect((await tx(card, '002C00810F' + pinBlock('12345678') + pinBlock('5678').slice(2))).sw).toBe('6700');
    expect((await tx(card, '002C008110' + pinBlock('12345678') + pinBlock('12'))).sw).toBe('6A80');
    expect((await tx(card, '002C028108' + ascii('12345678'))).sw).toBe('6A86');
    expect((await tx(card, '002C0181')).sw).toBe('6700');
    expect((await tx(card, '002C018108' + ascii('12345678'))).sw).toBe('9000'); // counter still full
  });
});

describe('CHANGE REFERENCE DATA', () => {
  it('P1=00 old block + new block; the old PIN no longer works', async () => {
    expect((await tx(card, '0024008110' + pinBlock('1234') + pinBlock('87654321'))).sw).toBe('9000');
    expect((await tx(card, '00200081')).sw).toBe('9000'); // a successful change verifies
    await card.coldReset();
    expect((await tx(card, verify('1234'))).sw).toBe('63C2');
    expect((await tx(card, verify('87654321'))).sw).toBe('9000');
  });

  it('P1=00 with a wrong old PIN spends a try; P1=01 needs a verified PIN', async () => {
    expect((await tx(card, '0024008110' + pinBlock('9999') + pinBlock('5555'))).sw).toBe('63C2');
    expect((await tx(card, '0024018104' + ascii('5555'))).sw).toBe('6982');
    await tx(card, verify('1234'));
    expect((await tx(card, '0024018104' + ascii('5555'))).sw).toBe('9000');
    await card.coldReset();
    expect((await tx(card, verify('5555'))).sw).toBe('9000');
  });

  it('rejects a too short new PIN (6A80), a bad P1 (6A86), a bad reference (6A88), and when blocked (6983)', async () => {
    expect((await tx(card, '0024008110' + pinBlock('9999') + pinBlock('12'))).sw).toBe('6A80');
    expect((await tx(card, '0024008110' + pinBlock('9999') + '0102030405060708')).sw).toBe('6A80');
    expect((await tx(card, '00200081')).sw).toBe('63C3'); // the new PIN is checked first: no try spent
    expect((await tx(card, '0024028104' + ascii('5555'))).sw).toBe('6A86');
    expect((await tx(card, '0024008210' + pinBlock('1234') + pinBlock('5555'))).sw).toBe('6A88');
    await tx(card, verify('1234'));
    for (let i = 0; i < 3; i++) await tx(card, verify('0000'));
    expect((await tx(card, '0024008110' + pinBlock('1234') + pinBlock('5555'))).sw).toBe('6983');
    expect((await tx(card, '0024018104' + ascii('5555'))).sw).toBe('6983');
  });
});
