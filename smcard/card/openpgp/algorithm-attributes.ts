// Algorithm attributes (DOs C1 signature, C2 decryption, C3 authentication): the byte forms GnuPG writes and
// reads, mapped to the key algorithms the card layer implements.

import type { KeyAlgorithm } from '../asymmetric/index.js';
import { bytesEqual } from '../hex.js';

/** The three key slots, by the control reference template hosts name them with (B6, B8, A4). */
export type KeySlot = 'sig' | 'dec' | 'aut';
export const KEY_SLOTS: readonly KeySlot[] = ['sig', 'dec', 'aut'];
export const SLOT_CRT: Readonly<Record<KeySlot, number>> = { sig: 0xb6, dec: 0xb8, aut: 0xa4 };
/** Key reference numbers (1..3) as used in key information DE. */
export const SLOT_NUMBER: Readonly<Record<KeySlot, number>> = { sig: 1, dec: 2, aut: 3 };

/** Algorithm IDs (RFC 4880 §9.1, RFC 6637): RSA, ECDH, ECDSA, EdDSA. */
export const ALGO_ID = { RSA: 0x01, ECDH: 0x12, ECDSA: 0x13, EDDSA: 0x16 } as const;

/** Curve OIDs (DER contents, without tag and length). */
export const CURVE_OID = {
  p256: Uint8Array.of(0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07),
  ed25519: Uint8Array.of(0x2b, 0x06, 0x01, 0x04, 0x01, 0xda, 0x47, 0x0f, 0x01),
  x25519: Uint8Array.of(0x2b, 0x06, 0x01, 0x04, 0x01, 0x97, 0x55, 0x01, 0x05, 0x01),
} as const;

export type PgpAlgorithm = Extract<KeyAlgorithm, 'rsa2048' | 'rsa3072' | 'rsa4096' | 'p256' | 'ed25519' | 'x25519'>;

const RSA_SIZES: Readonly<Record<number, PgpAlgorithm>> = { 2048: 'rsa2048', 3072: 'rsa3072', 4096: 'rsa4096' };

/** Factory attributes: RSA-2048 in all three slots (what `gpg --card-status` shows as rsa2048 rsa2048 rsa2048). */
export function defaultAttributes(): Uint8Array {
  return encodeAttributes('rsa2048', 'sig');
}

/** The attribute bytes for `algorithm` in `slot` (P-256 is ECDH in the decryption slot, ECDSA elsewhere). */
export function encodeAttributes(algorithm: PgpAlgorithm, slot: KeySlot): Uint8Array {
  switch (algorithm) {
    case 'rsa2048':
    case 'rsa3072':
    case 'rsa4096': {
      const bits = Number(algorithm.slice(3));
      // n bits, e bits 32, import format 00 (standard: e, p, q).
      return Uint8Array.of(ALGO_ID.RSA, bits >> 8, bits & 0xff, 0x00, 0x20, 0x00);
    }
    case 'p256':
      return Uint8Array.of(slot === 'dec' ? ALGO_ID.ECDH : ALGO_ID.ECDSA, ...CURVE_OID.p256);
    case 'ed25519':
      return Uint8Array.of(ALGO_ID.EDDSA, ...CURVE_OID.ed25519);
    case 'x25519':
      return Uint8Array.of(ALGO_ID.ECDH, ...CURVE_OID.x25519);
  }
}

/**
 * The algorithm named by attribute bytes for `slot`, or null when the card cannot do it there. A trailing 00/FF
 * (import format of ECC keys) is accepted; RSA needs e of at most 32 bits and a standard import format.
 */
export function parseAttributes(attrs: Uint8Array, slot: KeySlot): PgpAlgorithm | null {
  if (attrs.length === 0) return null;
  const id = attrs[0];
  if (id === ALGO_ID.RSA) {
    if (attrs.length < 5 || attrs.length > 6) return null;
    const bits = (attrs[1] << 8) | attrs[2];
    const eBits = (attrs[3] << 8) | attrs[4];
    if (eBits === 0 || eBits > 32) return null;
    if (attrs.length === 6 && attrs[5] > 0x03) return null;
    return RSA_SIZES[bits] ?? null;
  }
  let oid = attrs.subarray(1);
  if (oid.length > 0 && (oid[oid.length - 1] === 0x00 || oid[oid.length - 1] === 0xff)) {
    const trimmed = oid.subarray(0, oid.length - 1);
    if (matchCurve(trimmed)) oid = trimmed;
  }
  const curve = matchCurve(oid);
  if (curve === null) return null;
  if (slot === 'dec') {
    if (id !== ALGO_ID.ECDH) return null;
    return curve === 'ed25519' ? null : curve;
  }
  if (curve === 'p256' && id === ALGO_ID.ECDSA) return 'p256';
  if (curve === 'ed25519' && id === ALGO_ID.EDDSA) return 'ed25519';
  return null;
}

function matchCurve(oid: Uint8Array): keyof typeof CURVE_OID | null {
  for (const name of Object.keys(CURVE_OID) as (keyof typeof CURVE_OID)[]) if (bytesEqual(CURVE_OID[name], oid)) return name;
  return null;
}
