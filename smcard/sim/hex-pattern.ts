// Command patterns for scripted cards: hex with wildcard nibbles (`?`) or bytes (`??`), and a trailing `*` for
// "any remaining bytes". An empty pattern matches every command (libpcsc-mock's empty expected command).

/** Why a pattern or a hex string was refused; the caller adds line and field. */
export class HexPatternError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HexPatternError';
  }
}

export interface HexPattern {
  /** The pattern as written, normalised: upper case, bytes separated by spaces. */
  readonly text: string;
  /** Expected nibbles, one per half byte; -1 is a wildcard. */
  readonly nibbles: readonly number[];
  /** A trailing `*`: the command may go on after the pattern. */
  readonly openEnded: boolean;
}

/** Parses a pattern; whitespace is ignored. Throws HexPatternError on odd length or a stray character. */
export function parsePattern(source: string): HexPattern {
  let clean = source.replace(/\s+/g, '');
  const openEnded = clean.endsWith('*');
  if (openEnded) clean = clean.slice(0, -1);
  const bad = /[^0-9a-fA-F?xX]/.exec(clean);
  if (bad) throw new HexPatternError(`"${bad[0]}" is not a hex digit or a wildcard (? or x)`);
  if (clean.length % 2 !== 0) throw new HexPatternError(`odd number of hex digits (${clean.length}) in "${source.trim()}"`);
  const nibbles = [...clean].map((c) => (c === '?' || c === 'x' || c === 'X' ? -1 : parseInt(c, 16)));
  const text = (clean.toUpperCase().replace(/X/g, '?').match(/../g) ?? []).join(' ') + (openEnded ? (clean ? ' *' : '*') : '');
  return { text, nibbles, openEnded };
}

export function matchesPattern(pattern: HexPattern, apdu: Uint8Array): boolean {
  const n = pattern.nibbles;
  if (n.length === 0 && !pattern.openEnded) return true; // empty expected command: any command
  const len = n.length / 2;
  if (pattern.openEnded ? apdu.length < len : apdu.length !== len) return false;
  for (let i = 0; i < len; i++) {
    const hi = n[2 * i];
    const lo = n[2 * i + 1];
    if (hi >= 0 && apdu[i] >> 4 !== hi) return false;
    if (lo >= 0 && (apdu[i] & 0x0f) !== lo) return false;
  }
  return true;
}

/** Strict hex (whitespace allowed) to bytes; throws HexPatternError naming what is wrong. */
export function parseStrictHex(source: string): Uint8Array {
  const clean = source.replace(/\s+/g, '');
  const bad = /[^0-9a-fA-F]/.exec(clean);
  if (bad) throw new HexPatternError(`"${bad[0]}" is not a hex digit`);
  if (clean.length % 2 !== 0) throw new HexPatternError(`odd number of hex digits (${clean.length}) in "${source.trim()}"`);
  return Uint8Array.from(Buffer.from(clean, 'hex'));
}

/** Upper-case hex with a space between bytes, as scriptor prints APDUs. */
export function spacedHex(bytesOrHex: Uint8Array | string): string {
  const hex = typeof bytesOrHex === 'string' ? bytesOrHex : Buffer.from(bytesOrHex.buffer, bytesOrHex.byteOffset, bytesOrHex.byteLength).toString('hex');
  return (hex.toUpperCase().match(/../g) ?? []).join(' ');
}
