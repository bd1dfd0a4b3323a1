// `vscr scan`: live card and reader events like pcsc_scan, driven only by SCardGetStatusChange over the JSON-RPC
// WebSocket. Each wait includes the `\\?PnP?\Notification` pseudo-reader, so readers added or removed wake it at
// once (docs/pcsclite-protocol.md §6.3); there is no polling. --count and --timeout end it for scripts; Ctrl-C ends the
// blocking wait with SCardCancel (exit 130).

import type { Command } from 'commander';
import { PcscError } from '../../winscard/errors.js';
import { connectWinscard, type ReaderStateQuery, type ReaderStateResult, type WinscardClient } from '../../winscard/client.js';
import { toHex } from '../../sdk/hex.js';
import {
  INFINITE, PCSCLITE_MAX_READERS_CONTEXTS, PNP_NOTIFICATION_READER, SCARD, SCARD_SCOPE, SCARD_STATE,
} from '../../../service/contract/pcsclite.js';
import {
  cancellable, parsePositiveInt, parseSeconds, resolveToken, resolveUrl, stdio, withClientOptions, type ClientFlags, type Io,
} from '../context.js';
import { spacedHex } from './readers.js';

interface ScanFlags extends ClientFlags {
  count?: number;
  timeout?: number;
}

type Emit = (record: Record<string, unknown>, text: string[]) => void;

/** The reader was removed (UNKNOWN) or has failed (UNAVAILABLE): its bits say nothing about a card. */
const UNUSABLE = SCARD_STATE.UNKNOWN | SCARD_STATE.UNAVAILABLE;

/** The longest finite dwTimeout; INFINITE itself means "no timeout". */
const MAX_FINITE_TIMEOUT = INFINITE - 1;

export function registerScanCommand(program: Command, io: Io = stdio): void {
  withClientOptions(program.command('scan'))
    .description('print card insert/remove and reader add/remove events as they happen (like pcsc_scan); Ctrl-C stops')
    .option('--count <n>', 'exit 0 after n card events (inserts + removes; the initial state and reader events not counted)', parsePositiveInt)
    .option('--timeout <seconds>', 'exit 0 after this many seconds', parseSeconds)
    .action((flags: ScanFlags) => runScan(flags, io));
}

async function runScan(flags: ScanFlags, io: Io): Promise<void> {
  const pcsc = await connectWinscard({ url: resolveUrl(flags, io.env), token: resolveToken(flags, io.env) });
  const deadline = flags.timeout === undefined ? Infinity : Date.now() + flags.timeout * 1000;
  const emit: Emit = (record, text) => {
    if (flags.json) io.out(JSON.stringify(record));
    else for (const line of text) io.out(line);
  };
  try {
    const ctx = await pcsc.establishContext(SCARD_SCOPE.SYSTEM);
    const readers = new ReaderTracker(pcsc, ctx, emit);
    let events = 0;
    await cancellable(async (signal) => {
      await readers.sync(true);
      if (!flags.json) io.out('Waiting for card events (Ctrl-C to stop)...');
      while (flags.count === undefined || events < flags.count) {
        const remaining = deadline - Date.now();
        if (remaining <= 0) break;
        const timeout = remaining === Infinity ? INFINITE : Math.min(Math.ceil(remaining), MAX_FINITE_TIMEOUT);
        const outcome = await readers.waitForChange(timeout, signal);
        if (outcome.kind === 'resync') {
          await readers.sync(false);
          continue;
        }
        let readerListChanged = false;
        for (const r of outcome.results) {
          if (r.reader === PNP_NOTIFICATION_READER) {
            readerListChanged ||= (r.eventState & SCARD_STATE.CHANGED) !== 0;
            continue;
          }
          const before = readers.state(r.reader);
          if (before === undefined || !(r.eventState & SCARD_STATE.CHANGED)) continue;
          if (r.eventState & SCARD_STATE.UNKNOWN) readerListChanged = true;
          for (const e of cardEvents(before, r.eventState)) {
            if (flags.count !== undefined && events >= flags.count) break;
            events++;
            emitCardEvent(emit, e, r);
          }
          readers.setState(r.reader, r.eventState);
        }
        if (readerListChanged) await readers.sync(false);
      }
    }, async () => {
      if (!flags.json) io.err('Cancelled');
    });
    await pcsc.releaseContext(ctx).catch(() => undefined);
  } finally {
    await pcsc.close();
  }
}

/** The readers a scan watches, with the state each was last seen in. */
export class ReaderTracker {
  readonly #states = new Map<string, number>();
  readonly #pcsc: WinscardClient;
  readonly #ctx: number;
  readonly #emit: Emit;

  constructor(pcsc: WinscardClient, ctx: number, emit: Emit) {
    this.#pcsc = pcsc;
    this.#ctx = ctx;
    this.#emit = emit;
  }

  state(reader: string): number | undefined {
    return this.#states.get(reader);
  }

  setState(reader: string, eventState: number): void {
    if (this.#states.has(reader)) this.#states.set(reader, (eventState & ~SCARD_STATE.CHANGED) >>> 0);
  }

  /**
   * One blocking SCardGetStatusChange over every tracked reader plus the PnP pseudo-reader. Resolves with the
   * results, or `resync` when the reader list must be read again first (a reader vanished before the wait
   * started, or one appeared while the wait was being set up).
   */
  async waitForChange(timeout: number, signal: AbortSignal): Promise<{ kind: 'results'; results: ReaderStateResult[] } | { kind: 'resync' }> {
    const query: ReaderStateQuery[] = [...this.#states].map(([reader, currentState]) => ({ reader, currentState }));
    // pcsc-lite takes at most 16 entries; with 16 readers no more can be added, so PnP is not needed then.
    if (query.length < PCSCLITE_MAX_READERS_CONTEXTS) query.push({ reader: PNP_NOTIFICATION_READER, currentState: SCARD_STATE.UNAWARE });
    const waiting = this.#pcsc.getStatusChange(this.#ctx, query, { timeout, signal })
      .then((results) => ({ results }), (error: unknown) => ({ error }));
    // The PnP entry fires when the reader count differs from the count at the start of the wait, so a reader
    // added between our last SCardListReaders and that start would go unseen. The server handles one
    // connection's frames in order, so a list taken now is at least as new as the wait's start: if it already
    // differs from ours, end the wait and read the list again.
    const names = await this.#pcsc.listReaders(this.#ctx);
    if (!this.#matches(names)) await this.#pcsc.cancel(this.#ctx).catch(() => undefined);
    const outcome = await waiting;
    if ('results' in outcome) return { kind: 'results', results: outcome.results };
    const err = outcome.error;
    if (signal.aborted) throw err;
    if (err instanceof PcscError && (err.rv === SCARD.E_TIMEOUT || err.rv === SCARD.E_UNKNOWN_READER
      || err.rv === SCARD.E_READER_UNAVAILABLE || err.rv === SCARD.E_CANCELLED)) return { kind: 'resync' };
    throw err;
  }

  /** Makes the tracked set equal SCardListReaders, printing readers that came and went; `initial` lists them all. */
  async sync(initial: boolean): Promise<void> {
    for (;;) {
      const names = await this.#pcsc.listReaders(this.#ctx);
      for (const name of [...this.#states.keys()]) {
        if (names.includes(name)) continue;
        this.#states.delete(name);
        this.#emit({ type: 'reader', event: 'removed', reader: name }, [`Reader removed: ${name}`]);
      }
      const added = names.filter((n) => !this.#states.has(n));
      if (added.length === 0) return;
      let now: ReaderStateResult[];
      try {
        now = await this.#pcsc.getStatusChange(this.#ctx, added.map((reader) => ({ reader, currentState: SCARD_STATE.UNAWARE })), { timeout: 0 });
      } catch (err) {
        // A reader listed a moment ago is gone again: list once more.
        if (err instanceof PcscError && err.rv === SCARD.E_UNKNOWN_READER) continue;
        throw err;
      }
      for (const r of now) {
        this.#states.set(r.reader, (r.eventState & ~SCARD_STATE.CHANGED) >>> 0);
        const present = (r.eventState & SCARD_STATE.PRESENT) !== 0;
        this.#emit(
          { type: 'reader', event: initial ? 'present' : 'added', reader: r.reader, cardPresent: present, eventCounter: r.eventState >>> 16, atr: present ? toHex(r.atr) : null },
          [`${initial ? 'Reader' : 'Reader added'}: ${r.reader}`, ...cardStateLines(present, r.atr)],
        );
      }
      return;
    }
  }

  #matches(names: string[]): boolean {
    return names.length === this.#states.size && names.every((n) => this.#states.has(n));
  }
}

function emitCardEvent(emit: Emit, e: 'inserted' | 'removed', r: ReaderStateResult): void {
  const present = e === 'inserted';
  emit(
    { type: 'card', event: e, reader: r.reader, eventCounter: r.eventState >>> 16, atr: present ? toHex(r.atr) : null, time: new Date().toISOString() },
    [new Date().toString(), ` Reader: ${r.reader}`, `  Event number: ${r.eventState >>> 16}`, ...cardStateLines(present, r.atr)],
  );
}

function cardStateLines(present: boolean, atr: Uint8Array): string[] {
  const lines = [`  Card state: ${present ? 'Card inserted' : 'Card removed'}`];
  if (present && atr.length) lines.push(`  ATR: ${spacedHex(toHex(atr))}`);
  return lines;
}

/**
 * The card events between two states. pcsc-lite keeps a per-reader event counter in the high 16 bits of
 * dwEventState, so a quick remove+insert between two waits still shows as two events. A reader that is or was
 * unusable (removed, failed) carries no counter: only a presence change counts then.
 */
export function cardEvents(before: number, after: number): ('inserted' | 'removed')[] {
  if (after & UNUSABLE) return [];
  const was = (before & SCARD_STATE.PRESENT) !== 0;
  const now = (after & SCARD_STATE.PRESENT) !== 0;
  if (before & UNUSABLE) return was === now ? [] : [now ? 'inserted' : 'removed'];
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
