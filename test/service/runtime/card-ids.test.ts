// One state file per live card: concurrent inserts of one profile get distinct ids (and files), and the store
// refuses a second live card on a file that is already owned.

import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CardStateError, createVirtualCard } from '../../../smcard/card/index.js';
import { startService } from '../../../service/service.js';
import { startTestService, type TestService } from '../integration/harness.js';

const READERS = 16;
let svc: TestService;

beforeAll(async () => {
  svc = await startTestService({ readers: READERS, defaultCard: null });
});
afterAll(async () => {
  await svc?.close();
});

const WRONG_PIN = Uint8Array.from(Buffer.from('002000810439393939', 'hex'));

describe('card ids and state files', () => {
  it(`${READERS} concurrent inserts of one profile: ${READERS} ids, ${READERS} state files, each written by one card`, async () => {
    const readers = svc.service.bus.readers();
    const results = await Promise.all(readers.map((r) => svc.service.readers.insertCard(r, 'default')));
    expect(results).toEqual(readers.map(() => 'inserted'));
    // Reader 0's card spends all three PIN tries; every other card spends one.
    const first = readers[0].card!;
    for (let i = 0; i < 3; i++) expect(Buffer.from(await first.transmit(WRONG_PIN, 2)).toString('hex')).toMatch(/^63c[210]$|^6983$/);
    for (const r of readers.slice(1)) expect(Buffer.from(await r.card!.transmit(WRONG_PIN, 2)).toString('hex')).toBe('63c2');
    const cardsDir = join(svc.dataDir, 'cards');
    const files = (await readdir(cardsDir)).filter((n) => n.endsWith('.json')).sort();
    expect(files).toHaveLength(READERS);
    const retries = await Promise.all(files.map(async (f) => (JSON.parse(await readFile(join(cardsDir, f), 'utf8')) as { pin: { retriesLeft: number } }).pin.retriesLeft));
    expect(retries.filter((n) => n === 0)).toHaveLength(1); // the blocked PIN was not overwritten by another card
    expect(retries.filter((n) => n === 2)).toHaveLength(READERS - 1);
    // Removing and reinserting frees and reuses ids: still one file per card.
    await Promise.all(readers.map((r) => svc.service.readers.removeCard(r)));
    await Promise.all(readers.map((r) => svc.service.readers.insertCard(r, 'default')));
    expect((await readdir(cardsDir)).filter((n) => n.endsWith('.json'))).toHaveLength(READERS);
    await Promise.all(readers.map((r) => svc.service.readers.removeCard(r)));
  });

  it('the store refuses a second live card on one state file, and lets go of it on close()', async () => {
    const [a, b] = await Promise.allSettled([
      createVirtualCard({ dataDir: svc.dataDir, cardId: 'shared' }),
      createVirtualCard({ dataDir: svc.dataDir, cardId: 'shared' }),
    ]);
    const ok = [a, b].filter((r) => r.status === 'fulfilled');
    const refused = [a, b].filter((r) => r.status === 'rejected');
    expect(ok).toHaveLength(1);
    expect(refused).toHaveLength(1);
    expect((refused[0] as PromiseRejectedResult).reason).toBeInstanceOf(CardStateError);
    expect(String((refused[0] as PromiseRejectedResult).reason)).toMatch(/in use by another live card/);
    const owner = (ok[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof createVirtualCard>>>).value;
    await owner.close!();
    const next = await createVirtualCard({ dataDir: svc.dataDir, cardId: 'shared' });
    await next.close!();
  });
});

describe('the data directory at start-up', () => {
  it('is created 0700, and temp state files left by a dead writer are removed', async () => {
    const fresh = join(svc.dataDir, 'nested', 'data');
    const first = await startService({ port: 0, dataDir: fresh, logLevel: 'silent', pcsc: false, readers: 0, defaultCard: null, cardReaders: [], devices: [{ keyString: 'k', engine: 'native', guestMemoryMiB: 16, interruptMode: 'msi' }] });
    await first.close();
    expect((await stat(fresh)).mode & 0o777).toBe(0o700);
    const stale = `default.json.${2 ** 22 + 99}.0badc0de.tmp`;
    await mkdir(join(fresh, 'cards'), { recursive: true });
    await writeFile(join(fresh, 'cards', stale), '{"pin":{"value":"31323334"}}');
    const second = await startService({ port: 0, dataDir: fresh, logLevel: 'silent', pcsc: false, readers: 0, defaultCard: null, cardReaders: [], devices: [{ keyString: 'k', engine: 'native', guestMemoryMiB: 16, interruptMode: 'msi' }] });
    await second.close();
    expect(await readdir(join(fresh, 'cards'))).toEqual([]);
  });
});
