// REST reader routes over real HTTP: listing joined with the RM, add/remove readers, insert/remove cards with
// their 404/409 answers, the IOCTL trace in both forms, and server-sent events for each change.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readerSchema, type RestReader } from '../../../service/contract/rest.js';
import type { ReaderInfo } from '../../../clients/sdk/types.js';
import { expectHealthy, http, json, openEvents, startTestService, type TestService } from '../integration/harness.js';

/** The reader shape, from its schema (service/contract/rest.ts): the same type the SDK returns. */
type Reader = RestReader;

let svc: TestService;
let base: string;

beforeAll(async () => {
  svc = await startTestService();
  base = svc.url;
});
afterAll(async () => {
  await svc?.close();
});

const readers = async (): Promise<Reader[]> => (await json<{ readers: Reader[] }>(base, '/v1/readers')).body.readers;

describe('readers', () => {
  it('answers the schema\'s shape, which /docs publishes and the SDK\'s ReaderInfo is', async () => {
    const list = await readers();
    for (const r of list) {
      for (const k of readerSchema.required) expect(r, k).toHaveProperty(k);
      expect(Object.keys(r).every((k) => k in readerSchema.properties), Object.keys(r).join()).toBe(true);
    }
    const doc = (await json<{ paths: Record<string, { get: { responses: Record<string, { content: Record<string, { schema: { properties: { readers: { items: { properties: object } } } } }> }> } }> }>(base, '/docs/json')).body;
    const published = doc.paths['/v1/readers'].get.responses['200'].content['application/json'].schema.properties.readers.items.properties;
    expect(Object.keys(published)).toEqual(Object.keys(readerSchema.properties));
    const sdk: ReaderInfo = list[0];
    // @ts-expect-error a reader without its required variant is not a ReaderInfo
    const partial: ReaderInfo = { ...sdk, variant: undefined };
    // @ts-expect-error the variant is one of the schema's enum
    const other: Reader = { ...sdk, variant: 'busy' };
    expect([partial.index, other.index]).toEqual([0, 0]);
  });

  it('start-up: two published readers, the default card in reader 0', async () => {
    const list = await readers();
    expect(list.map((r) => r.name)).toEqual(['vscr Virtual Reader 00 00', 'vscr Virtual Reader 01 00']);
    expect(list[0]).toMatchObject({ index: 0, cardPresent: true, published: true, failure: null, variant: 'correct', profile: 'default' });
    expect(list[0].atr).toMatch(/^3b[0-9a-f]+$/);
    expect(list[0].stateNames).toContain('PRESENT');
    expect(list[1]).toMatchObject({ index: 1, cardPresent: false, atr: null, profile: null, published: true });
    expect(list[1].stateNames).toContain('ABSENT');
  });

  it('insert and remove a card by index and by name, with SSE notifications and counters', async () => {
    const events = await openEvents(base);
    try {
      await events.next((e) => e.event === 'reader' && e.data.type === 'snapshot');
      const before = (await readers())[1].eventCounter;
      const ins = await json<{ reader: Reader }>(base, '/v1/readers/1/card', { method: 'POST', json: {} });
      expect(ins.status).toBe(201);
      expect(ins.body.reader).toMatchObject({ index: 1, cardPresent: true, profile: 'default' });
      expect(ins.body.reader.eventCounter).toBe((before + 1) & 0xffff);
      const inserted = await events.next((e) => e.data.type === 'card-inserted');
      expect((inserted.data.reader as { name: string }).name).toBe('vscr Virtual Reader 01 00');

      const again = await json(base, '/v1/readers/1/card', { method: 'POST', json: {} });
      expect(again).toMatchObject({ status: 409, body: { code: 'VSCR_ERR_CARD_PRESENT' } });

      const rem = await json<{ reader: Reader }>(base, `/v1/readers/${encodeURIComponent('vscr Virtual Reader 01 00')}/card`, { method: 'DELETE' });
      expect(rem.status).toBe(200);
      expect(rem.body.reader).toMatchObject({ cardPresent: false, atr: null });
      expect(rem.body.reader.eventCounter).toBe((before + 2) & 0xffff);
      await events.next((e) => e.data.type === 'card-removed');

      const none = await json(base, '/v1/readers/1/card', { method: 'DELETE' });
      expect(none).toMatchObject({ status: 409, body: { code: 'VSCR_ERR_NO_CARD' } });
    } finally {
      events.close();
    }
    await expectHealthy(base);
  });

  it('the optional bodies may be absent or empty JSON', async () => {
    const a = await json<{ reader: Reader }>(base, '/v1/readers/1/card', { method: 'POST' });
    expect(a.status).toBe(201);
    expect(a.body.reader.profile).toBe('default');
    expect((await json(base, '/v1/readers/1/card', { method: 'DELETE', headers: { 'content-type': 'application/json' } })).status).toBe(200);
    const b = await json<{ reader: Reader }>(base, '/v1/readers/1/card', { method: 'POST', body: '', headers: { 'content-type': 'application/json' } });
    expect(b.status).toBe(201);
    expect((await json(base, '/v1/readers/1/card', { method: 'DELETE' })).status).toBe(200);
    expect(await json(base, '/v1/readers/1/card', { method: 'POST', body: '{"profile":', headers: { 'content-type': 'application/json' } })).toMatchObject({ status: 400, body: { code: 'VSCR_ERR_BAD_JSON' } });
  });

  it('two concurrent inserts: exactly one wins, the other gets 409', async () => {
    const answers = await Promise.all([1, 2, 3].map(() => http(base, '/v1/readers/1/card', { method: 'POST' })));
    expect(answers.map((a) => a.status).sort()).toEqual([201, 409, 409]);
    expect((await json(base, '/v1/readers/1/card', { method: 'DELETE' })).status).toBe(200);
  });

  it('an unusable card state file gives 500 VSCR_ERR_CARD_STATE naming the file', async () => {
    const { mkdir, writeFile, rm: remove } = await import('node:fs/promises');
    await mkdir(`${svc.dataDir}/cards`, { recursive: true });
    // Reader 0 holds "default", so a second default card in reader 1 gets the id "default-1".
    await writeFile(`${svc.dataDir}/cards/default-1.json`, 'this is not json');
    const res = await json<Record<string, string>>(base, '/v1/readers/1/card', { method: 'POST' });
    expect(res.status).toBe(500);
    expect(res.body.code).toBe('VSCR_ERR_CARD_STATE');
    expect(res.body.message).toContain('default-1.json');
    await remove(`${svc.dataDir}/cards/default-1.json`);
    await expectHealthy(base);
  });

  it('unknown readers and profiles', async () => {
    expect(await json(base, '/v1/readers/9/card', { method: 'POST', json: {} })).toMatchObject({ status: 404, body: { code: 'VSCR_ERR_UNKNOWN_READER' } });
    expect(await json(base, '/v1/readers/no%20such%20reader/trace')).toMatchObject({ status: 404, body: { code: 'VSCR_ERR_UNKNOWN_READER' } });
    expect(await json(base, '/v1/readers/42', { method: 'DELETE' })).toMatchObject({ status: 404, body: { code: 'VSCR_ERR_UNKNOWN_READER' } });
    expect(await json(base, '/v1/readers/1/card', { method: 'POST', json: { profile: 'no-such-profile' } })).toMatchObject({ status: 400, body: { code: 'VSCR_ERR_UNKNOWN_PROFILE' } });
    expect(await json(base, '/v1/readers', { method: 'POST', json: { variant: 'weird' } })).toMatchObject({ status: 400, body: { code: 'VSCR_ERR_VALIDATION' } });
    await expectHealthy(base);
  });

  it('add and remove a reader at runtime', async () => {
    const events = await openEvents(base);
    try {
      const added = await json<{ reader: Reader }>(base, '/v1/readers', { method: 'POST', json: { vendorName: 'Acme', ifdType: 'Slot' } });
      expect(added.status).toBe(201);
      expect(added.body.reader).toMatchObject({ name: 'Acme Slot 02 00', index: 2, published: true, cardPresent: false });
      await events.next((e) => e.data.type === 'reader-added');
      expect((await readers()).map((r) => r.index)).toEqual([0, 1, 2]);
      const del = await http(base, '/v1/readers/2', { method: 'DELETE' });
      expect(del.status).toBe(204);
      await events.next((e) => e.data.type === 'reader-removed');
      expect((await readers()).map((r) => r.index)).toEqual([0, 1]);
    } finally {
      events.close();
    }
  });

  it('a forum-broken reader shows why it is not published', async () => {
    const added = await json<{ reader: Reader }>(base, '/v1/readers', { method: 'POST', json: { variant: 'forum-broken' } });
    expect(added.status).toBe(201);
    expect(added.body.reader.variant).toBe('forum-broken');
    // The resource manager drops it: its first IS_ABSENT is STATUS_DEVICE_BUSY of the forum thread (docs/background.md), and REST says so.
    expect(added.body.reader.published).toBe(false);
    expect(added.body.reader.failure).toMatch(/IOCTL_SMARTCARD_IS_ABSENT.*STATUS_DEVICE_BUSY \(0x80000011\)/);
    const listed = (await readers()).find((r) => r.index === added.body.reader.index);
    expect(listed).toMatchObject({ published: false, variant: 'forum-broken', failure: added.body.reader.failure });
    const del = await http(base, `/v1/readers/${added.body.reader.index}`, { method: 'DELETE' });
    expect(del.status).toBe(204);
  });

  it('trace: JSON entries and the debugger-log text', async () => {
    const t = await json<{ entries: { ioControlName: string }[] }>(base, '/v1/readers/0/trace');
    expect(t.status).toBe(200);
    expect(t.body.entries.length).toBeGreaterThan(0);
    expect(t.body.entries.map((e) => e.ioControlName)).toContain('IOCTL_SMARTCARD_IS_ABSENT');
    const text = await http(base, '/v1/readers/0/trace', { headers: { accept: 'text/plain' } });
    expect(text.status).toBe(200);
    expect(text.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await text.text()).toContain('IOCTL_SMARTCARD');
  });

  it('device reset appears as an SSE device event', async () => {
    const events = await openEvents(base);
    try {
      await json(base, '/v1/devices/0/reset', { method: 'POST' });
      const e = await events.next((x) => x.event === 'device');
      expect(e.data).toMatchObject({ type: 'device-reset', device: 0, stateName: 'ReadyState' });
    } finally {
      events.close();
    }
  });

  it('/metrics counts readers and cards', async () => {
    const text = await (await http(base, '/metrics')).text();
    expect(text).toMatch(/^vscr_readers 2$/m);
    expect(text).toMatch(/^vscr_cards_present 1$/m);
    expect(text).toMatch(/^vscr_readers_published 2$/m);
  });
});
