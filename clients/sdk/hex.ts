// Hex and byte helpers of the SDK and the winscard client: the shared codec (kernel/bytes.ts, no Node-only
// imports, so both still run in browsers) plus the lenient parsing a person's typed input needs.

import { parseHex } from '../../kernel/bytes.js';

export { concatBytes, toHex } from '../../kernel/bytes.js';

/** Parses hex; whitespace and `:` separators are allowed (`00 A4 04 00`). Throws RangeError on bad input. */
export function fromHex(text: string): Uint8Array {
  const clean = text.replace(/[\s:]/g, '');
  if (clean.length % 2 !== 0) throw new RangeError(`hex string has an odd number of digits: "${text}"`);
  const bytes = parseHex(clean);
  if (bytes === null) throw new RangeError(`not a hex string: "${text}"`);
  return bytes;
}
