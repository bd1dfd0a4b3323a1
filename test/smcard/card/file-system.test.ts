// File system: SELECT by FID (P1=00/01/02/03), DF name (04), path (08/09), FCI/FCP/FMD by P2, READ/UPDATE
// BINARY with offsets and their edge status words, access conditions and a deactivated EF.

import { beforeEach, describe, expect, it } from 'vitest';
import { createVirtualCard, type VirtualCard } from '../../../smcard/card/index.js';
import { T1, ascii, tx } from './helpers.js';

const EF_5001_FCP = '620E' + '80020040' + '820101' + '83025001' + '8A0105';
const DF_5000_FCP = '6212' + '820138' + '83025000' + '8406F07673637200' + '8A0105';

let card: VirtualCard;
beforeEach(async () => {
  card = await createVirtualCard({});
  await card.coldReset();
});

async function readHello(): Promise<string> {
  return (await tx(card, '00B0000005')).data;
}

describe('SELECT', () => {
  it('P1=00 by FID: child DF, then child EF, then sibling EF, parent DF, MF', async () => {
    expect(await tx(card, '00A4000402500000')).toEqual(expect.objectContaining({ data: DF_5000_FCP, sw: '9000' }));
    expect(await tx(card, '00A4000402500100')).toEqual(expect.objectContaining({ data: EF_5001_FCP, sw: '9000' }));
    expect(await readHello()).toBe(ascii('hello'));
    expect((await tx(card, '00A4000C025002')).sw).toBe('9000'); // sibling of the current EF, same DF
    expect((await tx(card, '00A4000C025000')).sw).toBe('9000'); // the current DF itself through its parent
    expect((await tx(card, '00A4000C022F00')).sw).toBe('9000'); // EF under the MF: a sibling of DF 5000
    expect((await tx(card, '00B0000004')).data).toBe(ascii('vscr'));
    expect((await tx(card, '00A4000C023F00')).sw).toBe('9000');
    expect((await tx(card, '00A4000C025001')).sw).toBe('6A82'); // a grandchild is not reachable by FID from the MF
    expect((await tx(card, '00B0000004')).sw).toBe('6986'); // the MF is selected, no current EF
  });

  it('P1=01 selects only a child DF, P1=02 only an EF, P1=03 the parent', async () => {
    expect((await tx(card, '00A4010C022F00')).sw).toBe('6A82');
    expect((await tx(card, '00A4010C025000')).sw).toBe('9000');
    expect((await tx(card, '00A4020C025000')).sw).toBe('6A82');
    expect((await tx(card, '00A4020C025001')).sw).toBe('9000');
    expect(await readHello()).toBe(ascii('hello'));
    expect((await tx(card, '00A4030C')).sw).toBe('9000'); // parent of DF 5000 = MF
    expect((await tx(card, '00A4030C')).sw).toBe('6A82'); // the MF has no parent
    expect((await tx(card, '00A4030C025000')).sw).toBe('6700');
  });

  it('P1=04 by DF name, and the crypto applet by AID', async () => {
    const df = await tx(card, '00A4040406F0767363720000');
    expect(df).toEqual(expect.objectContaining({ data: DF_5000_FCP, sw: '9000' }));
    expect((await tx(card, '00A4020C025001')).sw).toBe('9000');
    expect(await tx(card, '00A4040006F0767363720100')).toEqual(expect.objectContaining({ data: '6F0E820138' + '8406F07673637201' + '8A0105', sw: '9000' }));
    expect(await tx(card, '00A4040806F0767363720100')).toEqual(expect.objectContaining({ data: '64088406F07673637201', sw: '9000' }));
    expect((await tx(card, '00A4040C05F076736372')).sw).toBe('6A82'); // partial names are not matched
    expect((await tx(card, '00A4040C00')).sw).toBe('6700');
    expect((await tx(card, '00A4040C11' + '00'.repeat(17))).sw).toBe('6700');
  });

  it('P1=08 path from the MF (with or without 3F00), P1=09 path from the current DF', async () => {
    expect((await tx(card, '00A4080C0450005001')).sw).toBe('9000');
    expect(await readHello()).toBe(ascii('hello'));
    expect((await tx(card, '00A4080C063F0050005001')).sw).toBe('9000');
    expect((await tx(card, '00A4080C022F00')).sw).toBe('9000');
    expect((await tx(card, '00A4080C0450015001')).sw).toBe('6A82');
    expect((await tx(card, '00A4080C03500050')).sw).toBe('6700');
    expect((await tx(card, '00A4080C0450015001')).sw).toBe('6A82');
    await tx(card, '00A4010C025000');
    expect((await tx(card, '00A4090C025001')).sw).toBe('9000');
    expect(await readHello()).toBe(ascii('hello'));
    expect((await tx(card, '00A4090C0450005001')).sw).toBe('6A82'); // relative path through a child that is not there
  });

  it('P2 selects the answer: 00 FCI, 04 FCP, 08 FMD, 0C nothing', async () => {
    expect((await tx(card, '00A40800045000500100')).data).toBe('6F' + EF_5001_FCP.slice(2));
    expect((await tx(card, '00A40804045000500100')).data).toBe(EF_5001_FCP);
    expect((await tx(card, '00A4080804500050010 0'.replace(' ', ''))).data).toBe('6400');
    expect((await tx(card, '00A4000802500000')).data).toBe('64088406F07673637200');
    expect((await tx(card, '00A4080C045000500100')).raw).toHaveLength(2);
  });

  it('a failed SELECT keeps the current selection', async () => {
    await tx(card, '00A4080C0450005001');
    expect((await tx(card, '00A4000C029999')).sw).toBe('6A82');
    expect(await readHello()).toBe(ascii('hello'));
  });

  it('a deactivated EF selects with 6283 (FCP still returned) and refuses READ/UPDATE with 6985', async () => {
    const r = await tx(card, '00A40804045000500400');
    expect(r.sw).toBe('6283');
    expect(r.data).toBe('620E' + '80020010' + '820101' + '83025004' + '8A0104');
    expect((await tx(card, '00B0000001')).sw).toBe('6985');
    expect((await tx(card, '00D6000001AA')).sw).toBe('6985');
  });
});

describe('READ BINARY / UPDATE BINARY', () => {
  beforeEach(async () => {
    await tx(card, '00A4080C0450005001'); // 64 bytes, "hello" then zeros, update always
  });

  it('reads at offsets; past the end gives 6282 (T=1) with the bytes that exist; outside gives 6B00', async () => {
    expect((await tx(card, '00B0000103')).data).toBe(ascii('ell'));
    expect(await tx(card, '00B0003E04', T1)).toEqual(expect.objectContaining({ data: '0000', sw: '6282' }));
    expect((await tx(card, '00B0003F01')).sw).toBe('9000');
    expect((await tx(card, '00B0004001')).sw).toBe('6B00');
    expect((await tx(card, '00B0010001')).sw).toBe('6B00');
    expect((await tx(card, '00B07FFF01')).sw).toBe('6B00');
  });

  it('rejects READ BINARY with SFI (6A81), with data (6700), without Le (6700)', async () => {
    expect((await tx(card, '00B0810001')).sw).toBe('6A81');
    expect((await tx(card, '00B00000010000')).sw).toBe('6700');
    expect((await tx(card, '00B00000')).sw).toBe('6700');
  });

  it('updates at offsets, and the bounds give 6B00 / 6A84 / 6700', async () => {
    expect((await tx(card, '00D6000203AABBCC')).sw).toBe('9000');
    expect((await tx(card, '00B0000006')).data).toBe('6865AABBCC00');
    expect((await tx(card, '00D6003F01EE')).sw).toBe('9000');
    expect((await tx(card, '00B0003F01')).data).toBe('EE');
    expect((await tx(card, '00D6004001EE')).sw).toBe('6B00');
    expect((await tx(card, '00D6003F02EEEE')).sw).toBe('6A84');
    expect((await tx(card, '00D60000')).sw).toBe('6700');
    expect((await tx(card, '00D6810001AA')).sw).toBe('6A81');
  });

  it('access conditions: 5002 needs the PIN to read and update; 5003 reads freely but needs it to update; 2F00 never', async () => {
    await tx(card, '00A4080C0450005002');
    expect((await tx(card, '00B000000B')).sw).toBe('6982');
    expect((await tx(card, '00D6000001AA')).sw).toBe('6982');
    await tx(card, '00A4080C0450005003');
    expect((await tx(card, '00B0000002')).data).toBe('0001');
    expect((await tx(card, '00D6000001AA')).sw).toBe('6982');
    expect((await tx(card, '002000810431323334')).sw).toBe('9000');
    expect((await tx(card, '00D6000001AA')).sw).toBe('9000');
    expect((await tx(card, '00B0000002')).data).toBe('AA01');
    await tx(card, '00A4080C0450005002');
    expect(await tx(card, '00B000000B')).toEqual(expect.objectContaining({ data: ascii('secret data'), sw: '9000' }));
    await tx(card, '00A4080C022F00');
    expect((await tx(card, '00D6000001AA')).sw).toBe('6982');
  });
});
