// A PIN-pad reader through the real Debian clients on our socket: pyscard's part 10 helpers parse the features
// and verify the default card's PIN through the pad (queued, typed over REST, cancelled, timed out), and
// opensc-tool lists the reader with its "PIN pad" capability.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gate, type InteropService, PYTHON, rest, run, startInteropService } from './support.js';

const g = gate([
  ['pyscard', 'python3-pyscard'],
  ['opensc-tool', 'opensc'],
]);
const SCRIPT = fileURLToPath(new URL('./pyscard-pinpad.py', import.meta.url));

type Step = Record<string, unknown> & { step: string };

describe.skipIf(g.skip)('PIN-pad reader', () => {
  let svc: InteropService;
  let readerName = '';
  let index = -1;

  beforeAll(async () => {
    if (g.missing) throw new Error(g.missing);
    svc = await startInteropService();
    const added = await rest(svc.url, 'POST', '/v1/readers', { pinpad: true });
    expect(added.status).toBe(201);
    const reader = (added.body as { reader: { name: string; index: number; pinpad: boolean } }).reader;
    expect(reader.pinpad).toBe(true);
    ({ name: readerName, index } = reader);
    expect((await rest(svc.url, 'POST', `/v1/readers/${index}/card`, {})).status).toBe(201);
  });

  afterAll(async () => {
    await svc?.close();
  });

  it('opensc-tool -l shows the PIN pad capability on the pinpad reader only', async () => {
    const r = await run('opensc-tool', ['-l'], svc.env);
    expect(r.code, r.stderr).toBe(0);
    const line = (name: string): string => r.stdout.split('\n').find((l) => l.endsWith(name)) ?? '';
    expect(line(readerName)).toMatch(/PIN pad/);
    expect(line('vscr Virtual Reader 00 00')).not.toMatch(/PIN pad/);
  });

  it('pyscard: features, TLV properties, and VERIFY_PIN_DIRECT queued, typed over REST, cancelled, timed out', async () => {
    expect((await rest(svc.url, 'POST', `/v1/readers/${index}/pinpad/queue`, { digits: '1234' })).status).toBe(201);
    const steps: Step[] = [];
    const driven: Promise<unknown>[] = [];
    let stderr = '';
    const child = spawn(PYTHON, [SCRIPT, readerName], { env: svc.env });
    const killer = setTimeout(() => child.kill('SIGKILL'), 45_000);
    let pending = '';
    const press = async (body: unknown) => {
      const waited = await rest(svc.url, 'GET', `/v1/readers/${index}/pinpad?waitPrompt=10000`);
      expect((waited.body as { pinpad: { prompting: boolean } }).pinpad.prompting).toBe(true);
      return rest(svc.url, 'POST', `/v1/readers/${index}/pinpad`, body);
    };
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      pending += d.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines.filter(Boolean)) {
        const step = JSON.parse(line) as Step;
        steps.push(step);
        if (step.step === 'typing') driven.push(press({ digits: '1234', key: 'ok' }));
        if (step.step === 'cancelling') driven.push(press({ digits: '12', key: 'cancel' }));
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    clearTimeout(killer);
    expect(code, `${stderr}\n${JSON.stringify(steps, null, 1)}`).toBe(0);
    const answers = (await Promise.all(driven)) as { status: number; body: { pinpad: { prompting: boolean; digitsEntered: number } } }[];
    expect(answers.map((a) => a.status)).toEqual([200, 200]);
    // The answer never echoes the digits, and the entry has ended.
    expect(answers[0].body.pinpad).toMatchObject({ prompting: false, digitsEntered: 0 });
    expect(JSON.stringify(answers)).not.toContain('1234');

    const get = (name: string): Step => {
      const s = steps.find((x) => x.step === name);
      expect(s, `step ${name}`).toBeDefined();
      return s as Step;
    };
    expect(get('connect').rv).toBe(0);
    // pcsc-lite numbering: 0x42000000 + 3400 + tag.
    expect(get('features')).toMatchObject({
      rv: 0,
      raw: '060442000d4e' + '070442000d4f' + '0a0442000d52' + '120442000d5a',
      names: ['FEATURE_GET_TLV_PROPERTIES', 'FEATURE_IFD_PIN_PROPERTIES', 'FEATURE_MODIFY_PIN_DIRECT', 'FEATURE_VERIFY_PIN_DIRECT'],
    });
    expect(get('tlv')).toMatchObject({
      rv: 0,
      props: { PCSCv2_PART10_PROPERTY_bMinPINSize: 1, PCSCv2_PART10_PROPERTY_bMaxPINSize: 16, PCSCv2_PART10_PROPERTY_wIdVendor: 0x1d6b, PCSCv2_PART10_PROPERTY_dwMaxAPDUDataSize: 65536 },
    });
    expect(get('pin-properties')).toMatchObject({ rv: 0, raw: '00000700' });
    expect(get('queued')).toMatchObject({ rv: 0, response: '9000' });
    expect(get('typed')).toMatchObject({ rv: 0, response: '9000' });
    expect(get('cancelled')).toMatchObject({ rv: 0, response: '6401' });
    expect(get('timed-out')).toMatchObject({ rv: 0, response: '6400' });
    expect(get('disconnect').rv).toBe(0);
  });
});
