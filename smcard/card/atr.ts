// Answer-to-Reset: build and validate an ATR (TS, T0, TAi/TBi/TCi/TDi, historical bytes, TCK), and derive
// the protocols it offers. Rules: docs/smclib.md §8.1 (ISO/IEC 7816-3 §8.2).

/** SCARD_PROTOCOL_T0 / SCARD_PROTOCOL_T1 (docs/smclib.md §1.3); kept local so the card depends on no reader code. */
export const PROTOCOL_T0 = 1;
export const PROTOCOL_T1 = 2;

/** TS + 32 bytes (docs/smclib.md §8.1). */
export const MAX_ATR_LENGTH = 33;

export interface InterfaceBytes {
  ta?: number;
  tb?: number;
  tc?: number;
  td?: number;
}

export interface ParsedAtr {
  ts: number;
  t0: number;
  /** Group i (1-based in ISO numbering) is `groups[i-1]`. */
  groups: InterfaceBytes[];
  /** Protocol numbers T announced by TD1, TD2, … in order (T=0 implied when there is no TD1). */
  protocols: number[];
  historical: Uint8Array;
  /** null when absent (only T=0 indicated). */
  tck: number | null;
}

export class AtrError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AtrError';
  }
}

/** Parses and validates an ATR; throws AtrError naming the first rule it breaks. */
export function parseAtr(atr: Uint8Array): ParsedAtr {
  if (atr.length < 2) throw new AtrError(`ATR too short (${atr.length} bytes; TS and T0 are mandatory)`);
  if (atr.length > MAX_ATR_LENGTH) throw new AtrError(`ATR too long (${atr.length} bytes, at most ${MAX_ATR_LENGTH})`);
  const ts = atr[0];
  if (ts !== 0x3b && ts !== 0x3f) throw new AtrError(`TS must be 3B (direct) or 3F (inverse), got ${hex(ts)}`);
  const t0 = atr[1];
  const groups: InterfaceBytes[] = [];
  const protocols: number[] = [];
  let pos = 2;
  let y = t0 >> 4;
  for (let i = 1; ; i++) {
    const group: InterfaceBytes = {};
    for (const [bit, key] of [[0x1, 'ta'], [0x2, 'tb'], [0x4, 'tc'], [0x8, 'td']] as const) {
      if ((y & bit) === 0) continue;
      if (pos >= atr.length) throw new AtrError(`ATR ends inside interface bytes (group ${i}, ${key.toUpperCase()}${i} missing)`);
      group[key] = atr[pos++];
    }
    groups.push(group);
    if (group.td === undefined) break;
    protocols.push(group.td & 0x0f);
    y = group.td >> 4;
  }
  const k = t0 & 0x0f;
  if (pos + k > atr.length) throw new AtrError(`ATR announces ${k} historical bytes but only ${atr.length - pos} remain`);
  const historical = atr.slice(pos, pos + k);
  pos += k;
  // TCK is present unless only T=0 is indicated (ISO 7816-3 §8.2.5); T=15 is global and counts as "other".
  const tckRequired = protocols.some((t) => t !== 0);
  let tck: number | null = null;
  if (tckRequired) {
    if (pos >= atr.length) throw new AtrError('TCK missing (required when a protocol other than T=0 is indicated)');
    tck = atr[pos++];
    let x = 0;
    for (let i = 1; i < pos; i++) x ^= atr[i];
    if (x !== 0) throw new AtrError(`TCK wrong: XOR of T0..TCK is ${hex(x)}, must be 00`);
  }
  if (pos !== atr.length) throw new AtrError(`${atr.length - pos} unexpected byte(s) after the ${tckRequired ? 'TCK' : 'historical bytes'}`);
  return { ts, t0, groups, protocols: protocols.length === 0 ? [0] : protocols, historical, tck };
}

/** SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1 bits the ATR offers (T=15 and others are ignored). */
export function atrProtocolMask(parsed: ParsedAtr): number {
  let mask = 0;
  for (const t of parsed.protocols) {
    if (t === 0) mask |= PROTOCOL_T0;
    if (t === 1) mask |= PROTOCOL_T1;
  }
  return mask;
}

export interface BuildAtrOptions {
  /** Protocols to announce, in order: [0] gives no TD byte at all; [0, 1] gives TD1 = T=0, TD2 = T=1. */
  protocols: readonly (0 | 1)[];
  /** Optional TA1 (Fi/Di); omitted means the defaults Fi=372, Di=1. */
  ta1?: number;
  historical: Uint8Array;
  /** Inverse convention (TS = 3F). Default direct (3B). */
  inverse?: boolean;
}

/** Builds a valid ATR; the result always passes parseAtr. */
export function buildAtr(options: BuildAtrOptions): Uint8Array {
  const { protocols, ta1, historical } = options;
  if (protocols.length === 0) throw new AtrError('at least one protocol is required');
  if (historical.length > 15) throw new AtrError(`at most 15 historical bytes, got ${historical.length}`);
  const onlyT0 = protocols.length === 1 && protocols[0] === 0;
  const bytes: number[] = [options.inverse ? 0x3f : 0x3b];
  const hasTa1 = ta1 !== undefined;
  // T0: Y1 says which of TA1/TD1 follow; K is the number of historical bytes.
  bytes.push((hasTa1 ? 0x10 : 0) | (onlyT0 ? 0 : 0x80) | historical.length);
  if (hasTa1) bytes.push(ta1 & 0xff);
  if (!onlyT0) {
    protocols.forEach((t, i) => bytes.push((i < protocols.length - 1 ? 0x80 : 0) | t));
  }
  bytes.push(...historical);
  if (!onlyT0) {
    let x = 0;
    for (let i = 1; i < bytes.length; i++) x ^= bytes[i];
    bytes.push(x);
  }
  const atr = Uint8Array.from(bytes);
  if (atr.length > MAX_ATR_LENGTH) throw new AtrError(`ATR would be ${atr.length} bytes (at most ${MAX_ATR_LENGTH})`);
  return atr;
}

function hex(b: number): string {
  return b.toString(16).toUpperCase().padStart(2, '0');
}
