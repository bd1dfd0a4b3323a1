// pcsc_scan (pcsc-tools) against our socket: readers, removal/insertion over REST, a reader hot-plugged at runtime.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gate, type InteropService, rest, startInteropService, Watched } from './support.js';

const g = gate([
  ['pcsc_scan', 'pcsc-tools'],
  ['stdbuf', 'coreutils'],
]);

describe.skipIf(g.skip)('pcsc_scan', () => {
  let svc: InteropService;
  let scan: Watched | null = null;

  beforeAll(async () => {
    if (g.missing) throw new Error(g.missing);
    svc = await startInteropService();
  });

  afterAll(async () => {
    await scan?.stop();
    await svc?.close();
  });

  it('lists the readers, sees a removal and an insertion driven through REST, and a reader added at runtime', async () => {
    const { body } = await rest(svc.url, 'GET', '/v1/readers');
    const readers = (body as { readers: { name: string; atr: string | null; eventCounter: number }[] }).readers;
    expect(readers.map((r) => r.name)).toEqual(['vscr Virtual Reader 00 00', 'vscr Virtual Reader 01 00']);
    const atrText = (readers[0].atr ?? '').toUpperCase().match(/../g)!.join(' ');

    // pcsc_scan runs forever and its stdout is a pipe: stdbuf makes it line buffered so we see events live.
    scan = Watched.spawn('stdbuf', ['-oL', 'pcsc_scan', '-n'], svc.env);
    await scan.waitFor(/0: vscr Virtual Reader 00 00\n1: vscr Virtual Reader 01 00\n/);
    await scan.waitFor(new RegExp(`Reader 0: vscr Virtual Reader 00 00\\n\\s+Event number: (\\d+)\\n\\s+Card state: Card inserted, \\n\\s+ATR: ${atrText}`));
    await scan.waitFor(/Reader 1: vscr Virtual Reader 01 00\n\s+Event number: \d+\n\s+Card state: Card removed/);
    const initial = readers[0].eventCounter;

    let mark = scan.mark;
    expect((await rest(svc.url, 'DELETE', '/v1/readers/0/card')).status).toBe(200);
    const removed = await scan.waitFor(/Reader 0: vscr Virtual Reader 00 00\n\s+Event number: (\d+)\n\s+Card state: Card removed/, mark);
    expect(Number(removed[1])).toBe(initial + 1);

    mark = scan.mark;
    expect((await rest(svc.url, 'POST', '/v1/readers/0/card', {})).status).toBe(201);
    const inserted = await scan.waitFor(
      new RegExp(`Reader 0: vscr Virtual Reader 00 00\\n\\s+Event number: (\\d+)\\n\\s+Card state: Card inserted, \\n\\s+ATR: ${atrText}`),
      mark,
    );
    expect(Number(inserted[1])).toBe(initial + 2);

    // Hot-plug: pcsc_scan watches \\?PnP?\Notification and rescans when the reader count changes.
    mark = scan.mark;
    const added = await rest(svc.url, 'POST', '/v1/readers', {});
    expect(added.status).toBe(201);
    const name = (added.body as { reader: { name: string } }).reader.name;
    expect(name).toBe('vscr Virtual Reader 02 00');
    await scan.waitFor(/Scanning present readers\.\.\.\n0: vscr Virtual Reader 00 00\n1: vscr Virtual Reader 01 00\n2: vscr Virtual Reader 02 00\n/, mark);
    await scan.waitFor(/Reader 2: vscr Virtual Reader 02 00\n\s+Event number: \d+\n\s+Card state: Card removed/, mark);

    // And it vanishes again.
    mark = scan.mark;
    expect((await rest(svc.url, 'DELETE', `/v1/readers/${encodeURIComponent(name)}`)).status).toBe(204);
    await scan.waitFor(/Scanning present readers\.\.\.\n0: vscr Virtual Reader 00 00\n1: vscr Virtual Reader 01 00\n\s/, mark);
  });
});
