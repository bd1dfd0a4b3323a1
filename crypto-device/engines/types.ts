// The engine interface shared by the native and noble back ends: streaming SHA-256 and AES-256-CBC with zero padding.

/** The selectable engines: node:crypto (the default, fast) and the pure-JS @noble libraries. */
export type EngineName = 'native' | 'noble';

/** Here rather than in the registry (index.ts), so checking a name does not load @noble's AES tables (~0.1 s). */
export const ENGINE_NAMES: readonly EngineName[] = ['native', 'noble'];

/** Incremental SHA-256 (FIPS 180-4). `digest()` may be called once. */
export interface HashStream {
  update(data: Uint8Array): void;
  digest(): Uint8Array;
}

/**
 * One CBC pass (SP 800-38A §6.2) fed in pieces of any length; chaining carries across `update` calls.
 * `update` returns the whole blocks it could finish (possibly none). `final` zero-pads a trailing partial block
 * (the device's rule, docs/crypto-device.md "AES-256-CBC"), returns its output and ends the stream.
 */
export interface CipherStream {
  update(data: Uint8Array): Uint8Array;
  final(): Uint8Array;
}

export type CipherDirection = 'encrypt' | 'decrypt';

export interface CryptoEngine {
  readonly name: EngineName;
  /** One-shot SHA-256. */
  sha256(data: Uint8Array): Uint8Array;
  createSha256(): HashStream;
  /** AES-256-CBC with a 32-byte key and 16-byte IV; no PKCS#7, zero padding, nothing stripped on decrypt. */
  createAesCbc(direction: CipherDirection, key: Uint8Array, iv: Uint8Array): CipherStream;
  /** One-shot form: output is roundup16(data.length) bytes. */
  aesCbc(key: Uint8Array, iv: Uint8Array): { encrypt(data: Uint8Array): Uint8Array; decrypt(data: Uint8Array): Uint8Array };
}
