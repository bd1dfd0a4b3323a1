// pyscard (python3-pyscard over libpcsclite) through our socket: a full session, and a wait woken over REST.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCARD } from '../../service/contract/pcsclite.js';
import { gate, type InteropService, PYTHON, rest, startInteropService } from './support.js';

const g = gate([['pyscard', 'python3-pyscard']]);
const SCRIPT = fileURLToPath(new URL('./pyscard-session.py', import.meta.url));

type Step = Record<string, unknown> & { step: string };

describe.skipIf(g.skip)('pyscard', () => {
  let svc: InteropService;

  beforeAll(async () => {
    if (g.missing) throw new Error(g.missing);
    svc = await startInteropService();
  });

  afterAll(async () => {
    await svc?.close();
  });

  it('establish … release, and GetStatusChange woken by an insertion over REST', async () => {
    const { body } = await rest(svc.url, 'GET', '/v1/readers');
    const reader0 = (body as { readers: { atr: string; eventCounter: number }[] }).readers[0];

    const steps: Step[] = [];
    let stderr = '';
    const child = spawn(PYTHON, [SCRIPT], { env: svc.env });
    const killer = setTimeout(() => child.kill('SIGKILL'), 45_000);
    let pending = '';
    const insertion: { done: Promise<{ status: number }> | null } = { done: null };
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      pending += d.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines.filter(Boolean)) {
        const step = JSON.parse(line) as Step;
        steps.push(step);
        // Python is (about to be) blocked in SCardGetStatusChange with the reader's current state: insert now.
        if (step.step === 'waiting') insertion.done = rest(svc.url, 'POST', '/v1/readers/1/card', {});
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    clearTimeout(killer);
    expect(code, `${stderr}\n${JSON.stringify(steps, null, 1)}`).toBe(0);
    expect(insertion.done, 'python never reached the wait').not.toBeNull();
    expect((await insertion.done)?.status).toBe(201);

    const get = (name: string, extra: Record<string, unknown> = {}): Step => {
      const s = steps.find((x) => x.step === name && Object.entries(extra).every(([k, v]) => x[k] === v));
      expect(s, `step ${name} ${JSON.stringify(extra)}`).toBeDefined();
      return s as Step;
    };
    const digest = createHash('sha256').update('abc').digest('hex');

    expect(get('establish')).toMatchObject({ rv: 0, valid: 0 });
    expect(get('list')).toMatchObject({ rv: 0, readers: ['vscr Virtual Reader 00 00', 'vscr Virtual Reader 01 00'] });
    expect(get('connect')).toMatchObject({ rv: 0, protocol: 2 });
    // SCardStatus: eventCounter << 16 | 0x34 (present, powered, negotiable), as pcscd reports it.
    expect(get('status')).toMatchObject({
      rv: 0,
      reader: 'vscr Virtual Reader 00 00',
      state: (reader0.eventCounter << 16) | 0x34,
      protocol: 2,
      atr: reader0.atr,
    });
    expect(get('begin').rv).toBe(0);
    expect(get('select').rv).toBe(0);
    expect(String(get('select').response)).toMatch(/^(9000|61..)$/);
    expect(get('hash')).toMatchObject({ rv: 0, response: `${digest}9000` });
    expect(get('end').rv).toBe(0);
    expect(get('attrib', { name: 'atr' })).toMatchObject({ rv: 0, value: reader0.atr });
    expect(get('attrib', { name: 'vendor' }).rv).toBe(0);
    expect(Buffer.from(String(get('attrib', { name: 'vendor' }).value), 'hex').toString('latin1')).toMatch(/^vscr\0?$/);
    expect(get('attrib', { name: 'friendly' }).rv).toBe(0);
    expect(Buffer.from(String(get('attrib', { name: 'friendly' }).value), 'hex').toString('latin1')).toMatch(/^vscr Virtual Reader 00 00\0?$/);
    const control = get('control');
    expect(control.rv).toBe(0);
    expect(String(control.response).length % 12).toBe(0); // TLV list of 6-byte feature entries
    expect(get('reconnect')).toMatchObject({ rv: 0, protocol: 2 });
    expect(get('hash-after-reset')).toMatchObject({ rv: 0, response: `${digest}9000` });
    expect(get('disconnect').rv).toBe(0);
    expect(get('cancelled').rv).toBe(SCARD.E_CANCELLED);

    const waiting = get('waiting');
    expect(Number(waiting.state) & 0x10).toBe(0x10); // EMPTY
    const woken = get('woken');
    expect(woken.rv).toBe(0);
    expect(Number(woken.state) & 0x22).toBe(0x22); // CHANGED | PRESENT
    expect(String(woken.atr)).toBe(reader0.atr);
    expect(get('release').rv).toBe(0);
  });
});
