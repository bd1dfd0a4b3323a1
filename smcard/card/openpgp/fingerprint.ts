// OpenPGP v4 key fingerprints (RFC 4880 §12.2 over the public-key packet of §5.5.2; ECC fields per RFC 6637 §9):
// what hosts compute from GENERATE's public key and write to C7-C9. The card stores, never computes, them; this
// module lets tools and tests check the values against the keys the card holds.

import { createHash } from 'node:crypto';
import * as asym from '../asymmetric/index.js';
import { ALGO_ID, CURVE_OID, type KeySlot } from './algorithm-attributes.js';

/** MPI: bit count (2 bytes, big-endian) of the value without leading zero bytes, then those bytes. */
export function mpi(value: Uint8Array): Uint8Array {
  let i = 0;
  while (i < value.length && value[i] === 0) i++;
  const v = value.subarray(i);
  const bits = v.length === 0 ? 0 : (v.length - 1) * 8 + (32 - Math.clz32(v[0]));
  return Uint8Array.of(bits >> 8, bits & 0xff, ...v);
}

/** Public key material as GENERATE (81) returns it: RSA n and e, or the point (raw 32 bytes for 25519). */
export type PublicMaterial =
  | { algorithm: 'rsa'; modulus: Uint8Array; exponent: Uint8Array }
  | { algorithm: 'p256' | 'ed25519' | 'x25519'; point: Uint8Array };

export function publicMaterial(key: asym.AsymmetricKey): PublicMaterial {
  if (asym.isRsa(key.algorithm)) return { algorithm: 'rsa', ...asym.rsaPublicParts(key) };
  if (key.algorithm === 'p256') return { algorithm: 'p256', point: asym.ecPublicPoint(key) };
  if (key.algorithm === 'ed25519' || key.algorithm === 'x25519') return { algorithm: key.algorithm, point: asym.okpPublicRaw(key) };
  throw new asym.AsymmetricError(`no OpenPGP form for ${key.algorithm}`);
}

/** The body of a v4 public-key packet created at `created` (Unix seconds); P-256 is ECDH in the decryption slot. */
export function publicKeyPacketBody(key: PublicMaterial, slot: KeySlot, created: number): Uint8Array {
  const head = [0x04, (created >>> 24) & 0xff, (created >>> 16) & 0xff, (created >>> 8) & 0xff, created & 0xff];
  const oid = (name: keyof typeof CURVE_OID): number[] => [CURVE_OID[name].length, ...CURVE_OID[name]];
  // ECDH carries KDF parameters: SHA-256 and AES-128 for 256-bit curves.
  const kdf = [0x03, 0x01, 0x08, 0x07];
  switch (key.algorithm) {
    case 'rsa':
      return Uint8Array.of(...head, ALGO_ID.RSA, ...mpi(key.modulus), ...mpi(key.exponent));
    case 'p256':
      return slot === 'dec'
        ? Uint8Array.of(...head, ALGO_ID.ECDH, ...oid('p256'), ...mpi(key.point), ...kdf)
        : Uint8Array.of(...head, ALGO_ID.ECDSA, ...oid('p256'), ...mpi(key.point));
    case 'ed25519':
      // Native point form: prefix 40 before the 32 bytes the card returns.
      return Uint8Array.of(...head, ALGO_ID.EDDSA, ...oid('ed25519'), ...mpi(Uint8Array.of(0x40, ...key.point)));
    case 'x25519':
      return Uint8Array.of(...head, ALGO_ID.ECDH, ...oid('x25519'), ...mpi(Uint8Array.of(0x40, ...key.point)), ...kdf);
  }
}

/** SHA-1 over `99 ‖ length(2) ‖ body`: the 20-byte v4 fingerprint. */
export function v4Fingerprint(body: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha1').update(Uint8Array.of(0x99, body.length >> 8, body.length & 0xff)).update(body).digest());
}
