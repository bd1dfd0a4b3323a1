// PIN and PUK: values, retry counters (persistent) and the PIN-verified flag (volatile), with the blocking
// rules of ISO 7816-4 §7.5 (63Cx tries left, 6983 blocked).

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { bytesEqual } from './hex.js';
import { MAX_SECRET_LENGTH } from './profile.js';

export type CheckResult = { outcome: 'ok' } | { outcome: 'wrong'; retriesLeft: number } | { outcome: 'blocked' };

/** A salted SHA-256 of a value: enough to compare a candidate, useless for recovering the value without a search. */
export interface SaltedDigest {
  readonly salt: Uint8Array;
  readonly sha256: Uint8Array;
}

export const DIGEST_SALT_LENGTH = 16;

/** SHA-256(salt ‖ value). */
export function saltedSha256(salt: Uint8Array, value: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(salt).update(value).digest());
}

/**
 * One reference datum with its retry counter (the PIN or the PUK). The value is known in plaintext unless the
 * secret was loaded from a salted digest (a state file written without a crypto device); comparison works
 * either way, and setting a new value makes it known again.
 */
export class Secret {
  private plain: Uint8Array | null;
  /** Computed once per value (a fresh salt each time would make every save differ). */
  private digest: SaltedDigest | null = null;
  retriesLeft: number;
  readonly maxRetries: number;

  constructor(value: Uint8Array, maxRetries: number, retriesLeft = maxRetries) {
    this.plain = value;
    this.maxRetries = maxRetries;
    this.retriesLeft = retriesLeft;
  }

  /** A secret of which only a salted digest is known. */
  static fromDigest(digest: SaltedDigest, maxRetries: number, retriesLeft: number): Secret {
    const s = new Secret(new Uint8Array(0), maxRetries, retriesLeft);
    s.plain = null;
    s.digest = digest;
    return s;
  }

  /** The plaintext value, or null when only its salted digest is known. */
  get known(): Uint8Array | null {
    return this.plain;
  }

  /** The plaintext value; only for secrets that are never loaded from a digest (applets that seal theirs). */
  get value(): Uint8Array {
    if (!this.plain) throw new Error('only a salted digest of this secret is known');
    return this.plain;
  }

  set value(next: Uint8Array) {
    this.plain = next;
    this.digest = null;
  }

  /** A salted digest of the value (made with a random salt the first time it is asked for). */
  saltedDigest(): SaltedDigest {
    if (!this.digest) {
      const salt = new Uint8Array(randomBytes(DIGEST_SALT_LENGTH));
      this.digest = { salt, sha256: saltedSha256(salt, this.plain!) };
    }
    return this.digest;
  }

  get blocked(): boolean {
    return this.retriesLeft === 0;
  }

  /**
   * Compares a candidate. The counter is decremented before the answer is known to the caller and reset on a
   * match, as a real card commits its counter before comparing (the caller persists the state before replying).
   */
  check(candidate: Uint8Array): CheckResult {
    if (this.blocked) return { outcome: 'blocked' };
    if (this.matches(candidate)) {
      this.retriesLeft = this.maxRetries;
      return { outcome: 'ok' };
    }
    this.retriesLeft -= 1;
    return { outcome: 'wrong', retriesLeft: this.retriesLeft };
  }

  private matches(candidate: Uint8Array): boolean {
    if (this.plain) return bytesEqual(candidate, this.plain);
    const { salt, sha256 } = this.digest!;
    return timingSafeEqual(saltedSha256(salt, candidate), sha256);
  }
}

export interface PinState {
  /** Replaced as a whole when the state file is loaded. */
  pin: Secret;
  puk: Secret;
  readonly minLength: number;
  /** Set by a successful VERIFY, cleared by reset, a failed VERIFY, or VERIFY with P1=FF. */
  verified: boolean;
}

/**
 * Decodes one PIN block: the PIN bytes, optionally right-padded with FF up to 8 bytes (PIV-style blocks are
 * accepted as well as bare PINs). Returns null when the result is empty or longer than 8 bytes.
 */
export function decodePinBlock(block: Uint8Array): Uint8Array | null {
  if (block.length === 0 || block.length > MAX_SECRET_LENGTH) return null;
  let end = block.length;
  while (end > 0 && block[end - 1] === 0xff) end--;
  return end === 0 ? null : block.slice(0, end);
}

/** A new PIN/PUK value must be minLength..8 printable ASCII bytes, like the profile's. */
export function isValidNewSecret(value: Uint8Array, minLength: number): boolean {
  return value.length >= minLength && value.length <= MAX_SECRET_LENGTH && value.every((b) => b >= 0x20 && b <= 0x7e);
}
