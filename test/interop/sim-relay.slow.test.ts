// Relay between two vscr services: B's reader 1 holds A's card through A's pcsc-lite socket (our TypeScript wire
// client). pyscard talks to B; APDUs reach A's card, both sides record them, card removal and insertion on A
// show up on B, and a relayed session saved on B replays byte for byte.
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gate, PYTHON, rest, run, startInteropService, type InteropService } from './support.js';

const g = gate([['pyscard', 'python3-pyscard']]);
const SESSION = fileURLToPath(new URL('./sim-session.py', import.meta.url));
const B_READER1 = 'vscr Virtual Reader 01 00';
const HASH_ABC = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad9000';

interface ReaderView { cardPresent: boolean; atr: string | null; profile: string | null }

async function reader(svc: InteropService, n: number): Promise<ReaderView> {
  return ((await rest(svc.url, 'GET', '/v1/readers')).body as { readers: ReaderView[] }).readers[n];
}

/** Bounded poll for a state the relay reaches asynchronously (not a timing assertion). */
async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timeout waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe.skipIf(g.skip)('relay: vscr B holds vscr A\'s card', () => {
  let a: InteropService;
  let b: InteropService;

  beforeAll(async () => {
    if (g.missing) throw new Error(g.missing);
    a = await startInteropService();
    b = await startInteropService();
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it('passes power, APDUs and card events through, records them, and replays the relayed session', async () => {
    const bad = await rest(b.url, 'POST', '/v1/readers/1/relay', { socket: `${a.socketPath}.nope` });
    expect(bad.status).toBe(502);
    expect(bad.body).toMatchObject({ code: 'VSCR_ERR_RELAY_FAILED', scard: 'SCARD_F_COMM_ERROR' });
    const unknown = await rest(b.url, 'POST', '/v1/readers/1/relay', { socket: a.socketPath, reader: 'no such reader' });
    expect(unknown.body).toMatchObject({ code: 'VSCR_ERR_RELAY_FAILED', scard: 'SCARD_E_UNKNOWN_READER' });

    const started = await rest(b.url, 'POST', '/v1/readers/1/relay', { socket: a.socketPath, reader: 'vscr Virtual Reader 00 00' });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    expect(started.body).toMatchObject({ relay: { remoteReader: 'vscr Virtual Reader 00 00', cardPresent: true }, reader: { cardPresent: true, profile: 'relay:vscr Virtual Reader 00 00' } });
    const aAtr = (await reader(a, 0)).atr;
    expect((await reader(b, 1)).atr).toBe(aAtr);

    const r = await run(PYTHON, [SESSION, B_READER1], b.env);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { atr: string; responses: string[] };
    expect(out.atr).toBe(aAtr);
    expect(out.responses[1]).toBe(HASH_ABC);
    expect(out.responses[2]).toBe('9000');
    expect(out.responses[4]).toBe('6d00');

    // Both sides recorded the exchanges: B at its relay reader, A at the real card.
    const cmds = async (svc: InteropService, n: number): Promise<string[]> =>
      ((await rest(svc.url, 'GET', `/v1/readers/${n}/transcript`)).body as { entries: { kind: string; command?: string; response?: string }[] }).entries
        .filter((e) => e.kind === 'apdu').map((e) => `${e.command}>${e.response}`);
    const onB = await cmds(b, 1);
    expect(onB).toHaveLength(6);
    expect(await cmds(a, 0)).toEqual(onB);

    // Card events pass through: out on A, out on B; in on A, in on B.
    expect((await rest(a.url, 'DELETE', '/v1/readers/0/card')).status).toBe(200);
    await until(async () => !(await reader(b, 1)).cardPresent, 'B to lose the card');
    expect((await rest(a.url, 'POST', '/v1/readers/0/card', { profile: 'default' })).status).toBe(201);
    await until(async () => (await reader(b, 1)).cardPresent, 'B to get the card back');
    const again = await run(PYTHON, [SESSION, B_READER1], b.env);
    expect(again.code, again.stderr).toBe(0);
    expect((JSON.parse(again.stdout) as { responses: string[] }).responses[1]).toBe(HASH_ABC);

    // Record from the relayed card and replay it without A: byte-identical.
    const saved = await fetch(`${b.url}/v1/readers/1/transcript?format=jsonl&session=2`).then((res) => res.text());
    expect((await rest(b.url, 'DELETE', '/v1/readers/1/relay')).status).toBe(204);
    expect((await reader(b, 1)).cardPresent).toBe(false);
    expect((await rest(b.url, 'GET', '/v1/readers/1/relay')).body).toEqual({ relay: null });
    const replay = await fetch(`${b.url}/v1/readers/1/replay`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: saved });
    expect(replay.status, await replay.clone().text()).toBe(201);
    const replayed = await run(PYTHON, [SESSION, B_READER1], b.env);
    expect(replayed.code, replayed.stderr).toBe(0);
    expect(JSON.parse(replayed.stdout)).toEqual(JSON.parse(again.stdout));
  });
});
