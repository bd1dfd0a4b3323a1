// Byte helpers every layer shares: little-endian DWORDs, concatenation and lowercase hex. No Node-only import,
// so the browser clients use the same code; under Node, hex goes through Buffer, which is several times faster.

/** Node's Buffer when present (the service); undefined in a browser. */
const NodeBuffer = (globalThis as { Buffer?: typeof Buffer }).Buffer;
const HEX_DIGITS = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const HEX_RE = /^(?:[0-9a-fA-F]{2})*$/;

/** The little-endian uint32 at `offset`; the caller has checked that four bytes are there. */
export function readU32LE(bytes: Uint8Array, offset: number): number {
  return (bytes[offset] | (bytes[offset + 1] << 8) | (bytes[offset + 2] << 16) | (bytes[offset + 3] << 24)) >>> 0;
}

/** Writes `value` as a little-endian uint32 at `offset`, byte by byte (cheaper than a DataView per call). */
export function writeU32LE(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value & 0xff;
  bytes[offset + 1] = (value >>> 8) & 0xff;
  bytes[offset + 2] = (value >>> 16) & 0xff;
  bytes[offset + 3] = (value >>> 24) & 0xff;
}

/** The parts one after another, in a new array. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** Lowercase hex of the bytes. */
export function toHex(bytes: Uint8Array): string {
  if (NodeBuffer) return NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
  return toHexPortable(bytes);
}

/** Hex digits (either case, in pairs, nothing else) → bytes; null when malformed. Callers strip their separators. */
export function parseHex(text: string): Uint8Array | null {
  if (!HEX_RE.test(text)) return null;
  if (NodeBuffer) return new Uint8Array(NodeBuffer.from(text, 'hex'));
  return parseHexDigitsPortable(text);
}

/** toHex without Buffer: what a browser runs (exported so a test holds it to Buffer's answers). */
export function toHexPortable(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += HEX_DIGITS[bytes[i]];
  return out;
}

/** parseHex without Buffer, for text that already matched the hex pattern. */
export function parseHexDigitsPortable(text: string): Uint8Array {
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(i * 2, i * 2 + 2), 16);
  return out;
}
