// RSA for card applets: raw private operation (the host pads), PKCS#1 v1.5 signature over a DigestInfo, PKCS#1
// v1.5 decryption, public modulus/exponent, and a key rebuilt from its primes (import commands send p and q).

import { constants, createPrivateKey, privateDecrypt, privateEncrypt } from 'node:crypto';
import { AsymmetricError, b64u, fromPrivate, RSA_BITS, toB64u, type AsymmetricKey, type RsaAlgorithm } from './keys.js';

export interface RsaPublicParts {
  /** Big-endian, without leading zeros. */
  modulus: Uint8Array;
  exponent: Uint8Array;
}

/** Public parts, derived once per key (exporting a JWK per signature would cost a third of the signing time). */
const publicParts = new WeakMap<object, RsaPublicParts>();

export function rsaPublicParts(key: AsymmetricKey): RsaPublicParts {
  let parts = publicParts.get(key.publicKey);
  if (!parts) {
    const jwk = key.publicKey.export({ format: 'jwk' });
    parts = { modulus: b64u(jwk.n), exponent: b64u(jwk.e) };
    publicParts.set(key.publicKey, parts);
  }
  return { modulus: parts.modulus.slice(), exponent: parts.exponent.slice() };
}

function modulusOf(key: AsymmetricKey): Uint8Array {
  rsaPublicParts(key);
  return publicParts.get(key.publicKey)!.modulus;
}

/** Modulus length in bytes. */
export function rsaSize(key: AsymmetricKey): number {
  return (key.privateKey.asymmetricKeyDetails?.modulusLength ?? 0) / 8;
}

/**
 * m^d mod n on a block of exactly the modulus length (the padding is the host's business). A block not below n
 * is refused: the operation is undefined for it.
 */
export function rsaRawPrivate(key: AsymmetricKey, block: Uint8Array): Uint8Array {
  const size = rsaSize(key);
  if (block.length !== size) throw new AsymmetricError(`RSA input is ${block.length} bytes, the modulus ${size}`);
  // Same length, big-endian: byte order is numeric order.
  if (Buffer.compare(block, modulusOf(key)) >= 0) throw new AsymmetricError('RSA input is not below the modulus');
  return new Uint8Array(privateDecrypt({ key: key.privateKey, padding: constants.RSA_NO_PADDING }, block));
}

/** PKCS#1 v1.5 signature (type 1 padding) over a ready DigestInfo. */
export function rsaSignDigestInfo(key: AsymmetricKey, digestInfo: Uint8Array): Uint8Array {
  if (digestInfo.length > rsaSize(key) - 11) throw new AsymmetricError('DigestInfo too long for the modulus');
  return new Uint8Array(privateEncrypt({ key: key.privateKey, padding: constants.RSA_PKCS1_PADDING }, digestInfo));
}

/**
 * PKCS#1 v1.5 decryption: raw operation, then the type 2 padding removed here (Node 20.11+ refuses
 * RSA_PKCS1_PADDING for privateDecrypt). Returns null when the padding is wrong.
 */
export function rsaDecryptPkcs1(key: AsymmetricKey, cryptogram: Uint8Array): Uint8Array | null {
  const em = rsaRawPrivate(key, cryptogram);
  if (em[0] !== 0x00 || em[1] !== 0x02) return null;
  const sep = em.indexOf(0x00, 2);
  if (sep < 10) return null; // at least 8 non-zero padding bytes
  return em.slice(sep + 1);
}

/** A private key from e, p and q (CRT parts derived); the size must match `algorithm`. */
export function rsaFromPrimes(algorithm: RsaAlgorithm, e: Uint8Array, p: Uint8Array, q: Uint8Array): AsymmetricKey {
  const E = toBig(e);
  const P = toBig(p);
  const Q = toBig(q);
  if (P < 3n || Q < 3n || P === Q || E < 3n) throw new AsymmetricError('RSA parameters out of range');
  const n = P * Q;
  const phi = (P - 1n) * (Q - 1n);
  const d = modInverse(E, phi);
  if (d === null) throw new AsymmetricError('e is not invertible modulo (p-1)(q-1)');
  const qi = modInverse(Q, P);
  if (qi === null) throw new AsymmetricError('q is not invertible modulo p');
  if (bitLength(n) !== RSA_BITS[algorithm]) throw new AsymmetricError(`p·q has ${bitLength(n)} bits, ${algorithm} needs ${RSA_BITS[algorithm]}`);
  const jwk = { kty: 'RSA', n: big64(n), e: big64(E), d: big64(d), p: big64(P), q: big64(Q), dp: big64(d % (P - 1n)), dq: big64(d % (Q - 1n)), qi: big64(qi) };
  try {
    return fromPrivate(algorithm, createPrivateKey({ key: jwk, format: 'jwk' }));
  } catch (err) {
    if (err instanceof AsymmetricError) throw err;
    throw new AsymmetricError(`RSA key rejected (${(err as Error).message})`, { cause: err });
  }
}

export function toBig(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${Buffer.from(bytes).toString('hex')}`);
}

export function fromBig(n: bigint, length?: number): Uint8Array {
  let hex = n.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  const raw = new Uint8Array(Buffer.from(hex, 'hex'));
  if (length === undefined || raw.length === length) return raw;
  if (raw.length > length) throw new RangeError(`${raw.length} bytes do not fit ${length}`);
  const out = new Uint8Array(length);
  out.set(raw, length - raw.length);
  return out;
}

function big64(n: bigint): string {
  return toB64u(fromBig(n));
}

function bitLength(n: bigint): number {
  return n.toString(2).length;
}

function modInverse(a: bigint, m: bigint): bigint | null {
  let [oldR, r] = [a % m, m];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const q = oldR / r;
    [oldR, r] = [r, oldR - q * r];
    [oldS, s] = [s, oldS - q * s];
  }
  if (oldR !== 1n) return null;
  return ((oldS % m) + m) % m;
}
