// BER-TLV as smart-card applications use it (ISO 7816-4 §5.2; X.690 §8.1.2–8.1.3): multi-byte tags, definite
// lengths up to 3 length bytes (`83 xx xx xx`). Parsing is strict: a short, indefinite or overlong field throws
// BerTlvError, which command handlers turn into 6A80 (`parseTlvsOrSw`).

import { SW, SwError } from './status-words.js';
import { concatBytes } from '../../kernel/bytes.js';

/** One decoded element. `tag` holds the tag bytes big-endian (`5F C1 05` → 0x5FC105); `value` is a view. */
export interface Tlv {
  readonly tag: number;
  readonly value: Uint8Array;
}

export class BerTlvError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BerTlvError';
  }
}

/** Longest value this codec writes or reads (3 length bytes). */
export const MAX_TLV_LENGTH = 0xffffff;

/** Tag bytes for a tag number as written (`0x5FC105` → 5F C1 05; tags up to 4 bytes). */
export function encodeTag(tag: number): Uint8Array {
  if (!Number.isInteger(tag) || tag < 0 || tag > 0xffffffff) throw new RangeError(`tag ${tag} is not 1..4 bytes`);
  const out: number[] = [];
  let t = tag;
  do {
    out.unshift(t & 0xff);
    t = Math.floor(t / 256);
  } while (t > 0);
  return Uint8Array.from(out);
}

/** Definite length in the shortest form: `xx` below 128, then `81 xx`, `82 xx xx`, `83 xx xx xx`. */
export function encodeLength(length: number): Uint8Array {
  if (!Number.isInteger(length) || length < 0 || length > MAX_TLV_LENGTH) throw new RangeError(`length ${length} out of range`);
  if (length < 0x80) return Uint8Array.of(length);
  if (length <= 0xff) return Uint8Array.of(0x81, length);
  if (length <= 0xffff) return Uint8Array.of(0x82, length >> 8, length & 0xff);
  return Uint8Array.of(0x83, length >> 16, (length >> 8) & 0xff, length & 0xff);
}

/** One element: tag, length, then the parts concatenated as the value. */
export function berTlv(tag: number, ...parts: (Uint8Array | readonly number[])[]): Uint8Array {
  const value = concatBytes(parts.map((p) => (p instanceof Uint8Array ? p : Uint8Array.from(p))));
  return concatBytes([encodeTag(tag), encodeLength(value.length), value]);
}

/** Reads one element at `offset`; `end` is the offset just past it. */
export function readTlv(data: Uint8Array, offset = 0): Tlv & { end: number } {
  let i = offset;
  if (i >= data.length) throw new BerTlvError(`no tag at offset ${offset}`);
  let tag = data[i++];
  if ((tag & 0x1f) === 0x1f) {
    // Subsequent tag bytes carry b8 = 1 while more follow (X.690 §8.1.2.4); at most 3 of them.
    let more = true;
    for (let n = 0; more; n++) {
      if (n === 3) throw new BerTlvError(`tag at offset ${offset} is longer than 4 bytes`);
      if (i >= data.length) throw new BerTlvError(`tag at offset ${offset} is truncated`);
      const b = data[i++];
      tag = tag * 256 + b;
      more = (b & 0x80) !== 0;
    }
  }
  if (i >= data.length) throw new BerTlvError(`no length for tag ${tag.toString(16)} at offset ${offset}`);
  const first = data[i++];
  let length: number;
  if (first < 0x80) length = first;
  else {
    const n = first & 0x7f;
    if (n === 0) throw new BerTlvError(`indefinite length for tag ${tag.toString(16)}`);
    if (n > 3) throw new BerTlvError(`length of tag ${tag.toString(16)} uses ${n} bytes (at most 3)`);
    if (i + n > data.length) throw new BerTlvError(`length of tag ${tag.toString(16)} is truncated`);
    length = 0;
    for (let k = 0; k < n; k++) length = length * 256 + data[i++];
  }
  if (i + length > data.length) throw new BerTlvError(`tag ${tag.toString(16)} claims ${length} bytes, ${data.length - i} remain`);
  return { tag, value: data.subarray(i, i + length), end: i + length };
}

/** Every element of a concatenation, in order; the data must be used up exactly. */
export function parseTlvs(data: Uint8Array): Tlv[] {
  const out: Tlv[] = [];
  let offset = 0;
  while (offset < data.length) {
    const t = readTlv(data, offset);
    out.push({ tag: t.tag, value: t.value });
    offset = t.end;
  }
  return out;
}

/** parseTlvs for command data: malformed input is the host's fault, answered with 6A80. */
export function parseTlvsOrSw(data: Uint8Array, what = 'command data'): Tlv[] {
  try {
    return parseTlvs(data);
  } catch (err) {
    if (err instanceof BerTlvError) throw new SwError(SW.INCORRECT_DATA, `${what}: ${err.message}`);
    throw err;
  }
}

/** The single element `tag` that must make up all of `data` (e.g. a `7C` template), as 6A80 if it does not. */
export function expectSingleTlv(data: Uint8Array, tag: number, what = 'command data'): Uint8Array {
  const list = parseTlvsOrSw(data, what);
  if (list.length !== 1 || list[0].tag !== tag) throw new SwError(SW.INCORRECT_DATA, `${what} must be one ${tag.toString(16)} template`);
  return list[0].value;
}

/** First element with this tag, if any. */
export function findTlv(list: readonly Tlv[], tag: number): Uint8Array | undefined {
  return list.find((t) => t.tag === tag)?.value;
}
