// The REST SDK against the real service: every call, each typed error, streaming bodies, and SSE events.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { createServer, type AddressInfo } from 'node:net';
import { VscrClient } from '../../../clients/sdk/client.js';
import { VscrHttpError, VscrUnreachableError } from '../../../clients/sdk/errors.js';
import type { VscrEvent } from '../../../clients/sdk/types.js';
import { connectWinscard } from '../../../clients/winscard/client.js';
import { startTestService, type TestService } from '../cli/harness.js';

let ts: TestService;
let c: VscrClient;

beforeAll(async () => {
  ts = await startTestService();
  c = new VscrClient({ url: ts.service.url });
});
afterAll(async () => {
  await c?.close();
  await ts?.stop();
});

async function httpError(p: Promise<unknown>): Promise<VscrHttpError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(VscrHttpError);
  return err as VscrHttpError;
}

describe('devices', () => {
  it('health, devices, status and reset', async () => {
    expect(await c.health()).toMatchObject({ status: 'ok', node: process.version });
    expect(await c.metrics()).toMatch(/^# (HELP|TYPE) /m);
    const doc = await c.openApi();
    expect(doc).toHaveProperty(['paths', '/v1/readers']);
    const [d] = await c.devices();
    expect(d).toMatchObject({ id: 0, vendorId: 0x1111, deviceId: 0x2222, revision: 0, state: 0, errorCode: 0 });
    expect(await c.deviceStatus(0)).toEqual({ state: 0, stateName: 'ReadyState', errorCode: 0, errorName: 'no error' });
    expect(await c.resetDevice(0)).toMatchObject({ state: 0, errorCode: 0 });
  });

  it('sha256 from bytes, a Node Readable, a web stream and JSON agree with node:crypto', async () => {
    const kat = 'a665a45920422f9d417e4867efdc4fb8a04a1f3fff1fa07e998e86f7f7a27ae3';
    expect(await c.sha256(0, new TextEncoder().encode('123'))).toBe(kat);
    expect(await c.sha256(0, { data: '313233', encoding: 'hex' })).toBe(kat);
    expect(await c.sha256(0, { data: '123', encoding: 'utf8' })).toBe(kat);
    const big = Buffer.alloc(3 * 1024 * 1024 + 123, 0x5a);
    const expected = createHash('sha256').update(big).digest('hex');
    const chunks = Array.from({ length: Math.ceil(big.length / 65536) }, (_, i) => big.subarray(i * 65536, (i + 1) * 65536));
    expect(await c.sha256(0, Readable.from(chunks))).toBe(expected);
    expect(await c.sha256(0, new ReadableStream({ start(ctl) { for (const ch of chunks) ctl.enqueue(new Uint8Array(ch)); ctl.close(); } }))).toBe(expected);
    expect(await c.sha256(0, new Uint8Array(0))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('encrypt/decrypt raw and JSON, buffered and streamed, with the known answers', async () => {
    expect(Buffer.from(await c.encrypt(0, new TextEncoder().encode('123'))).toString('hex')).toBe('13933c64935f9001534e01365105aa56');
    expect(Buffer.from(await c.encrypt(0, { data: '00'.repeat(16), encoding: 'hex' })).toString('hex')).toBe('32d6e396f76ea81ee5f9bb9643c259db');
    expect(Buffer.from(await c.decrypt(0, { data: '13933c64935f9001534e01365105aa56', encoding: 'hex' })).toString('hex')).toBe('313233' + '00'.repeat(13));
    const data = Buffer.alloc(409600, 0x41);
    const stream = await c.encryptStream(0, Readable.from([data]));
    const parts: Uint8Array[] = [];
    for await (const p of stream as unknown as AsyncIterable<Uint8Array>) parts.push(p);
    const enc = Buffer.concat(parts);
    expect(enc.length).toBe(409600);
    expect(Buffer.from(await c.decrypt(0, enc)).equals(data)).toBe(true);
  });

  it('typed errors: 404 unknown device, 400 bad hex, 400 empty AES input', async () => {
    const e404 = await httpError(c.deviceStatus(9));
    expect(e404).toMatchObject({ status: 404, code: 'VSCR_ERR_UNKNOWN_DEVICE' });
    expect(e404.message).toMatch(/GET \/v1\/devices/);
    const e400 = await httpError(c.sha256(0, { data: 'abc', encoding: 'hex' }));
    expect(e400).toMatchObject({ status: 400, code: 'VSCR_ERR_BAD_HEX' });
    expect(await httpError(c.encrypt(0, new Uint8Array(0)))).toMatchObject({ status: 400, code: 'VSCR_ERR_EMPTY_INPUT' });
  });
});

describe('readers and cards', () => {
  it('lists, inserts, removes, adds and deletes readers; 409 for an occupied or empty reader', async () => {
    const readers = await c.readers();
    expect(readers.map((r) => [r.index, r.name, r.cardPresent])).toEqual([[0, 'vscr Virtual Reader 00 00', true], [1, 'vscr Virtual Reader 01 00', false]]);
    expect(readers[0].atr).toMatch(/^3b/);

    const inserted = await c.insertCard(1);
    expect(inserted).toMatchObject({ index: 1, cardPresent: true, profile: 'default' });
    const e409 = await httpError(c.insertCard('vscr Virtual Reader 01 00'));
    expect(e409).toMatchObject({ status: 409, code: 'VSCR_ERR_CARD_PRESENT' });
    expect(await c.removeCard('vscr Virtual Reader 01 00')).toMatchObject({ cardPresent: false });
    expect(await httpError(c.removeCard(1))).toMatchObject({ status: 409, code: 'VSCR_ERR_NO_CARD' });
    expect(await httpError(c.insertCard(1, 'no-such-profile'))).toMatchObject({ status: 400, code: 'VSCR_ERR_UNKNOWN_PROFILE' });
    expect(await httpError(c.removeCard(42))).toMatchObject({ status: 404, code: 'VSCR_ERR_UNKNOWN_READER' });

    const added = await c.addReader({});
    expect(added.name).toBe('vscr Virtual Reader 02 00');
    expect((await c.readers()).length).toBe(3);
    await c.removeReader(added.name);
    expect((await c.readers()).map((r) => r.name)).not.toContain(added.name);
  });

  it('trace as JSON entries and as debugger-log text', async () => {
    const entries = await c.trace(0);
    expect(entries.length).toBeGreaterThan(0);
    expect(await c.traceText(0)).toMatch(/IOCTL_SMARTCARD_/);
  });

  it('events(): an insert and a remove arrive as server-sent events', async () => {
    const ac = new AbortController();
    const seen: VscrEvent[] = [];
    const reading = (async () => {
      for await (const e of c.events({ signal: ac.signal })) {
        seen.push(e);
        if (e.data.type === 'snapshot') {
          await c.insertCard(1);
          await c.removeCard(1);
        }
        if (e.data.type === 'card-removed') break;
      }
    })();
    await reading;
    expect(seen.map((e) => `${e.event}:${e.data.type}`)).toEqual(['reader:snapshot', 'reader:card-inserted', 'reader:card-removed']);
  });
});

describe('unreachable and auth', () => {
  it('VscrUnreachableError when nothing listens', async () => {
    const s = createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const port = (s.address() as AddressInfo).port;
    await new Promise((r) => s.close(r));
    await expect(new VscrClient({ url: `http://127.0.0.1:${port}` }).devices()).rejects.toBeInstanceOf(VscrUnreachableError);
  });
});

describe('bearer token', () => {
  it('401 VSCR_ERR_UNAUTHORIZED without the token; REST and the PC/SC WebSocket work with it', async () => {
    const secured = await startTestService({ token: 'open-sesame' });
    try {
      const anon = new VscrClient({ url: secured.service.url });
      const e401 = await httpError(anon.devices());
      expect(e401).toMatchObject({ status: 401, code: 'VSCR_ERR_UNAUTHORIZED' });
      const authed = new VscrClient({ url: secured.service.url, token: 'open-sesame' });
      expect((await authed.devices()).length).toBe(1);
      await expect(connectWinscard({ url: secured.service.url })).rejects.toMatchObject({ status: 401, code: 'VSCR_ERR_HTTP_401' });
      const pcsc = await connectWinscard({ url: secured.service.url, token: 'open-sesame' });
      const ctx = await pcsc.establishContext();
      expect((await pcsc.listReaders(ctx)).length).toBe(2);
      await pcsc.close();
    } finally {
      await secured.stop();
    }
  });
});
