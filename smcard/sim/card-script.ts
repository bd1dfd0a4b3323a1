// The scripted-card format (JSON or YAML): ATR, ordered or unordered rules matching command APDUs, named
// stages, a default answer and strict mode. Parsing reports the line and field of the first problem.

import { LineCounter, isMap, isSeq, parseDocument, type Document } from 'yaml';
import { AtrError, atrProtocolMask, buildAtr, parseAtr } from '../card/atr.js';
import { HexPatternError, parsePattern, parseStrictHex, type HexPattern } from './hex-pattern.js';

export interface ScriptRule {
  /** 0-based position in `rules`. */
  index: number;
  /** 1-based source line of the rule (0 when built in code). */
  line: number;
  name?: string;
  command: HexPattern;
  /** Successive answers: the n-th match gets the n-th, the last one repeats. */
  responses: Uint8Array[];
  /** The stage the card must be in for this rule to match. */
  when?: string;
  /** The stage the card moves to after answering. */
  then?: string;
  /** Unordered mode: how many times the rule may match (unbounded when absent). */
  times?: number;
}

export interface CardScript {
  name: string;
  atr: Uint8Array;
  supportedProtocols: number;
  /** Ordered: the rules must come one after another; unordered: the first rule that matches answers. */
  ordered: boolean;
  /** The first unexpected command is a failure (reported in the verdict); otherwise it just gets `defaultResponse`. */
  strict: boolean;
  /** Ordered mode: after the last rule, start again at the first (libpcsc-mock's scripts do this). */
  wrap: boolean;
  defaultResponse: Uint8Array;
  initialStage: string;
  stages: string[];
  rules: ScriptRule[];
}

/** A script that cannot be used; `line` is 1-based (0 when unknown), `field` a path like `rules[2].command`. */
export class ScriptError extends Error {
  constructor(
    readonly line: number,
    readonly field: string | null,
    readonly detail: string,
  ) {
    const where = [line > 0 ? `line ${line}` : '', field ?? ''].filter(Boolean).join(', ');
    super(where ? `${where}: ${detail}` : detail);
    this.name = 'ScriptError';
  }
}

export const DEFAULT_SCRIPT_ATR = buildAtr({ protocols: [0, 1], historical: new TextEncoder().encode('vscr-script') });
export const DEFAULT_UNMATCHED_RESPONSE = Uint8Array.of(0x6d, 0x00);
const MAX_RULES = 10_000;
const TOP_KEYS = new Set(['name', 'atr', 'mode', 'strict', 'wrap', 'default', 'stage', 'stages', 'rules']);
const RULE_KEYS = new Set(['name', 'command', 'response', 'when', 'then', 'times']);
const STAGE = /^[A-Za-z0-9_.:-]{1,64}$/;

type Path = (string | number)[];

function fieldName(path: Path): string {
  return path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '');
}

/** Parses a script from JSON or YAML text (JSON is read by the YAML 1.2 parser, so lines are counted alike). */
export function parseCardScript(text: string): CardScript {
  const lineCounter = new LineCounter();
  // The failsafe schema keeps every scalar a string: `0102` stays hex, not the number 102.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, schema: 'failsafe' });
  const first = doc.errors[0];
  if (first) {
    const line = first.linePos?.[0]?.line ?? lineCounter.linePos(first.pos[0]).line;
    throw new ScriptError(line, null, `does not parse: ${first.message.split('\n')[0]}`);
  }
  const lineOf = (path: Path): number => lineOfPath(doc, lineCounter, path);
  const fail = (path: Path, detail: string): never => {
    throw new ScriptError(lineOf(path), path.length ? fieldName(path) : null, detail);
  };
  const raw: unknown = doc.toJS({ maxAliasCount: 100 });
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) fail([], 'a script must be a mapping with at least `rules`');
  const top = raw as Record<string, unknown>;
  for (const key of Object.keys(top)) if (!TOP_KEYS.has(key)) fail([key], `unknown field (known: ${[...TOP_KEYS].join(', ')})`);

  const str = (path: Path, v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : fail(path, 'must be a string'));
  const bool = (path: Path, v: unknown, dflt: boolean): boolean => (v === undefined ? dflt : v === true || v === 'true' ? true : v === false || v === 'false' ? false : fail(path, 'must be true or false'));
  const hex = (path: Path, v: unknown): Uint8Array => {
    try {
      return parseStrictHex(str(path, v));
    } catch (err) {
      if (err instanceof HexPatternError) fail(path, err.message);
      throw err;
    }
  };
  const response = (path: Path, v: unknown): Uint8Array => {
    const bytes = hex(path, v);
    if (bytes.length < 2) fail(path, 'a response needs at least the two status-word bytes');
    if (bytes.length > 65538) fail(path, 'a response is at most 65536 data bytes plus SW1 SW2');
    return bytes;
  };

  const name = top.name === undefined ? 'script' : str(['name'], top.name);
  let atr = DEFAULT_SCRIPT_ATR;
  let supportedProtocols = 3;
  if (top.atr !== undefined) {
    atr = hex(['atr'], top.atr);
    try {
      supportedProtocols = atrProtocolMask(parseAtr(atr));
    } catch (err) {
      if (err instanceof AtrError) fail(['atr'], `not a valid ATR: ${err.message}`);
      throw err;
    }
    if (supportedProtocols === 0) fail(['atr'], 'the ATR offers neither T=0 nor T=1');
  }
  const mode = top.mode === undefined ? 'ordered' : str(['mode'], top.mode);
  if (mode !== 'ordered' && mode !== 'unordered') fail(['mode'], `must be "ordered" or "unordered", not "${mode}"`);
  const strict = bool(['strict'], top.strict, false);
  const wrap = bool(['wrap'], top.wrap, false);
  const defaultResponse = top.default === undefined ? DEFAULT_UNMATCHED_RESPONSE : response(['default'], top.default);
  const initialStage = top.stage === undefined ? 'start' : str(['stage'], top.stage);
  if (!STAGE.test(initialStage)) fail(['stage'], 'a stage name is 1–64 letters, digits or _ . : -');

  let declared: string[] | null = null;
  if (top.stages !== undefined) {
    if (!Array.isArray(top.stages)) fail(['stages'], 'must be a list of stage names');
    declared = (top.stages as unknown[]).map((s, i) => {
      const v = str(['stages', i], s);
      if (!STAGE.test(v)) fail(['stages', i], 'a stage name is 1–64 letters, digits or _ . : -');
      return v;
    });
    if (!declared.includes(initialStage)) declared.unshift(initialStage);
  }

  if (!Array.isArray(top.rules)) fail(['rules'], top.rules === undefined ? 'missing: a script needs a list of rules' : 'must be a list');
  const list = top.rules as unknown[];
  if (list.length > MAX_RULES) fail(['rules'], `at most ${MAX_RULES} rules`);
  const rules: ScriptRule[] = list.map((r, index) => {
    const at: Path = ['rules', index];
    if (r === null || typeof r !== 'object' || Array.isArray(r)) fail(at, 'a rule must be a mapping with command and response');
    const o = r as Record<string, unknown>;
    for (const key of Object.keys(o)) if (!RULE_KEYS.has(key)) fail([...at, key], `unknown field (known: ${[...RULE_KEYS].join(', ')})`);
    let command: HexPattern;
    try {
      command = parsePattern(o.command === undefined || o.command === null ? '' : str([...at, 'command'], o.command));
    } catch (err) {
      if (err instanceof HexPatternError) fail([...at, 'command'], err.message);
      throw err;
    }
    if (o.response === undefined) fail([...at, 'response'], 'missing');
    const responses = Array.isArray(o.response)
      ? (o.response as unknown[]).map((v, i) => response([...at, 'response', i], v))
      : [response([...at, 'response'], o.response)];
    if (responses.length === 0) fail([...at, 'response'], 'an empty list gives no answer');
    const rule: ScriptRule = { index, line: lineOf(at), command, responses };
    if (o.name !== undefined) rule.name = str([...at, 'name'], o.name);
    for (const key of ['when', 'then'] as const) {
      if (o[key] === undefined) continue;
      const v = str([...at, key], o[key]);
      if (!STAGE.test(v)) fail([...at, key], 'a stage name is 1–64 letters, digits or _ . : -');
      rule[key] = v;
    }
    if (o.times !== undefined) {
      const times = Number(o.times);
      if (!/^\d{1,9}$/.test(String(o.times)) || times < 1) fail([...at, 'times'], 'must be a positive integer');
      if (mode === 'ordered') fail([...at, 'times'], 'only unordered rules have a count (ordered rules are used once per pass)');
      rule.times = times;
    }
    return rule;
  });

  // Stages: the declared list when there is one; otherwise every stage some rule moves to, plus the initial one.
  const entered = new Set([initialStage, ...rules.flatMap((r) => (r.then ? [r.then] : []))]);
  const known = declared ? new Set(declared) : entered;
  for (const r of rules) {
    for (const key of ['when', 'then'] as const) {
      const v = r[key];
      if (v === undefined || known.has(v)) continue;
      const hint = declared ? `declared stages: ${declared.join(', ')}` : `no rule moves to it (stages: ${[...entered].join(', ')})`;
      fail(['rules', r.index, key], `unknown stage "${v}"; ${hint}`);
    }
  }
  return { name, atr, supportedProtocols, ordered: mode === 'ordered', strict, wrap, defaultResponse, initialStage, stages: [...known], rules };
}

/** The line of the deepest node along `path` that exists (1 when the document is empty). */
function lineOfPath(doc: Document, lc: LineCounter, path: Path): number {
  let node: unknown = doc.contents;
  let line = 1;
  const at = (n: unknown): void => {
    const range = (n as { range?: [number, number, number] } | null)?.range;
    if (range) line = lc.linePos(range[0]).line;
  };
  at(node);
  for (const key of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => (p.key as { value?: unknown } | null)?.value === key);
      if (!pair) break;
      at(pair.key);
      node = pair.value;
      if (node) at(node);
    } else if (isSeq(node) && typeof key === 'number') {
      node = node.items[key];
      if (!node) break;
      at(node);
    } else break;
  }
  return line;
}
