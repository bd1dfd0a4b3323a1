// Command APDU codec: the four ISO 7816-4 cases in short and extended form (docs/smclib.md §8.2). Pure functions.

import { SW, SwError } from './status-words.js';

export interface CommandApdu {
  readonly cla: number;
  readonly ins: number;
  readonly p1: number;
  readonly p2: number;
  /** Command data (Nc bytes; empty for cases 1 and 2). */
  readonly data: Uint8Array;
  /** Ne: maximum response length the host accepts; 0 when Le is absent (cases 1 and 3). */
  readonly ne: number;
  readonly case: 1 | 2 | 3 | 4;
  readonly extended: boolean;
}

const NO_DATA = new Uint8Array(0);

/** Every parse result has this one shape (same keys, same order), which keeps the hot path monomorphic. */
function command(bytes: Uint8Array, data: Uint8Array, ne: number, kind: 1 | 2 | 3 | 4, extended: boolean): CommandApdu {
  return { cla: bytes[0], ins: bytes[1], p1: bytes[2], p2: bytes[3], data, ne, case: kind, extended };
}

/**
 * Parses a command APDU. Throws SwError(6700) when the length bytes do not add up, the same answer a card
 * gives to a malformed body (the header is readable, the lengths are not). `data` is a copy.
 */
export function parseCommandApdu(bytes: Uint8Array): CommandApdu {
  const n = bytes.length;
  if (n < 4) throw new SwError(SW.WRONG_LENGTH, `APDU of ${n} bytes has no complete header`);
  if (n === 4) return command(bytes, NO_DATA, 0, 1, false);
  const b4 = bytes[4];
  if (n === 5) return command(bytes, NO_DATA, b4 === 0 ? 256 : b4, 2, false);
  if (b4 !== 0) {
    // Short case 3 or 4: Lc = b4 (1..255).
    const lc = b4;
    if (n === 5 + lc) return command(bytes, bytes.slice(5, 5 + lc), 0, 3, false);
    if (n === 6 + lc) {
      const le = bytes[5 + lc];
      return command(bytes, bytes.slice(5, 5 + lc), le === 0 ? 256 : le, 4, false);
    }
    throw new SwError(SW.WRONG_LENGTH, `short Lc ${lc} does not match APDU length ${n}`);
  }
  // b4 = 00 and more than 5 bytes: extended form.
  if (n < 7) throw new SwError(SW.WRONG_LENGTH, `extended APDU of ${n} bytes is truncated`);
  const v = (bytes[5] << 8) | bytes[6];
  if (n === 7) return command(bytes, NO_DATA, v === 0 ? 65536 : v, 2, true);
  const lc = v;
  if (lc === 0) throw new SwError(SW.WRONG_LENGTH, 'extended Lc of 0 is not allowed');
  if (n === 7 + lc) return command(bytes, bytes.slice(7, 7 + lc), 0, 3, true);
  if (n === 9 + lc) {
    const le = (bytes[7 + lc] << 8) | bytes[8 + lc];
    return command(bytes, bytes.slice(7, 7 + lc), le === 0 ? 65536 : le, 4, true);
  }
  throw new SwError(SW.WRONG_LENGTH, `extended Lc ${lc} does not match APDU length ${n}`);
}

export interface BuildApduOptions {
  cla?: number;
  ins: number;
  p1?: number;
  p2?: number;
  data?: Uint8Array;
  /** Ne (0 or absent = no Le field). 256 short / 65536 extended encode as 00 / 0000. */
  ne?: number;
  /** Force the extended form; chosen automatically when Nc > 255 or Ne > 256. */
  extended?: boolean;
}

/** Encodes a command APDU (for tools and tests). */
export function buildCommandApdu(o: BuildApduOptions): Uint8Array {
  const data = o.data ?? new Uint8Array(0);
  const ne = o.ne ?? 0;
  if (data.length > 65535) throw new RangeError(`Nc ${data.length} exceeds 65535`);
  if (ne < 0 || ne > 65536) throw new RangeError(`Ne ${ne} outside 0..65536`);
  const extended = o.extended ?? (data.length > 255 || ne > 256);
  if (!extended && (data.length > 255 || ne > 256)) throw new RangeError('Nc > 255 or Ne > 256 needs the extended form');
  const head: number[] = [o.cla ?? 0, o.ins, o.p1 ?? 0, o.p2 ?? 0];
  const tail: number[] = [];
  if (!extended) {
    if (data.length > 0) head.push(data.length);
    if (ne > 0) tail.push(ne === 256 ? 0 : ne);
  } else {
    if (data.length > 0) head.push(0, data.length >> 8, data.length & 0xff);
    if (ne > 0) {
      if (data.length === 0) tail.push(0);
      const le = ne === 65536 ? 0 : ne;
      tail.push(le >> 8, le & 0xff);
    }
  }
  const out = new Uint8Array(head.length + data.length + tail.length);
  out.set(head, 0);
  out.set(data, head.length);
  out.set(tail, head.length + data.length);
  return out;
}

/** Response APDU bytes: data followed by SW1 SW2. */
export function responseApdu(data: Uint8Array, sw: number): Uint8Array {
  const out = new Uint8Array(data.length + 2);
  out.set(data, 0);
  out[data.length] = (sw >> 8) & 0xff;
  out[data.length + 1] = sw & 0xff;
  return out;
}
