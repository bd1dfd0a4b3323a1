// A saved transcript as a card: its recorded ATR and its exchanges as a strict script, either in the recorded
// order or matched by command (each command's recorded answers given in turn).

import { AtrError, atrProtocolMask, parseAtr } from '../card/atr.js';
import { DEFAULT_UNMATCHED_RESPONSE, ScriptError, type CardScript, type ScriptRule } from './card-script.js';
import { parsePattern } from './hex-pattern.js';
import type { TranscriptEntry } from './transcript.js';

export type ReplayMode = 'ordered' | 'by-command';

export interface ReplayOptions {
  mode: ReplayMode;
  /** Replay this session only; default: the last session that has exchanges. */
  session?: number;
  name?: string;
}

function bytes(hex: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

export function transcriptToScript(entries: readonly TranscriptEntry[], options: ReplayOptions): CardScript {
  const sessions = [...new Set(entries.filter((e) => e.kind === 'apdu').map((e) => e.session))];
  const session = options.session ?? sessions.at(-1);
  if (session === undefined) throw new ScriptError(0, 'entries', 'the transcript has no APDU exchange to replay');
  const mine = entries.filter((e) => e.session === session);
  const exchanges = mine.filter((e): e is Extract<TranscriptEntry, { kind: 'apdu' }> => e.kind === 'apdu' && !e.error && e.response.length >= 4);
  if (exchanges.length === 0) throw new ScriptError(0, 'session', `session ${session} has no APDU exchange to replay`);
  const atrHex = mine.find((e): e is Extract<TranscriptEntry, { kind: 'power' }> => e.kind === 'power' && typeof e.atr === 'string' && e.atr.length > 0)?.atr;
  if (atrHex === undefined) throw new ScriptError(0, 'session', `session ${session} has no recorded ATR`);
  const atr = bytes(atrHex);
  let supportedProtocols: number;
  try {
    supportedProtocols = atrProtocolMask(parseAtr(atr));
  } catch (err) {
    if (err instanceof AtrError) throw new ScriptError(0, 'atr', `recorded ATR is not valid: ${err.message}`);
    throw err;
  }
  let rules: ScriptRule[];
  if (options.mode === 'ordered') {
    rules = exchanges.map((e, index) => ({ index, line: 0, command: parsePattern(e.command), responses: [bytes(e.response)] }));
  } else {
    const byCommand = new Map<string, ScriptRule>();
    for (const e of exchanges) {
      const key = e.command.toLowerCase();
      const rule = byCommand.get(key);
      if (rule) rule.responses.push(bytes(e.response));
      else byCommand.set(key, { index: byCommand.size, line: 0, command: parsePattern(e.command), responses: [bytes(e.response)] });
    }
    rules = [...byCommand.values()];
  }
  return {
    name: options.name ?? `replay of session ${session}`,
    atr,
    supportedProtocols,
    ordered: options.mode === 'ordered',
    strict: true,
    wrap: false,
    defaultResponse: DEFAULT_UNMATCHED_RESPONSE,
    initialStage: 'start',
    stages: ['start'],
    rules,
  };
}
