// pcscd's idle power-down through libpcsclite (pyscard): after the last handle leaves with SCARD_LEAVE_CARD and
// the grace period passes, a DIRECT connection reports SCARD_PROTOCOL_UNDEFINED and the applet must be
// selected again, as on a real reader.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCARD_PROTOCOL } from '../../service/contract/pcsclite.js';
import { gate, type InteropService, PYTHON, startInteropService } from './support.js';

const g = gate([['pyscard', 'python3-pyscard']]);
const SCRIPT = fileURLToPath(new URL('./pyscard-power-down.py', import.meta.url));

type Step = Record<string, unknown> & { step: string };

describe.skipIf(g.skip)('idle power-down (pyscard)', () => {
  let svc: InteropService;

  beforeAll(async () => {
    if (g.missing) throw new Error(g.missing);
    svc = await startInteropService({ powerDownDelayMs: 300 });
  });

  afterAll(async () => {
    await svc?.close();
  });

  it('connect, SELECT, disconnect, wait, connect DIRECT: protocol undefined, SELECT needed again', async () => {
    const steps: Step[] = [];
    let stderr = '';
    const child = spawn(PYTHON, [SCRIPT], { env: svc.env });
    const killer = setTimeout(() => child.kill('SIGKILL'), 45_000);
    let pending = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      pending += d.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines.filter(Boolean)) {
        const step = JSON.parse(line) as Step;
        steps.push(step);
        if (step.step === 'disconnect') {
          // Wait (bounded) until the card in reader 0 is down, then let the script go on.
          const card = svc.service.bus.readers()[0].card!;
          const deadline = Date.now() + 20_000;
          const poll = setInterval(() => {
            if (!card.powered || Date.now() > deadline) {
              clearInterval(poll);
              child.stdin.write('go\n');
            }
          }, 20);
        }
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    clearTimeout(killer);
    const trace = `${stderr}\n${JSON.stringify(steps, null, 1)}`;
    expect(code, trace).toBe(0);
    const get = (name: string): Step => steps.find((s) => s.step === name) ?? ({ step: name } as Step);
    expect(get('connect'), trace).toMatchObject({ rv: 0, protocol: SCARD_PROTOCOL.T1 });
    expect(get('select').response, trace).toMatch(/^(9000|61..)$/); // 61xx: the FCI waits for GET RESPONSE
    expect(get('disconnect'), trace).toMatchObject({ rv: 0 });
    expect(get('direct'), trace).toMatchObject({ rv: 0, protocol: SCARD_PROTOCOL.UNDEFINED });
    expect(get('reconnect'), trace).toMatchObject({ rv: 0, protocol: SCARD_PROTOCOL.T1 });
    expect(get('hash-unselected').response, trace).toBe('6d00'); // no applet selected: INS not supported
    expect(get('reselect').response, trace).toMatch(/^(9000|61..)$/);
    expect(get('hash').response, trace).toBe(`${createHash('sha256').update('abc').digest('hex')}9000`);
  });
});
