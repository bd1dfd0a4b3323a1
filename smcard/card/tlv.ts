// Minimal BER-TLV encoder for FCP/FCI templates (ISO 7816-4 §5.2: one-byte tags, definite lengths).

export function tlv(tag: number, value: Uint8Array | readonly number[]): Uint8Array {
  const v = value instanceof Uint8Array ? value : Uint8Array.from(value);
  const len = v.length;
  const lenBytes = len < 0x80 ? [len] : len <= 0xff ? [0x81, len] : [0x82, len >> 8, len & 0xff];
  const out = new Uint8Array(1 + lenBytes.length + len);
  out[0] = tag;
  out.set(lenBytes, 1);
  out.set(v, 1 + lenBytes.length);
  return out;
}
