// The SDK's view of the simulation routes (transcripts, scripts, replay, relay); entry and verdict shapes are
// the service's own, imported as types only.

import type { ReaderInfo } from './types.js';

export type { TranscriptEntry } from '../../smcard/sim/transcript.js';
export type { ScriptVerdict, ScriptMismatch } from '../../smcard/sim/script-verdict.js';

export interface TranscriptPage {
  reader: string;
  session: number;
  dropped: number;
  raw: boolean;
  entries: import('../../smcard/sim/transcript.js').TranscriptEntry[];
}

export interface TranscriptQuery {
  session?: number;
  since?: number;
}

export type TranscriptFormat = 'text' | 'jsonl' | 'scriptor';

export interface CardLoaded {
  reader: ReaderInfo;
  rules?: number;
  script?: string;
}

export interface RelayStatus {
  socket: string;
  remoteReader: string;
  cardPresent: boolean;
}
