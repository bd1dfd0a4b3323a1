// `vscr scan` (like pcsc_scan): a real session sees an insert and a remove, then ends by --count; --timeout ends
// an idle scan.
import { describe, expect, it } from 'vitest';
import { VscrClient } from '../../../clients/sdk/client.js';
import { collect, jsonLines, runCli, spawnCli, startCli, useTestService, waitForOutput, watchOutput } from './harness.js';

const svc = useTestService();

describe('vscr scan', () => {
  it('reports the initial readers, then an insert and a remove, and exits 0 after --count 2', async () => {
    // In process (the scan ends by --count or --timeout); the Ctrl-C test below runs the real binary.
    const scan = startCli(['scan', '--json', '--count', '2', '--timeout', '40'], svc.env);
    const done = scan.done;
    // Both readers' initial states are printed before the first wait starts.
    await waitForOutput(scan.stdout, /"reader":"vscr Virtual Reader 01 00"[^\n]*\n/);
    const rest = new VscrClient({ url: svc.service.url });
    await rest.insertCard(1);
    await rest.removeCard(1);
    await rest.close();
    const r = await done;
    expect(r.code, r.stderr).toBe(0);
    const lines = jsonLines(r.stdout);
    expect(lines.map((l) => [l.type, l.event, l.reader])).toEqual([
      ['reader', 'present', 'vscr Virtual Reader 00 00'],
      ['reader', 'present', 'vscr Virtual Reader 01 00'],
      ['card', 'inserted', 'vscr Virtual Reader 01 00'],
      ['card', 'removed', 'vscr Virtual Reader 01 00'],
    ]);
    expect(lines[0]).toMatchObject({ cardPresent: true });
    expect(lines[2].atr).toMatch(/^3b/);
    expect(lines[3].atr).toBeNull();
    expect((lines[3].eventCounter as number) - (lines[1].eventCounter as number)).toBe(2);
  });

  it('sees a reader added at runtime at once (PnP), its card events, and its removal', async () => {
    // No --timeout: every wait is INFINITE, so nothing but the PnP wake-up can report the new reader. Each step
    // waits (bounded) for the line it causes before the next one.
    const child = spawnCli(['scan', '--json', '--count', '3'], svc.env);
    child.stdin.end();
    const out = watchOutput(child.stdout);
    const done = collect(child, 95_000, ['scan']);
    const rest = new VscrClient({ url: svc.service.url });
    try {
      await out.waitFor(/"reader":"vscr Virtual Reader 01 00"[^\n]*\n/);
      // No card event follows the add, so only the PnP wake-up can make this line appear.
      const added = await rest.addReader({});
      await out.waitFor(new RegExp(`"event":"added","reader":"${added.name}"[^\n]*\n`));
      await rest.insertCard(added.name);
      await out.waitFor(new RegExp(`"type":"card","event":"inserted","reader":"${added.name}"`));
      await rest.removeCard(added.name);
      await out.waitFor(new RegExp(`"type":"card","event":"removed","reader":"${added.name}"`));
      await rest.removeReader(added.name);
      await out.waitFor(new RegExp(`"type":"reader","event":"removed","reader":"${added.name}"`));
      await rest.insertCard(1); // the third card event ends the scan
      const r = await done;
      expect(r.code, r.stderr).toBe(0);
      const lines = jsonLines(r.stdout);
      expect(lines.map((l) => [l.type, l.event, l.reader])).toEqual([
        ['reader', 'present', 'vscr Virtual Reader 00 00'],
        ['reader', 'present', 'vscr Virtual Reader 01 00'],
        ['reader', 'added', added.name],
        ['card', 'inserted', added.name],
        ['card', 'removed', added.name],
        ['reader', 'removed', added.name],
        ['card', 'inserted', 'vscr Virtual Reader 01 00'],
      ]);
      expect(lines[2]).toMatchObject({ cardPresent: false, atr: null });
    } finally {
      child.kill('SIGKILL');
      await rest.removeCard(1).catch(() => undefined);
      await rest.close();
    }
  }, 120_000);

  it('prints text like pcsc_scan and ends after --timeout with no events', async () => {
    const r = await runCli(['scan', '--timeout', '0.25'], svc.env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Reader: vscr Virtual Reader 00 00\n {2}Card state: Card inserted\n {2}ATR: 3B /);
    expect(r.stdout).toContain('Reader: vscr Virtual Reader 01 00\n  Card state: Card removed\n');
  });

  it('Ctrl-C ends a blocking scan with SCardCancel and exit 130', async () => {
    const child = spawnCli(['scan'], svc.env);
    child.stdin.end();
    await waitForOutput(child.stdout, /Waiting for card events/);
    const done = collect(child, 30_000, ['scan']);
    child.kill('SIGINT');
    const r = await done;
    expect(r.code).toBe(130);
    expect(r.stderr).toContain('Cancelled');
  });
});
