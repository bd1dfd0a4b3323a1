// The simulation routes' REST contract through inject: script bodies (YAML text, JSON object, wrapped), 409 on an
// occupied reader unless ?replace=true, 404 verdict before any script, transcript formats and clearing.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startService, type RunningService } from '../../../service/service.js';

let svc: RunningService;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'vscr-sim-routes-'));
  svc = await startService({ port: 0, dataDir: dir, logLevel: 'silent', pcsc: false, readers: 2 });
});
afterAll(async () => {
  await svc?.close();
  await rm(dir, { recursive: true, force: true });
});

const inject = (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: string | object, type?: string) =>
  svc.app.inject({ method, url, payload, headers: type ? { 'content-type': type } : undefined });

describe('simulation routes', () => {
  it('a relay to a socket nobody listens on is 502 VSCR_ERR_RELAY_FAILED with the PC/SC code in scard', async () => {
    const r = await inject('POST', '/v1/readers/2/relay?replace=true', { socket: path.join(dir, 'no-daemon.sock') });
    expect(r.statusCode, r.body).toBe(502);
    expect(r.json()).toEqual({ error: 'Bad Gateway', code: 'VSCR_ERR_RELAY_FAILED', message: expect.stringContaining('SCARD_F_COMM_ERROR'), scard: 'SCARD_F_COMM_ERROR' });
    expect((await inject('GET', '/v1/readers/2/relay')).json()).toEqual({ relay: null });
  });

  it('verdict before any script is 404 VSCR_ERR_NO_SCRIPT', async () => {
    const r = await inject('GET', '/v1/readers/1/script/verdict');
    expect(r.statusCode).toBe(404);
    expect(r.json()).toMatchObject({ code: 'VSCR_ERR_NO_SCRIPT' });
  });

  it('takes the script as YAML text, as a JSON object, or wrapped; an occupied reader needs ?replace=true', async () => {
    const yaml = await inject('POST', '/v1/readers/1/script', 'name: a\nrules: [{command: "00", response: "9000"}]\n', 'text/yaml');
    expect(yaml.statusCode, yaml.body).toBe(201);
    expect(yaml.json()).toMatchObject({ script: 'a', rules: 1, reader: { profile: 'script:a', cardPresent: true } });
    const busy = await inject('POST', '/v1/readers/1/script', { name: 'b', rules: [] });
    expect(busy.statusCode).toBe(409);
    expect(busy.json()).toMatchObject({ code: 'VSCR_ERR_CARD_PRESENT' });
    const obj = await inject('POST', '/v1/readers/1/script?replace=true', { name: 'b', rules: [{ command: '00 A4 *', response: '9000' }] });
    expect(obj.statusCode, obj.body).toBe(201);
    expect(obj.json()).toMatchObject({ script: 'b', rules: 1 });
    const wrapped = await inject('POST', '/v1/readers/1/script?replace=true', { script: 'name: c\nrules: []\n' });
    expect(wrapped.json()).toMatchObject({ script: 'c', rules: 0 });
    const empty = await inject('POST', '/v1/readers/1/script?replace=true', { nothing: true });
    expect(empty.statusCode).toBe(400);
    expect(empty.json()).toMatchObject({ code: 'VSCR_ERR_BAD_SCRIPT' });
    const badQuery = await inject('POST', '/v1/readers/1/script?replace=yes', 'rules: []\n', 'text/yaml');
    expect(badQuery.statusCode).toBe(400);
    expect(badQuery.json()).toMatchObject({ code: 'VSCR_ERR_VALIDATION' });
    // A fresh script resets the verdict: nothing sent yet, no rules, passed.
    expect((await inject('GET', '/v1/readers/1/script/verdict')).json()).toMatchObject({ verdict: { script: 'c', passed: true, exchanges: 0 } });
  });

  it('serves the transcript as JSON, text, JSON Lines and scriptor script, and clears it', async () => {
    const json = (await inject('GET', '/v1/readers/1/transcript')).json<{ entries: { kind: string; profile?: string; session: number }[]; session: number }>();
    expect(json.entries.filter((e) => e.kind === 'insert').map((e) => e.profile)).toEqual(['script:a', 'script:b', 'script:c']);
    expect(json.session).toBe(3);
    const one = (await inject('GET', '/v1/readers/1/transcript?session=2')).json<{ entries: { session: number }[] }>();
    expect(new Set(one.entries.map((e) => e.session))).toEqual(new Set([2]));
    const text = await svc.app.inject({ method: 'GET', url: '/v1/readers/1/transcript', headers: { accept: 'text/plain' } });
    expect(text.headers['content-type']).toMatch(/^text\/plain/);
    expect(text.body).toContain('# session 3: card inserted (script:c)');
    const jsonl = await inject('GET', '/v1/readers/1/transcript?format=jsonl');
    expect(jsonl.headers['content-type']).toMatch(/^application\/x-ndjson/);
    expect(JSON.parse(jsonl.body.split('\n')[0])).toMatchObject({ format: 'vscr-transcript', version: 1, reader: 'vscr Virtual Reader 01 00' });
    const scriptor = await inject('GET', '/v1/readers/1/transcript?format=scriptor');
    expect(scriptor.body.split('\n')[0]).toBe('# vscr transcript of "vscr Virtual Reader 01 00", exported for scriptor (pcsc-tools)');
    expect((await inject('DELETE', '/v1/readers/1/transcript')).statusCode).toBe(204);
    expect((await inject('GET', '/v1/readers/1/transcript')).json()).toMatchObject({ entries: [], session: 3, dropped: 0 });
    expect((await inject('GET', '/v1/readers/9/transcript')).json()).toMatchObject({ code: 'VSCR_ERR_UNKNOWN_READER' });
  });

  it('a replay of a transcript without exchanges is a 400 naming why', async () => {
    const r = await inject('POST', '/v1/readers/0/replay?replace=true', '{"format":"vscr-transcript","version":1}\n{"kind":"insert","profile":"x","seq":1,"time":0,"session":1}\n', 'application/x-ndjson');
    expect(r.statusCode).toBe(400);
    expect(r.json()).toMatchObject({ code: 'VSCR_ERR_BAD_TRANSCRIPT', message: 'the transcript cannot be replayed: entries: the transcript has no APDU exchange to replay' });
  });
});

describe('following a transcript with the SDK', () => {
  it('yields the kept entries after `since`, then new ones as they happen', async () => {
    const { VscrClient } = await import('../../../clients/sdk/client.js');
    const client = new VscrClient({ url: svc.url });
    const controller = new AbortController();
    const seen: string[] = [];
    try {
      const follow = (async () => {
        for await (const e of client.followTranscript(1, { since: 0 }, { signal: controller.signal })) {
          seen.push(e.kind === 'insert' ? `insert:${e.profile}` : e.kind);
          if (e.kind === 'insert' && e.profile === 'script:live') return;
        }
      })();
      await new Promise((r) => setTimeout(r, 100)); // usually the stream is open by now; if not, `since: 0` still brings the entry
      expect((await inject('POST', '/v1/readers/1/script?replace=true', 'name: live\nrules: []\n', 'text/yaml')).statusCode).toBe(201);
      await follow;
      expect(seen.at(-1)).toBe('insert:script:live');
      expect(seen).toContain('remove');
    } finally {
      controller.abort();
      await client.close();
    }
  });
});
