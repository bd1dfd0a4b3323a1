// A reader's transcript: every card session's events (insert, power, protocol, APDU exchanges) in a bounded
// in-memory log, with live subscribers, the scriptor-style text view and the JSON Lines file format.

import { spacedHex } from './hex-pattern.js';

/** The JSON Lines header's `format` and the newest `version` this code reads and writes. */
export const TRANSCRIPT_FORMAT = 'vscr-transcript';
export const TRANSCRIPT_VERSION = 1;

export type PowerAction = 'cold' | 'warm' | 'unpower';

interface EntryBase {
  /** 1, 2, … per reader; a gap means older entries were dropped to stay within the bounds. */
  seq: number;
  /** ms since the epoch. */
  time: number;
  /** Card session number on this reader: 1 for the first card inserted, +1 per insertion. */
  session: number;
}

export interface InsertEntry extends EntryBase { kind: 'insert'; profile: string }
export interface RemoveEntry extends EntryBase { kind: 'remove' }
export interface PowerEntry extends EntryBase { kind: 'power'; action: PowerAction; atr?: string; durationMs: number; error?: string }
export interface ProtocolEntry extends EntryBase { kind: 'protocol'; protocol: 'T=0' | 'T=1' }
export interface ApduEntry extends EntryBase {
  kind: 'apdu';
  /** Command hex; masked bytes are `??` (the wildcard of script patterns, so a replay still matches it). */
  command: string;
  /** Response hex, data then SW1 SW2; empty when the card failed (see `error`). */
  response: string;
  sw: string;
  meaning: string;
  protocol: 'T=0' | 'T=1';
  durationMs: number;
  /** The PIN bytes of VERIFY / CHANGE REFERENCE DATA / RESET RETRY COUNTER were replaced with `??`. */
  masked?: true;
  /** The PC/SC context and card handle the command came through, when it came through the resource manager. */
  context?: number;
  handle?: number;
  error?: string;
}

export type TranscriptEntry = InsertEntry | RemoveEntry | PowerEntry | ProtocolEntry | ApduEntry;
/** An entry before the log numbers it. */
export type TranscriptEvent = DistributiveOmit<TranscriptEntry, 'seq' | 'time' | 'session'>;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export interface TranscriptHeader {
  format: typeof TRANSCRIPT_FORMAT;
  version: number;
  reader?: string;
  /** ISO time the file was written. */
  created?: string;
  /** Set when the PIN bytes were recorded as they were. */
  raw?: boolean;
}

export interface TranscriptLimits {
  /** Most entries kept (oldest dropped first). */
  maxEntries: number;
  /** Most hex characters (commands + responses) kept. */
  maxHexChars: number;
}

export const DEFAULT_TRANSCRIPT_LIMITS: TranscriptLimits = { maxEntries: 4096, maxHexChars: 4 * 1024 * 1024 };

export type TranscriptListener = (entry: TranscriptEntry) => void;

function hexWeight(e: TranscriptEntry): number {
  return e.kind === 'apdu' ? e.command.length + e.response.length + 64 : 64;
}

export class Transcript {
  private entries: TranscriptEntry[] = [];
  private seq = 0;
  private sessionNo = 0;
  private weight = 0;
  private droppedCount = 0;
  private readonly listeners = new Set<TranscriptListener>();

  constructor(readonly limits: TranscriptLimits = DEFAULT_TRANSCRIPT_LIMITS) {}

  get session(): number {
    return this.sessionNo;
  }

  /** Entries dropped to stay within the limits since the last clear. */
  get dropped(): number {
    return this.droppedCount;
  }

  /**
   * Appends one event; an `insert` opens the next session. The event object becomes the entry (numbered in
   * place, not copied: this runs once per APDU, and a spread copy measured dearer than the rest of the work).
   */
  add(event: TranscriptEvent): TranscriptEntry {
    if (event.kind === 'insert') this.sessionNo += 1;
    const entry = event as TranscriptEntry;
    entry.seq = ++this.seq;
    entry.time = Date.now();
    entry.session = this.sessionNo;
    this.entries.push(entry);
    this.weight += hexWeight(entry);
    while (this.entries.length > 1 && (this.entries.length > this.limits.maxEntries || this.weight > this.limits.maxHexChars)) {
      this.weight -= hexWeight(this.entries.shift()!);
      this.droppedCount += 1;
    }
    for (const listener of this.listeners) {
      try {
        listener(entry);
      } catch {
        // A subscriber's failure (a closed stream) must not break the card's APDU path.
      }
    }
    return entry;
  }

  /** Entries oldest first; `session` keeps one session, `since` keeps entries with a larger seq. */
  list(filter: { session?: number; since?: number } = {}): TranscriptEntry[] {
    return this.entries.filter((e) => (filter.session === undefined || e.session === filter.session) && (filter.since === undefined || e.seq > filter.since));
  }

  subscribe(listener: TranscriptListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Forgets the entries (sequence and session numbers go on). */
  clear(): void {
    this.entries = [];
    this.weight = 0;
    this.droppedCount = 0;
  }
}

const PIN_INS = new Set([0x20, 0x24, 0x2c]);

/**
 * Replaces the data field of VERIFY (20), CHANGE REFERENCE DATA (24) and RESET RETRY COUNTER (2C) with `??`
 * per byte; the header and Lc stay, so the transcript still says which command it was and how long the data was.
 */
export function maskedCommandHex(apdu: Uint8Array): { hex: string; masked: boolean } {
  const hex = Buffer.from(apdu.buffer, apdu.byteOffset, apdu.byteLength).toString('hex');
  if (apdu.length <= 5 || !PIN_INS.has(apdu[1])) return { hex, masked: false };
  let dataStart = 5;
  let lc = apdu[4];
  if (lc === 0 && apdu.length >= 7) {
    dataStart = 7; // extended Lc: 00 hi lo
    lc = (apdu[5] << 8) | apdu[6];
  }
  const end = Math.min(apdu.length, dataStart + lc);
  if (end <= dataStart) return { hex, masked: false };
  return { hex: hex.slice(0, dataStart * 2) + '??'.repeat(end - dataStart) + hex.slice(end * 2), masked: true };
}

function originText(e: ApduEntry): string {
  return e.handle === undefined ? '' : `  (context 0x${(e.context ?? 0).toString(16)}, handle 0x${e.handle.toString(16)})`;
}

/** The scriptor-style log: `>` commands, `<` responses with the SW meaning, `#` lines for everything else. */
export function transcriptText(entries: readonly TranscriptEntry[]): string {
  const lines: string[] = [];
  for (const e of entries) {
    switch (e.kind) {
      case 'insert': lines.push(`# session ${e.session}: card inserted (${e.profile})`); break;
      case 'remove': lines.push(`# session ${e.session}: card removed`); break;
      case 'power':
        lines.push(`# ${e.action === 'unpower' ? 'power down' : `${e.action} reset`}${e.atr ? `, ATR: ${spacedHex(e.atr)}` : ''}${e.error ? ` failed: ${e.error}` : ''}`);
        break;
      case 'protocol': lines.push(`# protocol ${e.protocol}`); break;
      case 'apdu':
        lines.push(`> ${spacedHex(e.command)}${originText(e)}`);
        if (e.error) lines.push(`< (card failed: ${e.error})`);
        else lines.push(`< ${spacedHex(e.response)} : ${e.meaning}`);
        break;
    }
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}

/**
 * A scriptor input script: one command per line, `reset` for each reset after the first, `#` comments.
 * A masked command cannot be sent again, so it becomes a comment.
 */
export function transcriptScriptor(entries: readonly TranscriptEntry[], title = 'vscr transcript'): string {
  const lines = [`# ${title}, exported for scriptor (pcsc-tools)`];
  let powered = false;
  for (const e of entries) {
    if (e.kind === 'insert') lines.push(`# session ${e.session}: ${e.profile}`);
    else if (e.kind === 'power' && e.action !== 'unpower' && !e.error) {
      if (powered) lines.push('reset');
      powered = true;
    } else if (e.kind === 'apdu') {
      powered = true;
      lines.push(e.masked ? `# ${spacedHex(e.command)}  (PIN masked, not sent)` : spacedHex(e.command));
    }
  }
  return `${lines.join('\n')}\n`;
}

/** JSON Lines: the header line, then one entry per line. */
export function transcriptJsonl(entries: readonly TranscriptEntry[], header: Omit<TranscriptHeader, 'format' | 'version'> = {}): string {
  const head: TranscriptHeader = { format: TRANSCRIPT_FORMAT, version: TRANSCRIPT_VERSION, ...header };
  return [JSON.stringify(head), ...entries.map((e) => JSON.stringify(e))].join('\n') + '\n';
}

/** A transcript file that cannot be read; `line` is 1-based. */
export class TranscriptFormatError extends Error {
  constructor(
    readonly line: number,
    readonly field: string | null,
    detail: string,
  ) {
    super(`line ${line}${field ? `, ${field}` : ''}: ${detail}`);
    this.name = 'TranscriptFormatError';
  }
}

const KINDS = new Set(['insert', 'remove', 'power', 'protocol', 'apdu']);
const HEX = /^[0-9a-fA-F?]*$/;

/** Reads a JSON Lines transcript; refuses a newer format version, a foreign header, and malformed entries. */
export function parseTranscriptJsonl(text: string): { header: TranscriptHeader; entries: TranscriptEntry[] } {
  const lines = text.split(/\r?\n/);
  const parse = (i: number): unknown => {
    try {
      return JSON.parse(lines[i]);
    } catch (err) {
      throw new TranscriptFormatError(i + 1, null, `not JSON (${(err as Error).message})`);
    }
  };
  const first = lines.findIndex((l) => l.trim() !== '');
  if (first < 0) throw new TranscriptFormatError(1, null, 'empty transcript');
  const head = parse(first) as Partial<TranscriptHeader> | null;
  if (head === null || typeof head !== 'object' || head.format !== TRANSCRIPT_FORMAT) {
    throw new TranscriptFormatError(first + 1, 'format', `the first line must be the header {"format":"${TRANSCRIPT_FORMAT}","version":${TRANSCRIPT_VERSION}}`);
  }
  if (typeof head.version !== 'number' || !Number.isInteger(head.version) || head.version < 1) {
    throw new TranscriptFormatError(first + 1, 'version', 'must be a positive integer');
  }
  if (head.version > TRANSCRIPT_VERSION) {
    throw new TranscriptFormatError(first + 1, 'version', `format version ${head.version} is newer than this vscr reads (${TRANSCRIPT_VERSION}); upgrade vscr`);
  }
  const entries: TranscriptEntry[] = [];
  for (let i = first + 1; i < lines.length; i++) {
    if (lines[i].trim() === '') continue;
    const e = parse(i) as Record<string, unknown> | null;
    if (e === null || typeof e !== 'object' || Array.isArray(e)) throw new TranscriptFormatError(i + 1, null, 'an entry must be a JSON object');
    if (typeof e.kind !== 'string' || !KINDS.has(e.kind)) throw new TranscriptFormatError(i + 1, 'kind', `unknown kind ${JSON.stringify(e.kind)}`);
    if (e.kind === 'apdu') {
      for (const f of ['command', 'response'] as const) {
        const v = e[f];
        if (typeof v !== 'string' || !HEX.test(v) || v.length % 2 !== 0) throw new TranscriptFormatError(i + 1, f, 'must be an even-length hex string');
      }
    }
    if (e.kind === 'power' && typeof e.atr === 'string' && (!/^[0-9a-fA-F]*$/.test(e.atr) || e.atr.length % 2 !== 0)) {
      throw new TranscriptFormatError(i + 1, 'atr', 'must be an even-length hex string');
    }
    entries.push(e as unknown as TranscriptEntry);
  }
  return { header: head as TranscriptHeader, entries };
}
