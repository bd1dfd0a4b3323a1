// Asymmetric key pairs the card applets hold (RSA, NIST P-256/P-384, Ed25519, X25519) on node:crypto KeyObjects:
// generation, PKCS#8 round trip for the sealed key store, and raw public-key forms the card protocols send.

import { createPrivateKey, createPublicKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';

export type RsaAlgorithm = 'rsa1024' | 'rsa2048' | 'rsa3072' | 'rsa4096';
export type EcAlgorithm = 'p256' | 'p384';
export type KeyAlgorithm = RsaAlgorithm | EcAlgorithm | 'ed25519' | 'x25519';

export const KEY_ALGORITHMS: readonly KeyAlgorithm[] = ['rsa1024', 'rsa2048', 'rsa3072', 'rsa4096', 'p256', 'p384', 'ed25519', 'x25519'];

export interface AsymmetricKey {
  readonly algorithm: KeyAlgorithm;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

/** Input a key operation cannot use (block ≥ modulus, point not on the curve, wrong key type). */
export class AsymmetricError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AsymmetricError';
  }
}

export const RSA_BITS: Readonly<Record<RsaAlgorithm, number>> = { rsa1024: 1024, rsa2048: 2048, rsa3072: 3072, rsa4096: 4096 };
export const EC_CURVE: Readonly<Record<EcAlgorithm, { nodeName: string; fieldBytes: number }>> = {
  p256: { nodeName: 'prime256v1', fieldBytes: 32 },
  p384: { nodeName: 'secp384r1', fieldBytes: 48 },
};

export function isRsa(alg: KeyAlgorithm): alg is RsaAlgorithm {
  return alg in RSA_BITS;
}

export function isEc(alg: KeyAlgorithm): alg is EcAlgorithm {
  return alg === 'p256' || alg === 'p384';
}

const generateKeyPairAsync = promisify(generateKeyPair);

/** A fresh key pair; off the event loop (RSA-4096 takes seconds). */
export async function generateKey(algorithm: KeyAlgorithm): Promise<AsymmetricKey> {
  let pair: { privateKey: KeyObject; publicKey: KeyObject };
  if (isRsa(algorithm)) pair = await generateKeyPairAsync('rsa', { modulusLength: RSA_BITS[algorithm], publicExponent: 65537 });
  else if (isEc(algorithm)) pair = await generateKeyPairAsync('ec', { namedCurve: EC_CURVE[algorithm].nodeName });
  else if (algorithm === 'ed25519') pair = await generateKeyPairAsync('ed25519');
  else pair = await generateKeyPairAsync('x25519');
  return { algorithm, ...pair };
}

/** The private key as PKCS#8 DER (what the key store seals). */
export function keyToPkcs8(key: AsymmetricKey): Uint8Array {
  return new Uint8Array(key.privateKey.export({ format: 'der', type: 'pkcs8' }));
}

/** Rebuilds a key from PKCS#8 DER, checking that it is of the algorithm claimed. */
export function keyFromPkcs8(algorithm: KeyAlgorithm, der: Uint8Array): AsymmetricKey {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: Buffer.from(der), format: 'der', type: 'pkcs8' });
  } catch (err) {
    throw new AsymmetricError(`not a PKCS#8 private key (${(err as Error).message})`, { cause: err });
  }
  return fromPrivate(algorithm, privateKey);
}

/** Wraps a private KeyObject after checking its type and size against `algorithm`. */
export function fromPrivate(algorithm: KeyAlgorithm, privateKey: KeyObject): AsymmetricKey {
  const details = privateKey.asymmetricKeyDetails ?? {};
  const type = privateKey.asymmetricKeyType;
  const fits = isRsa(algorithm)
    ? type === 'rsa' && details.modulusLength === RSA_BITS[algorithm]
    : isEc(algorithm)
      ? type === 'ec' && details.namedCurve === EC_CURVE[algorithm].nodeName
      : type === algorithm;
  if (!fits) throw new AsymmetricError(`key is ${type} ${details.modulusLength ?? details.namedCurve ?? ''}, not ${algorithm}`);
  return { algorithm, privateKey, publicKey: createPublicKey(privateKey) };
}

/** SubjectPublicKeyInfo DER (for certificates and fingerprints). */
export function spkiDer(key: AsymmetricKey): Uint8Array {
  return new Uint8Array(key.publicKey.export({ format: 'der', type: 'spki' }));
}

export function b64u(text: string | undefined): Uint8Array {
  if (text === undefined) throw new AsymmetricError('key component missing');
  return new Uint8Array(Buffer.from(text, 'base64url'));
}

export function toB64u(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64url');
}
