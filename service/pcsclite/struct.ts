// A tiny declarative little-endian C-struct codec: fields at fixed offsets, decode/encode over Uint8Array.

/** One field of a fixed-layout struct. */
export interface Field<T> {
  readonly offset: number;
  readonly size: number;
  read(view: DataView, bytes: Uint8Array): T;
  write(view: DataView, bytes: Uint8Array, value: T): void;
}

const utf8Decoder = new TextDecoder('utf-8', { fatal: false });
const utf8Encoder = new TextEncoder();

/** `uint32_t` (hContext, lengths, rv…). Values are taken modulo 2^32 so `-1` and `0xFFFFFFFF` agree. */
export function u32(offset: number): Field<number> {
  return {
    offset,
    size: 4,
    read: (view) => view.getUint32(offset, true),
    write: (view, _bytes, value) => view.setUint32(offset, value >>> 0, true),
  };
}

/** `int32_t` (hCard, readerSharing, version numbers). */
export function i32(offset: number): Field<number> {
  return {
    offset,
    size: 4,
    read: (view) => view.getInt32(offset, true),
    write: (view, _bytes, value) => view.setInt32(offset, value | 0, true),
  };
}

/** A fixed byte array (`pbAttr[264]`, `cardAtr[33]`): shorter values are zero padded, longer ones truncated. */
export function bytes(offset: number, size: number): Field<Uint8Array> {
  return {
    offset,
    size,
    read: (_view, all) => all.slice(offset, offset + size),
    write: (_view, all, value) => {
      all.fill(0, offset, offset + size);
      all.set(value.subarray(0, size), offset);
    },
  };
}

/**
 * `char name[size]`, NUL terminated and zero padded. Decoding stops at the first NUL (or the end, as pcscd
 * forces the last byte to 0); encoding keeps at most size-1 bytes of UTF-8 so the NUL always fits.
 */
export function cstring(offset: number, size: number): Field<string> {
  return {
    offset,
    size,
    read: (_view, all) => {
      const raw = all.subarray(offset, offset + size);
      const nul = raw.indexOf(0);
      return utf8Decoder.decode(raw.subarray(0, nul < 0 ? size : nul));
    },
    write: (_view, all, value) => {
      all.fill(0, offset, offset + size);
      all.set(encodeCString(value, size - 1), offset);
    },
  };
}

/** UTF-8 bytes of `value`, cut to at most `max` bytes without splitting a character. */
export function encodeCString(value: string, max: number): Uint8Array {
  const encoded = utf8Encoder.encode(value);
  if (encoded.length <= max) return encoded;
  let end = max;
  // Back off continuation bytes (10xxxxxx) so the cut lands on a character boundary.
  while (end > 0 && (encoded[end] & 0xc0) === 0x80) end--;
  return encoded.subarray(0, end);
}

export type FieldMap = Record<string, Field<unknown>>;
export type StructValue<F extends FieldMap> = { [K in keyof F]: F[K] extends Field<infer T> ? T : never };

export interface StructCodec<F extends FieldMap> {
  readonly name: string;
  readonly size: number;
  readonly fields: F;
  /** Reads every field of the first `size` bytes of `data`; throws RangeError when `data` is shorter. */
  decode(data: Uint8Array): StructValue<F>;
  /**
   * Writes `value` into a fresh `size`-byte buffer. With `template` (the request the client sent) the buffer
   * starts as a copy of it, so bytes the struct does not model are echoed back exactly like pcscd does.
   */
  encode(value: StructValue<F>, template?: Uint8Array): Uint8Array;
}

/** Declares a struct; checks at definition time that fields fit and do not overlap. */
export function defineStruct<F extends FieldMap>(name: string, size: number, fields: F): StructCodec<F> {
  const sorted = Object.entries(fields).sort((a, b) => a[1].offset - b[1].offset);
  let end = 0;
  for (const [key, field] of sorted) {
    if (field.offset < end || field.offset + field.size > size) {
      throw new Error(`${name}.${key}: field at ${field.offset}+${field.size} overlaps or exceeds ${size} bytes`);
    }
    end = field.offset + field.size;
  }
  const keys = Object.keys(fields) as (keyof F & string)[];
  return {
    name,
    size,
    fields,
    decode(data) {
      if (data.length < size) throw new RangeError(`${name}: need ${size} bytes, got ${data.length}`);
      const view = new DataView(data.buffer, data.byteOffset, size);
      const out: Record<string, unknown> = {};
      for (const key of keys) out[key] = fields[key].read(view, data);
      return out as StructValue<F>;
    },
    encode(value, template) {
      const out = new Uint8Array(size);
      if (template) out.set(template.subarray(0, size));
      const view = new DataView(out.buffer);
      for (const key of keys) fields[key].write(view, out, value[key]);
      return out;
    },
  };
}
