// `vscr fault … --device N` in process against a real service: arm crypto-device faults, see their effect on the
// device status, list, clear, and refuse mixed reader/device flags.
import { describe, expect, it } from 'vitest';
import { useTestService } from './harness.js';

const ts = useTestService();
const cli = ts.cli;

describe('vscr fault --device', () => {
  it('latches an error at once; status shows it, reset clears it', async () => {
    const armed = await cli(['fault', 'arm', '--device', '0', 'latched-error', '--code', '2', '--now']);
    expect(armed.code, armed.err).toBe(0);
    expect(armed.out).toBe('Armed 1: latched-error  [next command]  once  seen 0  fired 1\n');
    expect((await cli(['status', '--device', '0'])).out).toBe('State: ReadyState (0)\nError: reset error (2)\n');
    expect((await cli(['reset', '--device', '0'])).code).toBe(0);
    expect((await cli(['status', '--device', '0'])).out).toBe('State: ReadyState (0)\nError: no error (0)\n');
  });

  it('arms with triggers, lists and clears one and all', async () => {
    const json = await cli(['fault', 'arm', '--device', '0', 'dma-error', '--command', 'encrypt', '--nth', '2', '--sticky', '--json']);
    expect(json.code, json.err).toBe(0);
    const { fault } = JSON.parse(json.out) as { fault: { id: number } };
    expect(fault).toMatchObject({ device: 0, kind: 'dma-error', once: false, trigger: { command: 'encrypt', nth: 2 }, seen: 0, fired: 0 });
    await cli(['fault', 'arm', '--device', '0', 'never-ready', '--command', 'reset', '--hold', '5000']);
    const listed = (await cli(['fault', 'list', '--device', '0'])).out.split('\n').filter(Boolean);
    expect(listed).toEqual([
      `${fault.id}: dma-error  [nth=2 command=encrypt]  until cleared  seen 0  fired 0`,
      `${fault.id + 1}: never-ready  [command=reset]  once  seen 0  fired 0`,
    ]);
    expect((await cli(['fault', 'clear', '--device', '0', String(fault.id)])).out).toBe('Cleared 1 fault(s)\n');
    expect((await cli(['fault', 'clear', '--device', '0'])).out).toBe('Cleared 1 fault(s)\n');
    expect((await cli(['fault', 'list', '--device', '0'])).out).toBe('no faults armed\n');
  });

  it('refuses bad input: usage errors (2) and faults the service cannot arm (4)', async () => {
    expect((await cli(['fault', 'arm', '--device', '0', 'mute'])).code).toBe(2);
    expect((await cli(['fault', 'arm', '--device', '0', 'dma-error', '--sw', '6a82'])).code).toBe(2);
    expect((await cli(['fault', 'arm', '0', 'sw', '--sw', '6a82', '--code', '3'])).code).toBe(2);
    expect((await cli(['fault', 'list'])).code).toBe(2);
    const bad = await cli(['fault', 'arm', '--device', '0', 'dma-error', '--now']);
    expect(bad.code).toBe(4);
    expect(bad.err).toMatch(/"now" applies to latched-error and never-ready/);
    expect((await cli(['fault', 'clear', '--device', '0', '99'])).code).toBe(4);
    expect((await cli(['fault', 'list', '--device', '5'])).code).toBe(4);
  });
});
