// `vscr scan`: live card events like pcsc_scan, driven by SCardGetStatusChange over the JSON-RPC WebSocket.
// --count and --timeout end it for scripts; Ctrl-C ends the blocking wait with SCardCancel (exit 130).

import type { Command } from 'commander';
import { PcscError } from '../../winscard/errors.js';
import { connectWinscard, type ReaderStateQuery, type ReaderStateResult, type WinscardClient } from '../../winscard/client.js';
import { toHex } from '../../sdk/hex.js';
import { SCARD, SCARD_SCOPE, SCARD_STATE } from '../../../service/rm/pcsc-constants.js';
import {
  cancellable, parsePositiveInt, parseSeconds, resolveUrl, stdio, withClientOptions, type ClientFlags, type Io,
} from '../context.js';
import { spacedHex } from './readers.js';

interface ScanFlags extends ClientFlags {
  count?: number;
  timeout?: number;
}

/** How long one GetStatusChange waits before the reader list is checked again for added or removed readers. */
const RELIST_MS = 1000;

export function registerScanCommand(program: Command, io: Io = stdio): void {
  withClientOptions(program.command('scan'))
    .description('print card insert/remove events as they happen (like pcsc_scan); Ctrl-C stops')
    .option('--count <n>', 'exit 0 after n card events (inserts + removes, the initial state not counted)', parsePositiveInt)
    .option('--timeout <seconds>', 'exit 0 after this many seconds', parseSeconds)
    .action((flags: ScanFlags) => runScan(flags, io));
}

interface Tracked {
  state: number;
}

async function runScan(flags: ScanFlags, io: Io): Promise<void> {
  const token = flags.token ?? (process.env.VSCR_TOKEN || undefined);
  const pcsc = await connectWinscard({ url: resolveUrl(flags), token });
  const deadline = flags.timeout === undefined ? Infinity : Date.now() + flags.timeout * 1000;
  let events = 0;
  const emit = (record: Record<string, unknown>, text: string[]) => {
    if (flags.json) io.out(JSON.stringify(record));
    else for (const line of text) io.out(line);
  };
  try {
    const ctx = await pcsc.establishContext(SCARD_SCOPE.SYSTEM);
    const tracked = new Map<string, Tracked>();
    await cancellable(async (signal) => {
      await relist(pcsc, ctx, tracked, emit, true);
      if (!flags.json) io.out('Waiting for card events (Ctrl-C to stop)...');
      while (flags.count === undefined || events < flags.count) {
        const remaining = deadline - Date.now();
        if (remaining <= 0) break;
        if (tracked.size === 0) {
          // Nothing to wait on: GetStatusChange would return at once; sleep a slice, then look for new readers.
          await sleep(Math.min(RELIST_MS, remaining), signal);
          await relist(pcsc, ctx, tracked, emit, false);
          continue;
        }
        const query: ReaderStateQuery[] = [...tracked].map(([reader, t]) => ({ reader, currentState: t.state }));
        let results: ReaderStateResult[];
        try {
          results = await pcsc.getStatusChange(ctx, query, { timeout: Math.min(RELIST_MS, remaining), signal });
        } catch (err) {
          if (err instanceof PcscError && (err.rv === SCARD.E_TIMEOUT || err.rv === SCARD.E_UNKNOWN_READER || err.rv === SCARD.E_READER_UNAVAILABLE)) {
            await relist(pcsc, ctx, tracked, emit, false);
            continue;
          }
          throw err;
        }
        for (const r of results) {
          const t = tracked.get(r.reader);
          if (!t || !(r.eventState & SCARD_STATE.CHANGED)) continue;
          for (const e of cardEvents(t.state, r.eventState)) {
            if (flags.count !== undefined && events >= flags.count) break;
            events++;
            const present = e === 'inserted';
            emit(
              { type: 'card', event: e, reader: r.reader, eventCounter: r.eventState >>> 16, atr: present ? toHex(r.atr) : null, time: new Date().toISOString() },
              [`${new Date().toString()}`, ` Reader: ${r.reader}`, `  Event number: ${r.eventState >>> 16}`,
                `  Card state: ${present ? 'Card inserted' : 'Card removed'}${present && r.atr.length ? `\n  ATR: ${spacedHex(toHex(r.atr))}` : ''}`],
            );
          }
          t.state = r.eventState & ~SCARD_STATE.CHANGED;
        }
      }
    }, async () => {
      if (!flags.json) io.err('Cancelled');
    });
    await pcsc.releaseContext(ctx).catch(() => undefined);
  } finally {
    await pcsc.close();
  }
}

/**
 * The card events between two states. pcsc-lite keeps a per-reader event counter in the high 16 bits of
 * dwEventState, so a quick remove+insert between two waits still shows as two events.
 */
export function cardEvents(before: number, after: number): ('inserted' | 'removed')[] {
  const was = (before & SCARD_STATE.PRESENT) !== 0;
  const now = (after & SCARD_STATE.PRESENT) !== 0;
  let delta = ((after >>> 16) - (before >>> 16)) & 0xffff;
  if (delta === 0 && was !== now) delta = 1; // a server without the counter still reports the change
  if (delta === 0) return [];
  // The last event leads to `now`; the ones before alternate backwards from it.
  const out: ('inserted' | 'removed')[] = [];
  let state = now;
  for (let i = 0; i < delta; i++) {
    out.unshift(state ? 'inserted' : 'removed');
    state = !state;
  }
  return out;
}

/** Syncs the tracked set with SCardListReaders; `initial` prints every reader's current state. */
async function relist(pcsc: WinscardClient, ctx: number, tracked: Map<string, Tracked>,
  emit: (record: Record<string, unknown>, text: string[]) => void, initial: boolean): Promise<void> {
  const names = await pcsc.listReaders(ctx);
  for (const name of [...tracked.keys()]) {
    if (names.includes(name)) continue;
    tracked.delete(name);
    emit({ type: 'reader', event: 'removed', reader: name }, [`Reader removed: ${name}`]);
  }
  const added = names.filter((n) => !tracked.has(n));
  if (added.length === 0) return;
  const now = await pcsc.getStatusChange(ctx, added.map((reader) => ({ reader, currentState: SCARD_STATE.UNAWARE })), { timeout: 0 });
  for (const r of now) {
    tracked.set(r.reader, { state: r.eventState & ~SCARD_STATE.CHANGED });
    const present = (r.eventState & SCARD_STATE.PRESENT) !== 0;
    emit(
      { type: 'reader', event: initial ? 'present' : 'added', reader: r.reader, cardPresent: present, eventCounter: r.eventState >>> 16, atr: present ? toHex(r.atr) : null },
      [`${initial ? 'Reader' : 'Reader added'}: ${r.reader}`, `  Card state: ${present ? 'Card inserted' : 'Card removed'}${present && r.atr.length ? `\n  ATR: ${spacedHex(toHex(r.atr))}` : ''}`],
    );
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
