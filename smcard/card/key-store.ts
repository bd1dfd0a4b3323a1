// Sealing of applet secrets (private keys, PINs, management keys) for the card state file: encrypted on the
// crypto device (AES-256-CBC with the device's key) with a SHA-256 of the plaintext, also computed on the
// device, inside the cryptogram. The device's CBC runs from a fixed IV, so a random first block stands in for
// one: the same secret sealed twice gives unrelated texts. A sealed blob that no longer opens (the device key string changed, the file
// was edited) is a CardStateError naming the file; nothing is ever written in plaintext.

import { randomBytes } from 'node:crypto';
import { CardStateError } from './errors.js';
import type { CardCrypto } from './card-context.js';
import { bytesEqual } from './hex.js';
import { KEY_ALGORITHMS, keyFromPkcs8, keyToPkcs8, type AsymmetricKey, type KeyAlgorithm } from './asymmetric/keys.js';

/** The card has no crypto device, so its secrets cannot be persisted (they are never written in plaintext). */
export class KeyStoreError extends Error {
  readonly code = 'VSCR_ERR_KEY_STORE';
  constructor(message: string) {
    super(message);
    this.name = 'KeyStoreError';
  }
}

const DIGEST = 32;
const HEADER = DIGEST + 4;
const AES_BLOCK = 16;
/** Sealed text prefix: a format tag so layouts can be told apart. 2 adds the random first block. */
const PREFIX = 'vscr-sealed-2:';
/** Written by earlier versions (no random block); still opened. */
const PREFIX_V1 = 'vscr-sealed-1:';

function device(crypto: CardCrypto | null): CardCrypto {
  if (!crypto) throw new KeyStoreError('this card has no crypto device: its private keys and PINs cannot be stored (they are never written in plaintext)');
  return crypto;
}

/**
 * Seals `label ‖ 00 ‖ secret` (the label binds the blob to its use, so a sealed PIN cannot be swapped in as a key)
 * and returns printable text for the state file.
 */
export async function sealBytes(crypto: CardCrypto | null, label: string, secret: Uint8Array): Promise<string> {
  const dev = device(crypto);
  const plain = Buffer.concat([Buffer.from(label, 'latin1'), Buffer.of(0), secret]);
  const digest = await dev.sha256(plain);
  const inner = new Uint8Array(AES_BLOCK + HEADER + plain.length);
  inner.set(randomBytes(AES_BLOCK), 0);
  inner.set(digest, AES_BLOCK);
  new DataView(inner.buffer).setUint32(AES_BLOCK + DIGEST, plain.length);
  inner.set(plain, AES_BLOCK + HEADER);
  plain.fill(0);
  const sealed = await dev.aesCbcEncrypt(inner);
  inner.fill(0);
  return PREFIX + Buffer.from(sealed).toString('base64');
}

/** Opens what sealBytes wrote under the same label; anything else is a CardStateError for `file`. */
export async function unsealBytes(crypto: CardCrypto | null, label: string, text: unknown, file: string, what: string): Promise<Uint8Array> {
  const opened = await open(crypto, text, file, what);
  if (opened.label !== label) throw new CardStateError(file, `${what}: holds a "${opened.label}" value, expected "${label}"`);
  return opened.secret;
}

/** Seals a private key (its algorithm and PKCS#8 DER). */
export function sealKey(crypto: CardCrypto | null, key: AsymmetricKey): Promise<string> {
  return sealBytes(crypto, `key:${key.algorithm}`, keyToPkcs8(key));
}

/** Opens a sealed private key. */
export async function unsealKey(crypto: CardCrypto | null, text: unknown, file: string, what: string): Promise<AsymmetricKey> {
  const { label, secret } = await open(crypto, text, file, what);
  const algorithm = label.startsWith('key:') ? (label.slice(4) as KeyAlgorithm) : null;
  if (algorithm === null || !KEY_ALGORITHMS.includes(algorithm)) throw new CardStateError(file, `${what}: holds a "${label}" value, not a private key`);
  try {
    return keyFromPkcs8(algorithm, secret);
  } catch (err) {
    throw new CardStateError(file, `${what}: ${(err as Error).message}`, { cause: err });
  } finally {
    secret.fill(0);
  }
}

async function open(crypto: CardCrypto | null, text: unknown, file: string, what: string): Promise<{ label: string; secret: Uint8Array }> {
  const bad = (reason: string): CardStateError => new CardStateError(file, `${what}: ${reason}`);
  const v1 = typeof text === 'string' && text.startsWith(PREFIX_V1);
  if (typeof text !== 'string' || (!v1 && !text.startsWith(PREFIX))) throw bad('is not a sealed value');
  const skip = v1 ? 0 : AES_BLOCK;
  const sealed = new Uint8Array(Buffer.from(text.slice(PREFIX.length), 'base64'));
  if (sealed.length < skip + HEADER || sealed.length % AES_BLOCK !== 0) throw bad('sealed value has a wrong length');
  if (!crypto) throw bad('the card has no crypto device to decrypt it with');
  const decrypted = await crypto.aesCbcDecrypt(sealed);
  const inner = decrypted.subarray(skip);
  try {
    const length = new DataView(inner.buffer, inner.byteOffset, inner.byteLength).getUint32(DIGEST);
    const wrongKey = "does not decrypt with this crypto device's key (was the device key string changed?)";
    if (length > inner.length - HEADER) throw bad(wrongKey);
    const plain = inner.subarray(HEADER, HEADER + length);
    const digest = await crypto.sha256(plain);
    if (!bytesEqual(digest, inner.subarray(0, DIGEST))) throw bad(wrongKey);
    const sep = plain.indexOf(0);
    if (sep < 0) throw bad(wrongKey);
    return { label: Buffer.from(plain.subarray(0, sep)).toString('latin1'), secret: plain.slice(sep + 1) };
  } finally {
    decrypted.fill(0);
  }
}
