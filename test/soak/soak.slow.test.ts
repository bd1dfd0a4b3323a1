// A short soak run (npm run soak -- --minutes 0.2): the service as a child process under pyscard, JSON-RPC and
// REST clients with seeded random reader and device faults; it must pass (no crash, wrong answer, leak or RSS
// growth) and print every figure the long run reports.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { gate } from '../interop/support.js';

const g = gate([['pyscard', 'python3-pyscard']]);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe.skipIf(g.skip)('soak run', () => {
  it('12 seconds with faults: PASS, with ops, errors, wrong answers, open handles and RSS reported', async () => {
    if (g.missing) throw new Error(g.missing);
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/soak/soak.ts', '--minutes', '0.2', '--seed', '7'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code, out).toBe(0);
    expect(out).toMatch(/^\[soak 0:\d\d\/0:12\] ops \d+/m); // the progress line
    expect(Number(/^ops done: (\d+)$/m.exec(out)?.[1])).toBeGreaterThan(100);
    expect(out).toMatch(/^faults armed: [1-9]\d* /m);
    expect(out).toMatch(/^device faults armed on device 1: [1-9]\d*; fired: dma-error \d+, never-ready \d+, latched-error \d+, lost-interrupt \d+; resets asked for: \d+$/m);
    expect(out).toMatch(/^wrong answers: 0$/m);
    expect(out).toMatch(/^open at end: contexts 0, card handles 0, sessions 0 \(at start 0\)$/m);
    expect(out).toMatch(/^service RSS: start [\d.]+ MiB \(after warm-up\), end [\d.]+ MiB, growth -?[\d.]+% \(limit 10%\)$/m);
    expect(out).toMatch(/^soak: PASS$/m);
  });
});
