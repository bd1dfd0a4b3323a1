// Elliptic curves for card applets: ECDSA over a digest the host computed (node:crypto can only sign messages,
// so @noble/curves signs; prehash off), ECDH, Ed25519 and X25519, and the raw point/scalar forms cards exchange.

import { createECDH, createPrivateKey, createPublicKey, diffieHellman, sign as nodeSign, type KeyObject } from 'node:crypto';
import { createRequire } from 'node:module';
import { AsymmetricError, b64u, EC_CURVE, fromPrivate, isEc, toB64u, type AsymmetricKey, type EcAlgorithm } from './keys.js';

type NistCurves = typeof import('@noble/curves/nist.js');
let nistCurves: NistCurves | undefined;
/**
 * @noble/curves' P-256/P-384, loaded at the first scalar import or digest signature: an ES module that builds
 * its tables when loaded, it cost the service's start-up ~25 ms although no card signs before a client asks.
 */
function noble(algorithm: EcAlgorithm): NistCurves['p256'] | NistCurves['p384'] {
  nistCurves ??= createRequire(import.meta.url)('@noble/curves/nist.js') as NistCurves;
  return nistCurves[algorithm];
}

/** Secret scalars, derived once per key (noble wants bytes, not a KeyObject). */
const scalars = new WeakMap<KeyObject, Uint8Array>();

function ecAlgorithm(key: AsymmetricKey): EcAlgorithm {
  if (!isEc(key.algorithm)) throw new AsymmetricError(`${key.algorithm} is not a NIST curve key`);
  return key.algorithm;
}

/** The private scalar d, big-endian, field length. */
export function ecScalar(key: AsymmetricKey): Uint8Array {
  ecAlgorithm(key);
  let d = scalars.get(key.privateKey);
  if (!d) {
    d = b64u(key.privateKey.export({ format: 'jwk' }).d);
    scalars.set(key.privateKey, d);
  }
  return d;
}

/** Uncompressed public point `04 ‖ X ‖ Y`. */
export function ecPublicPoint(key: AsymmetricKey): Uint8Array {
  ecAlgorithm(key);
  const jwk = key.publicKey.export({ format: 'jwk' });
  const x = b64u(jwk.x);
  const y = b64u(jwk.y);
  const out = new Uint8Array(1 + x.length + y.length);
  out[0] = 0x04;
  out.set(x, 1);
  out.set(y, 1 + x.length);
  return out;
}

/** A key from its private scalar (import commands send only d). */
export function ecFromScalar(algorithm: EcAlgorithm, d: Uint8Array): AsymmetricKey {
  const size = EC_CURVE[algorithm].fieldBytes;
  if (d.length !== size) throw new AsymmetricError(`${algorithm} scalar must be ${size} bytes, got ${d.length}`);
  let point: Uint8Array;
  try {
    point = noble(algorithm).getPublicKey(d, false);
  } catch (err) {
    throw new AsymmetricError(`scalar out of range for ${algorithm}`, { cause: err });
  }
  const jwk = { kty: 'EC', crv: algorithm === 'p256' ? 'P-256' : 'P-384', d: toB64u(d), x: toB64u(point.subarray(1, 1 + size)), y: toB64u(point.subarray(1 + size)) };
  return fromPrivate(algorithm, createPrivateKey({ key: jwk, format: 'jwk' }));
}

/** ECDSA over `digest` as given (truncated to the field size per FIPS 186-4 if longer); DER SEQUENCE { r, s }. */
export function ecdsaSignDigest(key: AsymmetricKey, digest: Uint8Array): Uint8Array {
  const alg = ecAlgorithm(key);
  if (digest.length === 0) throw new AsymmetricError('empty digest');
  return noble(alg).sign(digest, ecScalar(key), { prehash: false, format: 'der' });
}

/** ECDH: the X coordinate of d·peer (`peer` uncompressed `04 ‖ X ‖ Y`). */
export function ecdh(key: AsymmetricKey, peer: Uint8Array): Uint8Array {
  const alg = ecAlgorithm(key);
  const size = EC_CURVE[alg].fieldBytes;
  if (peer.length !== 1 + 2 * size || peer[0] !== 0x04) throw new AsymmetricError(`peer point must be 04‖X‖Y of ${1 + 2 * size} bytes`);
  const dh = createECDH(EC_CURVE[alg].nodeName);
  dh.setPrivateKey(ecScalar(key));
  try {
    return new Uint8Array(dh.computeSecret(peer));
  } catch (err) {
    throw new AsymmetricError('peer point is not on the curve', { cause: err });
  }
}

/** DER ECDSA signature → fixed-length r ‖ s. */
export function ecdsaDerToRaw(der: Uint8Array, fieldBytes: number): Uint8Array {
  const fail = (): never => {
    throw new AsymmetricError('not a DER ECDSA signature');
  };
  if (der[0] !== 0x30 || der.length < 8) fail();
  let i = der[1] & 0x80 ? 2 + (der[1] & 0x7f) : 2;
  const out = new Uint8Array(2 * fieldBytes);
  for (let k = 0; k < 2; k++) {
    if (der[i] !== 0x02) fail();
    const len = der[i + 1];
    let v = der.subarray(i + 2, i + 2 + len);
    while (v.length > fieldBytes && v[0] === 0) v = v.subarray(1);
    if (v.length > fieldBytes || i + 2 + len > der.length) fail();
    out.set(v, (k + 1) * fieldBytes - v.length);
    i += 2 + len;
  }
  return out;
}

/** Fixed-length r ‖ s → DER SEQUENCE { INTEGER r, INTEGER s }. */
export function ecdsaRawToDer(raw: Uint8Array): Uint8Array {
  if (raw.length === 0 || raw.length % 2) throw new AsymmetricError('r‖s must have an even, non-zero length');
  const int = (v: Uint8Array): number[] => {
    let i = 0;
    while (i < v.length - 1 && v[i] === 0) i++;
    const body = [...v.subarray(i)];
    if (body[0] & 0x80) body.unshift(0);
    return [0x02, body.length, ...body];
  };
  const half = raw.length / 2;
  const body = [...int(raw.subarray(0, half)), ...int(raw.subarray(half))];
  const len = body.length < 0x80 ? [body.length] : [0x81, body.length];
  return Uint8Array.from([0x30, ...len, ...body]);
}

/** Ed25519 signature over the message itself (PureEdDSA). */
export function ed25519Sign(key: AsymmetricKey, message: Uint8Array): Uint8Array {
  if (key.algorithm !== 'ed25519') throw new AsymmetricError(`${key.algorithm} is not an Ed25519 key`);
  return new Uint8Array(nodeSign(null, message, key.privateKey));
}

/** X25519: the 32-byte shared secret with a raw 32-byte peer public key. */
export function x25519(key: AsymmetricKey, peer: Uint8Array): Uint8Array {
  if (key.algorithm !== 'x25519') throw new AsymmetricError(`${key.algorithm} is not an X25519 key`);
  if (peer.length !== 32) throw new AsymmetricError('X25519 peer key must be 32 bytes');
  const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: toB64u(peer) }, format: 'jwk' });
  try {
    return new Uint8Array(diffieHellman({ privateKey: key.privateKey, publicKey }));
  } catch (err) {
    throw new AsymmetricError('X25519 with this peer key failed', { cause: err });
  }
}

/** Raw 32-byte public key of an Ed25519/X25519 key. */
export function okpPublicRaw(key: AsymmetricKey): Uint8Array {
  if (key.algorithm !== 'ed25519' && key.algorithm !== 'x25519') throw new AsymmetricError(`${key.algorithm} is not an Ed25519/X25519 key`);
  return b64u(key.publicKey.export({ format: 'jwk' }).x);
}

/** An Ed25519/X25519 key from its raw 32-byte private key. */
export function okpFromRaw(algorithm: 'ed25519' | 'x25519', secret: Uint8Array): AsymmetricKey {
  if (secret.length !== 32) throw new AsymmetricError(`${algorithm} private key must be 32 bytes`);
  const pub = publicFromSeed(algorithm, secret);
  const jwk = { kty: 'OKP', crv: algorithm === 'ed25519' ? 'Ed25519' : 'X25519', d: toB64u(secret), x: toB64u(pub) };
  return fromPrivate(algorithm, createPrivateKey({ key: jwk, format: 'jwk' }));
}

/** PKCS#8 prefixes for a bare 32-byte OKP private key (RFC 8410 §7), to let node derive the public key. */
const PKCS8_PREFIX = { ed25519: '302e020100300506032b657004220420', x25519: '302e020100300506032b656e04220420' } as const;

function publicFromSeed(algorithm: 'ed25519' | 'x25519', secret: Uint8Array): Uint8Array {
  const der = Buffer.concat([Buffer.from(PKCS8_PREFIX[algorithm], 'hex'), secret]);
  const pub = createPublicKey(createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }));
  return b64u(pub.export({ format: 'jwk' }).x);
}
