// The reader library's reading of an ATR and SmartcardUpdateCardCapabilities: Fl/Dl validity, T=1 parameters and
// specific mode on top of the one ISO 7816-3 structure parser (smcard/card/atr.ts) (docs/smclib.md §3.4, §8.1).
// A malformed ATR is STATUS_UNRECOGNIZED_MEDIA, never an exception.

import { NTSTATUS } from '../../kernel/ntstatus.js';
import { AtrError, parseAtr as parseAtrStructure, type ParsedAtr as CardParsedAtr } from '../card/atr.js';
import { WinScard } from '../constants/scard.js';
import {
  BIT_RATE_ADJUSTMENT,
  CLOCK_RATE_CONVERSION,
  PTS_TYPE_DEFAULT,
  T1_BWI_DEFAULT,
  T1_CWI_DEFAULT,
  T1_IFSD_DEFAULT,
} from '../constants/smclib.js';
import { currentAtr, type SmartcardExtension } from './extension.js';

export interface InterfaceGroup {
  TA?: number;
  TB?: number;
  TC?: number;
  TD?: number;
}

export interface ParsedAtr {
  inverse: boolean;
  /** Interface groups 1..n (index 0 is group 1). */
  groups: InterfaceGroup[];
  historical: Uint8Array;
  tck: number | null;
  /** SCARD_PROTOCOL_T0/T1 bits offered (T=0 implied when no TD1). */
  protocols: number;
  Fl: number;
  Dl: number;
  N: number;
  /** TA2 present: the card is in specific mode with this protocol (0 or 1); bit 5 = implicit parameters. */
  specific: { protocol: number; implicit: boolean } | null;
  t0WI: number;
  t1: { IFSC: number; CWI: number; BWI: number; EDC: number };
}

export type AtrParseResult = { ok: true; atr: ParsedAtr } | { ok: false; reason: string };

/** Parses and validates an ATR; `reason` explains a rejection (for logs and traces). */
export function parseAtr(bytes: Uint8Array): AtrParseResult {
  // The byte structure (TS, T0, interface bytes, historical bytes, TCK) is the one ISO 7816-3 parser the card
  // also uses; this adds what the reader library reads from it (Fl/Dl validity, T=1 parameters, specific mode).
  let parsed: CardParsedAtr;
  try {
    parsed = parseAtrStructure(bytes);
  } catch (err) {
    if (err instanceof AtrError) return { ok: false, reason: err.message };
    throw err;
  }
  const groups = parsed.groups.map(toInterfaceGroup);
  const { ts, historical, tck } = parsed;
  const offered = new Set(parsed.groups.flatMap((g) => (g.td === undefined ? [] : [g.td & 0x0f])));

  const ta1 = groups[0].TA;
  const Fl = ta1 === undefined ? 1 : ta1 >> 4;
  const Dl = ta1 === undefined ? 1 : ta1 & 0x0f;
  if (CLOCK_RATE_CONVERSION[Fl].F === 0) return { ok: false, reason: `Fl ${Fl} is RFU` };
  if (BIT_RATE_ADJUSTMENT[Dl] === 0) return { ok: false, reason: `Dl ${Dl} is RFU` };

  let protocols = 0;
  if (offered.size === 0 || offered.has(0)) protocols |= WinScard.PROTOCOL_T0;
  if (offered.has(1)) protocols |= WinScard.PROTOCOL_T1;

  const ta2 = groups[1]?.TA;
  const specific = ta2 === undefined ? null : { protocol: ta2 & 0x0f, implicit: (ta2 & 0x10) !== 0 };

  // T=1 specific bytes: the group after the first TDi (i >= 2) announcing T=1, i.e. TA3/TB3/TC3 (ISO 7816-3 §11.4);
  // group 2's TA is the specific-mode byte, not IFSC.
  const t1 = { IFSC: T1_IFSD_DEFAULT, CWI: T1_CWI_DEFAULT, BWI: T1_BWI_DEFAULT, EDC: 0 };
  const t1Index = groups.findIndex((g, i) => i >= 1 && g.TD !== undefined && (g.TD & 0x0f) === 1);
  const t1Group = t1Index >= 0 ? groups[t1Index + 1] : undefined;
  if (t1Group) {
    if (t1Group.TA !== undefined) t1.IFSC = t1Group.TA;
    if (t1Group.TB !== undefined) {
      t1.CWI = t1Group.TB & 0x0f;
      t1.BWI = t1Group.TB >> 4;
    }
    if (t1Group.TC !== undefined) t1.EDC = t1Group.TC & 0x01;
  }

  return {
    ok: true,
    atr: {
      inverse: ts === 0x3f,
      groups,
      historical,
      tck,
      protocols,
      Fl,
      Dl,
      N: groups[0].TC ?? 0,
      specific,
      t0WI: groups[1]?.TC ?? 10,
      t1,
    },
  };
}

/** The card parser's group in the reader library's spelling, with only the bytes present. */
function toInterfaceGroup(g: CardParsedAtr['groups'][number]): InterfaceGroup {
  const out: InterfaceGroup = {};
  if (g.ta !== undefined) out.TA = g.ta;
  if (g.tb !== undefined) out.TB = g.tb;
  if (g.tc !== undefined) out.TC = g.tc;
  if (g.td !== undefined) out.TD = g.td;
  return out;
}

/**
 * SmartcardUpdateCardCapabilities: parses CardCapabilities.ATR into the rest of CardCapabilities. Protocols the
 * reader cannot do are dropped from Protocol.Supported [I]. Returns STATUS_UNRECOGNIZED_MEDIA for a bad ATR.
 */
export function SmartcardUpdateCardCapabilities(ext: SmartcardExtension): number {
  const parsed = parseAtr(currentAtr(ext));
  if (!parsed.ok) return NTSTATUS.STATUS_UNRECOGNIZED_MEDIA;
  const atr = parsed.atr;
  const cc = ext.CardCapabilities;
  cc.InversConvention = atr.inverse;
  cc.HistoricalChars.Buffer.fill(0);
  cc.HistoricalChars.Buffer.set(atr.historical.subarray(0, cc.HistoricalChars.Buffer.length));
  cc.HistoricalChars.Length = atr.historical.length;
  cc.Fl = atr.Fl;
  cc.Dl = atr.Dl;
  cc.N = atr.N;
  cc.GT = atr.N === 255 ? 0 : atr.N;
  cc.Protocol.Supported = atr.protocols & ext.ReaderCapabilities.SupportedProtocols;
  cc.T0.WI = atr.t0WI;
  cc.T1.IFSC = atr.t1.IFSC;
  cc.T1.CWI = atr.t1.CWI;
  cc.T1.BWI = atr.t1.BWI;
  cc.T1.EDC = atr.t1.EDC;
  cc.SpecificMode = atr.specific ? { Present: true, Protocol: atr.specific.protocol } : { Present: false, Protocol: 0 };

  // PTS: DEFAULT keeps Fd/Dd (372/1); OPTIMAL uses the card's TA1 unless the card is in implicit specific mode.
  const useCard = cc.PtsData.Type !== PTS_TYPE_DEFAULT && !(atr.specific?.implicit ?? false);
  const fl = useCard ? atr.Fl : 1;
  const dl = useCard ? atr.Dl : 1;
  const clk = ext.ReaderCapabilities.CLKFrequency.Default;
  cc.PtsData.Fl = fl;
  cc.PtsData.Dl = dl;
  cc.PtsData.CLKFrequency = clk;
  const F = CLOCK_RATE_CONVERSION[fl].F;
  const D = BIT_RATE_ADJUSTMENT[dl];
  cc.PtsData.DataRate = Math.floor((clk * 1000 * D) / F);
  cc.etu = Math.round((F * 1_000_000) / (D * clk * 1000)); // microseconds per elementary time unit
  ext.T1.IFSC = atr.t1.IFSC;
  return NTSTATUS.STATUS_SUCCESS;
}
