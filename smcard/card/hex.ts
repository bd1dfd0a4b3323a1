// Hex helpers for profiles, state files and logs (lower-case out, either case in, spaces allowed in), on the
// shared codec (kernel/bytes.ts).

import { parseHex as parseHexDigits } from '../../kernel/bytes.js';

export { toHex } from '../../kernel/bytes.js';

/** Parses hex (whitespace ignored); returns null when it is not an even-length run of hex digits. */
export function parseHex(text: string): Uint8Array | null {
  return parseHexDigits(text.replace(/\s+/g, ''));
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}
