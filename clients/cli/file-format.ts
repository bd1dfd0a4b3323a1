// The original console's in-place encrypted file format (docs/crypto-device.md "The original console and autotest";
// the e-book's console chapter, docs/background.md). Pure functions; the commands do the I/O.
//
// Layout of an encrypted file for a plaintext of N bytes:
//   P = roundup16(N)                 plaintext, zero-padded to the AES block size (the device's own padding)
//   T = 16-byte trailer at offset P: u16 little-endian S, then 14 zero bytes
//   S = (P + 16) - N                 bytes to strip after decrypting: 16..31
// The whole P + 16 bytes (trailer included) go through one AES-256-CBC pass on the device, so the encrypted file
// is N rounded up to 16, plus 16 bytes. Decrypt runs the device over the whole file, reads S from the last block
// and truncates S bytes.

export const AES_BLOCK = 16;

export interface EncryptLayout {
  plainSize: number;
  /** Zero bytes appended after the plaintext (0..15). */
  padBytes: number;
  /** The encrypted file size (= the request body size = the response size). */
  totalSize: number;
  /** The count written to the trailer: 16..31. */
  strip: number;
  /** The 16 plaintext trailer bytes. */
  trailer: Uint8Array;
}

export function roundUp16(n: number): number {
  return Math.ceil(n / AES_BLOCK) * AES_BLOCK;
}

export function encryptLayout(plainSize: number): EncryptLayout {
  if (!Number.isSafeInteger(plainSize) || plainSize < 0) throw new RangeError(`bad plaintext size ${plainSize}`);
  const padded = roundUp16(plainSize);
  const totalSize = padded + AES_BLOCK;
  const strip = totalSize - plainSize;
  const trailer = new Uint8Array(AES_BLOCK);
  new DataView(trailer.buffer).setUint16(0, strip, true);
  return { plainSize, padBytes: padded - plainSize, totalSize, strip, trailer };
}

/** Why an encrypted file's size cannot be right, or null when it can. */
export function checkEncryptedSize(size: number): string | null {
  if (size < AES_BLOCK) return `an encrypted file is at least ${AES_BLOCK} bytes; this one has ${size}`;
  if (size % AES_BLOCK !== 0) return `an encrypted file's size is a multiple of ${AES_BLOCK}; this one has ${size} bytes`;
  return null;
}

/**
 * Reads the strip count from the decrypted tail (the last min(32, size) bytes of the decrypted file).
 * Returns the count, or a reason when the tail is not a valid trailer: S outside 16..31 (the original accepted
 * 1..31 and only warned), a non-zero trailer byte, or a non-zero padding byte. A wrong key or a file that was
 * never encrypted by vscr fails these checks with near certainty, so the file is left alone.
 */
export function readTrailer(tail: Uint8Array, decryptedSize: number): { strip: number } | { error: string } {
  if (tail.length < AES_BLOCK) return { error: 'the decrypted data is shorter than the 16-byte trailer' };
  const t = tail.subarray(tail.length - AES_BLOCK);
  const strip = new DataView(t.buffer, t.byteOffset, t.byteLength).getUint16(0, true);
  if (strip < AES_BLOCK || strip > 2 * AES_BLOCK - 1) return { error: `the trailer's strip count is ${strip}, not 16..31` };
  if (strip > decryptedSize) return { error: `the trailer's strip count ${strip} exceeds the file size ${decryptedSize}` };
  for (let i = 2; i < AES_BLOCK; i++) if (t[i] !== 0) return { error: 'the trailer is not zero after its strip count' };
  const padBytes = strip - AES_BLOCK;
  const pad = tail.subarray(tail.length - AES_BLOCK - padBytes, tail.length - AES_BLOCK);
  if (pad.length !== padBytes || pad.some((b) => b !== 0)) return { error: 'the padding before the trailer is not zero' };
  return { strip };
}
