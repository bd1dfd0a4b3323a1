// `vscr scan`'s reader tracking over a mock transport: the exact frames that make it event-driven (the PnP
// pseudo-reader in every blocking wait, no polling timeout) and race-free (a reader list taken after the wait
// starts, SCardCancel when it already differs).
import { describe, expect, it } from 'vitest';
import { ReaderTracker } from '../../../clients/cli/commands/scan.js';
import { WinscardClient } from '../../../clients/winscard/client.js';
import { INFINITE, PNP_NOTIFICATION_READER, SCARD, SCARD_STATE } from '../../../service/contract/pcsclite.js';
import { MockRpcTransport } from '../mock-transport.js';

const R0 = 'vscr Virtual Reader 00 00';
const R1 = 'vscr Virtual Reader 01 00';
const PRESENT_C3 = ((3 << 16) | SCARD_STATE.PRESENT) >>> 0;
const EMPTY_C0 = SCARD_STATE.EMPTY;

function setup(readers: () => string[]) {
  const t = new MockRpcTransport();
  const lines: Record<string, unknown>[] = [];
  const tracker = new ReaderTracker(new WinscardClient(t), 7, (record) => lines.push(record));
  t.auto = (f) => {
    if (f.method === 'SCardListReaders') return { rv: 0, mszReaders: readers() };
    if (f.method === 'SCardCancel') return { rv: 0 };
    if (f.method === 'SCardGetStatusChange' && f.params.dwTimeout === 0) {
      const states = f.params.rgReaderStates as { szReader: string; dwCurrentState: number }[];
      return {
        rv: 0,
        rgReaderStates: states.map((s) => ({
          szReader: s.szReader, dwCurrentState: s.dwCurrentState, dwEventState: (s.szReader === R0 ? PRESENT_C3 : EMPTY_C0) | SCARD_STATE.CHANGED,
          cbAtr: s.szReader === R0 ? 2 : 0, rgbAtr: s.szReader === R0 ? '3b00' : '',
        })),
      };
    }
    return undefined; // a blocking wait stays pending until the test answers it
  };
  return { t, tracker, lines };
}

describe('ReaderTracker', () => {
  it('waits with INFINITE on every reader plus \\\\?PnP?\\Notification, then lists the readers once the wait is registered', async () => {
    const { t, tracker, lines } = setup(() => [R0, R1]);
    await tracker.sync(true);
    expect(lines.map((l) => [l.event, l.reader, l.cardPresent])).toEqual([['present', R0, true], ['present', R1, false]]);
    const sentBefore = t.sent.length;
    const outcome = tracker.waitForChange(INFINITE, new AbortController().signal);
    await t.waitForFrames(sentBefore + 2);
    const [wait, list] = t.sent.slice(sentBefore);
    expect(wait).toMatchObject({
      method: 'SCardGetStatusChange',
      params: {
        hContext: 7, dwTimeout: INFINITE,
        rgReaderStates: [
          { szReader: R0, dwCurrentState: PRESENT_C3 },
          { szReader: R1, dwCurrentState: EMPTY_C0 },
          { szReader: PNP_NOTIFICATION_READER, dwCurrentState: SCARD_STATE.UNAWARE },
        ],
      },
    });
    expect(list.method).toBe('SCardListReaders');
    // The list matched: no cancel; the PnP entry's CHANGED is handed back.
    t.reply(wait.id, {
      rv: 0,
      rgReaderStates: [
        { szReader: R0, dwCurrentState: PRESENT_C3, dwEventState: PRESENT_C3, cbAtr: 2, rgbAtr: '3b00' },
        { szReader: R1, dwCurrentState: EMPTY_C0, dwEventState: EMPTY_C0, cbAtr: 0, rgbAtr: '' },
        { szReader: PNP_NOTIFICATION_READER, dwCurrentState: 0, dwEventState: SCARD_STATE.CHANGED, cbAtr: 0, rgbAtr: '' },
      ],
    });
    const r = await outcome;
    expect(r.kind).toBe('results');
    expect(t.sent.some((f) => f.method === 'SCardCancel')).toBe(false);
  });

  it('cancels the wait and asks for a resync when a reader appeared before the wait started', async () => {
    let readers = [R0];
    const { t, tracker, lines } = setup(() => readers);
    await tracker.sync(true);
    readers = [R0, R1]; // added between the last list and the wait: the server's PnP count already includes it
    const sentBefore = t.sent.length;
    const outcome = tracker.waitForChange(INFINITE, new AbortController().signal);
    await t.waitForFrames(sentBefore + 3);
    const [wait, list, cancel] = t.sent.slice(sentBefore);
    expect([wait.method, list.method, cancel.method]).toEqual(['SCardGetStatusChange', 'SCardListReaders', 'SCardCancel']);
    expect(cancel.params).toEqual({ hContext: 7 });
    t.reply(wait.id, { rv: SCARD.E_CANCELLED, rgReaderStates: [] });
    expect(await outcome).toEqual({ kind: 'resync' });
    await tracker.sync(false);
    expect(lines.map((l) => [l.event, l.reader])).toEqual([['present', R0], ['added', R1]]);
  });

  it('rethrows SCARD_E_CANCELLED when the caller\'s signal ended the wait (Ctrl-C)', async () => {
    const { t, tracker } = setup(() => [R0]);
    await tracker.sync(true);
    const ac = new AbortController();
    const sentBefore = t.sent.length;
    const outcome = tracker.waitForChange(INFINITE, ac.signal).then(() => 'resolved', (e: unknown) => e);
    await t.waitForFrames(sentBefore + 2);
    ac.abort();
    await t.waitForFrames(sentBefore + 3);
    expect(t.sent[sentBefore + 2].method).toBe('SCardCancel');
    t.reply(t.sent[sentBefore].id, { rv: SCARD.E_CANCELLED, rgReaderStates: [] });
    expect(await outcome).toMatchObject({ code: 'SCARD_E_CANCELLED' });
  });

  it('reports a reader that vanished since the last list as removed', async () => {
    let readers = [R0, R1];
    const { tracker, lines } = setup(() => readers);
    await tracker.sync(true);
    readers = [R0];
    await tracker.sync(false);
    expect(lines.at(-1)).toEqual({ type: 'reader', event: 'removed', reader: R1 });
    expect(tracker.state(R1)).toBeUndefined();
  });
});
