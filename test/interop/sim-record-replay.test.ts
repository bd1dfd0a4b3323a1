// Transcripts, scripted cards and replay through real clients on our pcsc-lite socket: pyscard and scriptor
// sessions are recorded (PIN masked, handle and context known), followed live over SSE, exported, scripted and
// replayed byte for byte.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gate, PYTHON, rest, run, startInteropService, type InteropService } from './support.js';

const g = gate([['pyscard', 'python3-pyscard'], ['scriptor', 'pcsc-tools'], ['opensc-tool', 'opensc']]);
const SESSION = fileURLToPath(new URL('./sim-session.py', import.meta.url));
const READER0 = 'vscr Virtual Reader 00 00';
const READER1 = 'vscr Virtual Reader 01 00';

interface SessionOut { atr: string; protocol: number; responses: string[] }

async function pyscard(svc: InteropService, reader: string): Promise<SessionOut> {
  const r = await run(PYTHON, [SESSION, reader], svc.env);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as SessionOut;
}

async function text(url: string, init?: RequestInit): Promise<{ status: number; type: string; body: string }> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(15_000) });
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() };
}

describe.skipIf(g.skip)('record, script and replay through real PC/SC clients', () => {
  let svc: InteropService;
  let dir: string;

  beforeAll(async () => {
    if (g.missing) throw new Error(g.missing);
    svc = await startInteropService();
    dir = await mkdtemp(path.join(tmpdir(), 'vscr-sim-'));
  });
  afterAll(async () => {
    await svc?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('records a pyscard session, follows it over SSE, and replays it byte for byte (ordered and by command)', async () => {
    // Follow live from the start.
    const controller = new AbortController();
    const live = await fetch(`${svc.url}/v1/readers/0/transcript/events`, { signal: controller.signal });
    expect(live.status).toBe(200);
    expect(live.headers.get('content-type')).toMatch(/^text\/event-stream/);

    const original = await pyscard(svc, READER0);
    expect(original.responses[2]).toBe('9000'); // the PIN was right
    expect(original.responses[3]).toMatch(/^[0-9a-f]{16}9000$/);

    const t = await rest(svc.url, 'GET', '/v1/readers/0/transcript');
    expect(t.status).toBe(200);
    const body = t.body as { raw: boolean; entries: Record<string, unknown>[] };
    expect(body.raw).toBe(false);
    const apdus = body.entries.filter((e) => e.kind === 'apdu');
    expect(apdus.map((e) => e.command)).toEqual([
      '00a4040006f07673637201',
      '002a90800361626300',
      '0020008104????????',
      '0084000008',
      '00ff0000',
      '0084000008',
    ]);
    expect(apdus[2]).toMatchObject({ masked: true, sw: '9000', meaning: 'Normal processing.' });
    expect(apdus.map((e) => e.response)).toEqual(original.responses);
    // The pcsc-lite context and handle came with every command (one connection, one handle).
    expect(new Set(apdus.map((e) => `${String(e.context)}/${String(e.handle)}`)).size).toBe(1);
    expect(typeof apdus[0].handle).toBe('number');
    expect(body.entries.some((e) => e.kind === 'power' && e.action === 'warm')).toBe(true);
    expect(JSON.stringify(body)).not.toContain('31323334'); // the PIN itself is nowhere

    // The SSE stream carried the same exchanges, live.
    const reader = live.body!.getReader();
    let sse = '';
    while ((sse.match(/"kind":"apdu"/g) ?? []).length < apdus.length) {
      const { value, done } = await reader.read();
      if (done) break;
      sse += Buffer.from(value).toString();
    }
    controller.abort();
    expect(sse).toContain('"command":"0020008104????????"');
    expect(sse).toContain(`"response":"${original.responses[3]}"`);

    // scriptor-style text and the scriptor input script.
    const plain = await text(`${svc.url}/v1/readers/0/transcript`, { headers: { accept: 'text/plain' } });
    expect(plain.type).toMatch(/^text\/plain/);
    expect(plain.body).toContain('> 00 FF 00 00');
    expect(plain.body).toContain('< 6D 00 : Checking error: instruction code not supported or invalid.');
    expect(plain.body).toMatch(/> 00 20 00 81 04 \?\? \?\? \?\? \?\? {2}\(context 0x[0-9a-f]+, handle 0x[0-9a-f]+\)/);
    const scriptor = await text(`${svc.url}/v1/readers/0/transcript?format=scriptor`);
    expect(scriptor.body).toContain('\n00 A4 04 00 06 F0 76 73 63 72 01\n');
    expect(scriptor.body).toContain('# 00 20 00 81 04 ?? ?? ?? ??  (PIN masked, not sent)');

    // Save as JSON Lines, replay in the same reader, run the same client: byte-identical.
    const jsonl = await text(`${svc.url}/v1/readers/0/transcript?format=jsonl`);
    expect(jsonl.type).toMatch(/^application\/x-ndjson/);
    expect(JSON.parse(jsonl.body.split('\n')[0])).toMatchObject({ format: 'vscr-transcript', version: 1, reader: READER0 });
    for (const mode of ['ordered', 'by-command']) {
      const loaded = await text(`${svc.url}/v1/readers/0/replay?replace=true&mode=${mode}`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: jsonl.body });
      expect(loaded.status, loaded.body).toBe(201);
      const again = await pyscard(svc, READER0);
      expect(again).toEqual(original);
      const v = await rest(svc.url, 'GET', '/v1/readers/0/script/verdict');
      expect(v.body).toMatchObject({ verdict: { passed: true, complete: true, mismatch: null, exchanges: 6 } });
    }

    // A divergent client run is reported like a strict script's mismatch.
    await text(`${svc.url}/v1/readers/0/replay?replace=true`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: jsonl.body });
    const other = await run('scriptor', ['-r', READER0], svc.env, 30_000, '00 A4 04 00 06 F0 76 73 63 72 01\n00 B0 00 00 00\n');
    expect(other.code, other.stderr).toBe(0);
    const v = await rest(svc.url, 'GET', '/v1/readers/0/script/verdict');
    expect(v.body).toMatchObject({
      verdict: { passed: false, mismatch: { exchange: 2, expected: ['00 2A 90 80 03 61 62 63 00'], actual: '00 B0 00 00 00' } },
    });
  });

  it('records an opensc-tool session in reader 1 and replays it by command: same output, verdict passed', async () => {
    expect((await rest(svc.url, 'POST', '/v1/readers/1/card', { profile: 'default' })).status).toBe(201);
    const args = ['-r', '1', '-s', '00 A4 04 00 06 F0 76 73 63 72 01', '-s', '00 84 00 00 10', '-s', '00 20 00 81 04 31 32 33 34'];
    const first = await run('opensc-tool', args, svc.env);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/Received \(SW1=0x90, SW2=0x00\)/);
    const saved = await text(`${svc.url}/v1/readers/1/transcript?format=jsonl`);
    expect(saved.body).not.toContain('31323334');
    const loaded = await text(`${svc.url}/v1/readers/1/replay?replace=true&mode=by-command`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: saved.body });
    expect(loaded.status, loaded.body).toBe(201);
    const second = await run('opensc-tool', args, svc.env);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toBe(first.stdout); // the 16 "random" bytes included
    const v = await rest(svc.url, 'GET', '/v1/readers/1/script/verdict');
    expect(v.body).toMatchObject({ verdict: { passed: true, mismatch: null } });
    expect((await rest(svc.url, 'DELETE', '/v1/readers/1/card')).status).toBe(200);
  });

  it('a YAML script answers scriptor, and its verdict names the first unexpected command', async () => {
    const script = [
      'name: select-then-read',
      'atr: 3B 80 80 01 01',
      'strict: true',
      'stages: [start, selected]',
      'rules:',
      '  - command: 00 A4 04 00 *',
      '    response: 90 00',
      '    then: selected',
      '  - command: 00 B0 00 00 ??',
      '    response: 01 02 03 90 00',
      '    when: selected',
      '',
    ].join('\n');
    const loaded = await text(`${svc.url}/v1/readers/1/script`, { method: 'POST', headers: { 'content-type': 'application/yaml' }, body: script });
    expect(loaded.status, loaded.body).toBe(201);
    expect(JSON.parse(loaded.body)).toMatchObject({ rules: 2, script: 'select-then-read', reader: { atr: '3b80800101', profile: 'script:select-then-read' } });
    const r = await run('scriptor', ['-r', READER1], svc.env, 30_000, '00 A4 04 00 02 3F 00\n00 B0 00 00 03\n00 CA 00 00\n');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('< 90 00 : Normal processing.');
    expect(r.stdout).toContain('< 01 02 03 90 00 : Normal processing.');
    expect(r.stdout).toContain('< 6D 00 : ');
    const v = await rest(svc.url, 'GET', '/v1/readers/1/script/verdict');
    expect(v.body).toMatchObject({
      verdict: { passed: false, complete: true, consumed: 2, unmatched: 1, stage: 'selected', mismatch: { exchange: 3, actual: '00 CA 00 00', expected: ['(end of script)'] } },
    });
  });

  it('bad scripts and transcripts get 400 with line and field; the service keeps running', async () => {
    const bad = await text(`${svc.url}/v1/readers/1/script?replace=true`, {
      method: 'POST', headers: { 'content-type': 'application/yaml' }, body: 'rules:\n  - command: 00 A\n    response: 9000\n',
    });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body)).toMatchObject({ code: 'VSCR_ERR_BAD_SCRIPT', message: 'the card script is not valid: line 2, rules[0].command: odd number of hex digits (3) in "00 A"' });
    const stage = await rest(svc.url, 'POST', '/v1/readers/1/script?replace=true', { script: { stages: ['start'], rules: [{ command: '00', response: '9000', then: 'nowhere' }] } });
    expect(stage.status).toBe(400);
    expect((stage.body as { message: string }).message).toMatch(/rules\[0\]\.then: unknown stage "nowhere"; declared stages: start/);
    const newer = await text(`${svc.url}/v1/readers/1/replay?replace=true`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: '{"format":"vscr-transcript","version":9}\n' });
    expect(newer.status).toBe(400);
    expect(JSON.parse(newer.body)).toMatchObject({ code: 'VSCR_ERR_BAD_TRANSCRIPT', message: 'the transcript cannot be replayed: line 1, version: format version 9 is newer than this vscr reads (1); upgrade vscr' });
    const none = await rest(svc.url, 'GET', '/v1/readers/0/transcript');
    expect(none.status).toBe(200);
  });
});
