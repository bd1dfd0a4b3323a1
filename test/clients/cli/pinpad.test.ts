// `vscr pinpad …` in process against a real service: add a pad reader, queue and clear entries, type on a running
// entry (the keys reach the keypad), and the exit code of a refused key press.
import { describe, expect, it } from 'vitest';
import { useTestService } from './harness.js';

const ts = useTestService();
const cli = ts.cli;

describe('vscr pinpad', () => {
  it('adds a pad reader, queues and clears, types on a running entry, refuses keys on an idle pad', async () => {
    const added = await cli(['pinpad', 'add', '--json']);
    expect(added.code, added.err).toBe(0);
    const { index } = (JSON.parse(added.out) as { reader: { index: number; pinpad: boolean } }).reader;
    const reader = ts.service.bus.readers().find((r) => r.unitNo === index)!;
    expect(reader.keypad).toBeTruthy();

    expect((await cli(['pinpad', 'queue', String(index), '1234'])).out).toMatch(/PIN pad: idle; 1 queued; 0 entries so far/);
    expect((await cli(['pinpad', 'queue', String(index), '--cancel'])).out).toMatch(/2 queued/);
    expect((await cli(['pinpad', 'queue', String(index), '--clear'])).out).toMatch(/0 queued/);

    const idle = await cli(['pinpad', 'ok', String(index)]);
    expect(idle.code).toBe(4);
    expect(idle.err).toMatch(/not asking for a PIN/);

    // An entry started on the keypad itself (as the driver starts one for VERIFY_PIN_DIRECT).
    const entry = reader.keypad!.enter({ stage: 'pin', timeoutMs: 20_000, firstKeyTimeoutMs: 0, maxDigits: 8, validation: 2 });
    const status = await cli(['pinpad', 'status', String(index), '--wait', '5000']);
    expect(status.out).toMatch(/asking for the PIN, 0 digit\(s\) typed/);
    expect((await cli(['pinpad', 'type', String(index), '12'])).out).toMatch(/2 digit\(s\) typed/);
    expect((await cli(['pinpad', 'clear', String(index)])).out).toMatch(/0 digit\(s\) typed/);
    const typed = await cli(['pinpad', 'type', String(index), '2468', '--ok', '--json']);
    expect(typed.code, typed.err).toBe(0);
    expect(JSON.parse(typed.out)).toMatchObject({ pinpad: { prompting: false, entries: 1 } });
    expect(await entry).toEqual({ end: 'ok', digits: '2468' });

    const bad = await cli(['pinpad', 'type', String(index), '12x']);
    expect(bad.code).toBe(2);
    const plain = await cli(['pinpad', 'status', '0']);
    expect([plain.code, plain.err]).toEqual([4, expect.stringMatching(/no PIN pad/)]);
  });
});
