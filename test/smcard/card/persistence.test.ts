// Card state on disk: EF contents and PIN/PUK counters survive remove/reinsert (a new card object) and a new
// process; writes are atomic; a corrupt or foreign state file is a typed error and is never replaced.

import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CardOptionsError, CardStateError, createVirtualCard, removeStaleTempFiles, type VirtualCard } from '../../../smcard/card/index.js';
import { ascii, tx } from './helpers.js';

let dataDir: string;
beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'vscr-card-'));
});
afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

async function insert(cardId?: string): Promise<VirtualCard> {
  const card = await createVirtualCard({ dataDir, cardId });
  await card.coldReset();
  return card;
}

const stateFile = (id = 'default'): string => join(dataDir, 'cards', `${id}.json`);

describe('persistence', () => {
  it('keeps EF contents and the PIN counter across remove and reinsert', async () => {
    const a = await insert();
    expect((await tx(a, '002000810430303030')).sw).toBe('63C2');
    await tx(a, '00A4080C0450005001');
    expect((await tx(a, '00D6000005' + ascii('world'))).sw).toBe('9000');
    await a.flush();
    await a.powerDown();
    await a.close!(); // removal: the state file is free for the next card

    const b = await insert();
    expect((await tx(b, '00200081')).sw).toBe('63C2');
    await tx(b, '00A4080C0450005001');
    expect((await tx(b, '00B0000005')).data).toBe(ascii('world'));
    const doc = JSON.parse(await readFile(stateFile(), 'utf8'));
    expect(doc).toMatchObject({ format: 'vscr-card-state', version: 2, profile: 'default', pin: { retriesLeft: 2 }, puk: { retriesLeft: 10 } });
    expect(doc.files['3F00/5000/5001'].slice(0, 10)).toBe(ascii('world').toLowerCase());
  });

  it('every state change is on disk when the response comes back (no flush needed)', async () => {
    const a = await insert();
    await tx(a, '002000810439393939');
    expect(JSON.parse(await readFile(stateFile(), 'utf8')).pin.retriesLeft).toBe(2);
    await tx(a, '00A4080C0450005001');
    await tx(a, '00D6000001AA');
    expect(JSON.parse(await readFile(stateFile(), 'utf8')).files['3F00/5000/5001'].slice(0, 2)).toBe('aa');
    // No temp files left behind; the lock file marks the live card's ownership.
    expect((await readdir(join(dataDir, 'cards'))).sort()).toEqual(['default.json', 'default.json.lock']);
    expect((await stat(stateFile())).mode & 0o777).toBe(0o600); // it holds the PIN and PUK
    // Replaced, not rewritten in place: every save is a new file renamed over the old one (a new inode).
    const before = (await stat(stateFile())).ino;
    await tx(a, '00D6000001BB');
    expect((await stat(stateFile())).ino).not.toBe(before);
    expect(JSON.parse(await readFile(stateFile(), 'utf8')).files['3F00/5000/5001'].slice(0, 2)).toBe('bb');
  });

  it('a blocked PIN stays blocked after reinsertion; the PUK unblock and a changed PIN persist', async () => {
    const a = await insert();
    for (let i = 0; i < 3; i++) await tx(a, '002000810439393939');
    await a.close!();
    const b = await insert();
    expect((await tx(b, '002000810431323334')).sw).toBe('6983');
    expect((await tx(b, '002C008110' + ascii('12345678') + ascii('4321') + 'FFFFFFFF')).sw).toBe('9000');
    await b.close!();
    const c = await insert();
    expect((await tx(c, '002000810431323334')).sw).toBe('63C2');
    expect((await tx(c, '002000810434333231')).sw).toBe('9000');
  });

  it('survives a process restart: state written by another Node process is loaded here', async () => {
    const script = `
      import { createVirtualCard } from ${JSON.stringify(new URL('../../../smcard/card/index.ts', import.meta.url).href)};
      const card = await createVirtualCard({ dataDir: ${JSON.stringify(dataDir)}, cardId: 'proc' });
      await card.coldReset();
      await card.transmit(Uint8Array.from(Buffer.from('002000810439393939', 'hex')), 2);
      await card.transmit(Uint8Array.from(Buffer.from('00A4080C0450005001', 'hex')), 2);
      await card.transmit(Uint8Array.from(Buffer.from('00D6000003414243', 'hex')), 2);
      await card.flush();
    `;
    await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { timeout: 30_000 });
    const card = await insert('proc');
    expect((await tx(card, '00200081')).sw).toBe('63C2');
    await tx(card, '00A4080C0450005001');
    expect((await tx(card, '00B0000003')).data).toBe(ascii('ABC'));
  });

  it('cards with different ids keep separate state; no dataDir keeps nothing', async () => {
    const a = await insert('one');
    await tx(a, '002000810439393939');
    const b = await insert('two');
    expect((await tx(b, '00200081')).sw).toBe('63C3');
    const m1 = await createVirtualCard({});
    await m1.coldReset();
    await tx(m1, '002000810439393939');
    await m1.flush();
    const m2 = await createVirtualCard({});
    await m2.coldReset();
    expect((await tx(m2, '00200081')).sw).toBe('63C3');
  });

  it('rejects an unsafe cardId', async () => {
    await expect(createVirtualCard({ dataDir, cardId: '../escape' })).rejects.toBeInstanceOf(CardOptionsError);
    await expect(createVirtualCard({ dataDir, cardId: '.hidden' })).rejects.toBeInstanceOf(CardOptionsError);
  });

  it('a save failure answers 6581 instead of throwing', async () => {
    const a = await insert();
    await rm(join(dataDir, 'cards'), { recursive: true, force: true });
    await writeFile(join(dataDir, 'cards'), 'not a directory');
    await tx(a, '00A4080C0450005001');
    expect((await tx(a, '00D6000001AA')).sw).toBe('6581');
    expect((await tx(a, '002000810431323334')).sw).toBe('6581');
    expect((await tx(a, '00200081')).sw).toBe('63C3'); // not verified: the counter reset could not be saved
    await expect(a.flush()).rejects.toThrow();
    await rm(join(dataDir, 'cards'));
    await a.flush(); // the directory is usable again: the kept change is written
    expect(JSON.parse(await readFile(stateFile(), 'utf8')).files['3F00/5000/5001'].slice(0, 2)).toBe('aa');
  });
});

describe('corrupt state files', () => {
  const bad: [string, string, RegExp][] = [
    ['not JSON', '{"format": "vscr-card-state", ', /not valid JSON/],
    ['an array', '[]', /not a JSON object/],
    ['wrong format', JSON.stringify({ format: 'other', version: 1 }), /"format"/],
    ['wrong version', JSON.stringify({ format: 'vscr-card-state', version: 7 }), /"version"/],
  ];
  const good = async (): Promise<Record<string, unknown>> => {
    const a = await insert();
    await tx(a, '002000810439393939');
    await a.close!();
    return JSON.parse(await readFile(stateFile(), 'utf8')) as Record<string, unknown>;
  };

  for (const [what, text, reason] of bad) {
    it(`${what}: CardStateError naming the file, and the file is left as it was`, async () => {
      await mkdir(join(dataDir, 'cards'), { recursive: true });
      await writeFile(stateFile(), text);
      const err = await createVirtualCard({ dataDir }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CardStateError);
      expect((err as CardStateError).file).toBe(stateFile());
      expect((err as CardStateError).code).toBe('VSCR_ERR_CARD_STATE');
      expect((err as CardStateError).message).toMatch(reason);
      expect((err as CardStateError).message).toContain(stateFile());
      expect(await readFile(stateFile(), 'utf8')).toBe(text);
    });
  }

  it('out-of-range counters, unknown files, wrong sizes and a foreign profile are reported precisely', async () => {
    const doc = await good();
    const variants: [Record<string, unknown>, RegExp][] = [
      [{ ...doc, pin: { value: '31323334', retriesLeft: 9 } }, /"pin.retriesLeft" is 9/],
      [{ ...doc, puk: { salt: 'zz', sha256: '00', retriesLeft: 1 } }, /"puk.salt"/],
      [{ ...doc, files: { '3F00/9999': '00' } }, /3F00\/9999, which is not an EF/],
      [{ ...doc, files: { '3F00/5000/5001': '00' } }, /has 1 bytes, the EF has 64/],
      [{ ...doc, profile: 't1-only' }, /written for profile "t1-only"/],
    ];
    for (const [variant, reason] of variants) {
      const text = JSON.stringify(variant);
      await writeFile(stateFile(), text);
      await expect(createVirtualCard({ dataDir }), String(reason)).rejects.toThrow(reason);
      expect(await readFile(stateFile(), 'utf8')).toBe(text);
    }
  });
});

describe('leftovers of a crashed writer', () => {
  it('temp files of a dead writer are removed, a live writer\'s are kept; a dead process\'s lock is taken over', async () => {
    const cards = join(dataDir, 'cards');
    await mkdir(cards, { recursive: true });
    const deadPid = 2 ** 22 + 12345; // above pid_max's default ceiling: no such process
    const stale = `default.json.${deadPid}.0a1b2c3d.tmp`;
    const live = `other.json.${process.ppid}.0a1b2c3d.tmp`;
    await writeFile(join(cards, stale), '{"pin":"secret"}');
    await writeFile(join(cards, live), '{}');
    await writeFile(join(cards, 'default.json.lock'), `${deadPid}\n`);
    expect(await removeStaleTempFiles(cards)).toEqual([stale]);
    expect((await readdir(cards)).sort()).toEqual(['default.json.lock', live]);
    const card = await insert();
    expect((await readFile(join(cards, 'default.json.lock'), 'utf8')).trim()).toBe(String(process.pid));
    await card.close!();
    expect((await readdir(cards)).sort()).toEqual(['default.json', live]); // the lock is gone with the card
  });

  it('a lock held by another live process refuses the card', async () => {
    await mkdir(join(dataDir, 'cards'), { recursive: true });
    await writeFile(join(dataDir, 'cards', 'default.json.lock'), `${process.ppid}\n`);
    await expect(insert()).rejects.toThrow(/in use by process/);
  });
});
