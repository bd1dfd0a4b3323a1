// `vscr fault …` in process against a real service: arm with triggers, list, clear one and all, refuse bad input.
import { describe, expect, it } from 'vitest';
import { useTestService } from './harness.js';

const ts = useTestService();
const cli = ts.cli;

describe('vscr fault', () => {
  it('arms, lists and clears faults; the armed spec is what the flags said', async () => {
    const armed = await cli(['fault', 'arm', '0', 'sw', '--sw', '6a82', '--match', '00a4..0c', '--sticky']);
    expect(armed.code, armed.err).toBe(0);
    expect(armed.out).toBe('Armed 1: sw  [match=00a4..0c]  until cleared  seen 0  fired 0\n');
    const json = await cli(['fault', 'arm', '0', 'corrupt', '--truncate', '--nth', '3', '--probability', '0.5', '--seed', '9', '--json']);
    expect(JSON.parse(json.out)).toMatchObject({ fault: { id: 2, kind: 'corrupt', once: true, trigger: { nth: 3, probability: 0.5, seed: 9 }, spec: { corruption: 'truncate' } } });
    expect((await cli(['fault', 'list', '0'])).out.split('\n').filter(Boolean)).toHaveLength(2);
    expect(ts.service.bus.readers()[0].faults?.list().map((f) => f.kind)).toEqual(['sw', 'corrupt']);

    expect((await cli(['fault', 'clear', '0', '1'])).out).toBe('Cleared 1 fault(s)\n');
    expect((await cli(['fault', 'clear', '0'])).out).toBe('Cleared 1 fault(s)\n');
    expect((await cli(['fault', 'list', '0'])).out).toBe('no faults armed\n');
  });

  it('arms power-fail at once and a per-byte slow fault', async () => {
    const slow = await cli(['fault', 'arm', '0', 'slow', '--delay', '5', '--per-byte', '0.5', '--json']);
    expect(JSON.parse(slow.out)).toMatchObject({ fault: { kind: 'slow', spec: { delayMs: 5, perByteMs: 0.5 } } });
    expect((await cli(['fault', 'clear', '0'])).out).toBe('Cleared 1 fault(s)\n');
    const now = await cli(['fault', 'arm', '0', 'power-fail', '--now', '--json']);
    expect(now.code, now.err).toBe(0);
    expect(JSON.parse(now.out)).toMatchObject({ fault: { kind: 'power-fail', fired: 1 } });
    expect((await cli(['fault', 'arm', '0', 'slow', '--per-byte', 'x'])).code).toBe(2);
    expect((await cli(['fault', 'arm', '0', 'slow', '--per-byte', '1001'])).code).toBe(4);
  });

  it('refuses bad input: an unknown kind (usage, 2), a fault the service cannot arm (4)', async () => {
    expect((await cli(['fault', 'arm', '0', 'explode'])).code).toBe(2);
    const bad = await cli(['fault', 'arm', '0', 'mute', '--now']);
    expect(bad.code).toBe(4);
    expect(bad.err).toMatch(/"now" applies to remove-card, unplug, reset-card and power-fail/);
    expect((await cli(['fault', 'clear', '0', '7'])).code).toBe(4);
  });
});
