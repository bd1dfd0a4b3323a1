// PIN and PUK: values, retry counters (persistent) and the PIN-verified flag (volatile), with the blocking
// rules of ISO 7816-4 §7.5 (63Cx tries left, 6983 blocked).

import { bytesEqual } from './hex.js';
import { MAX_SECRET_LENGTH } from './profile.js';

export type CheckResult = { outcome: 'ok' } | { outcome: 'wrong'; retriesLeft: number } | { outcome: 'blocked' };

/** One reference datum with its retry counter (the PIN or the PUK). */
export class Secret {
  value: Uint8Array;
  retriesLeft: number;
  readonly maxRetries: number;

  constructor(value: Uint8Array, maxRetries: number, retriesLeft = maxRetries) {
    this.value = value;
    this.maxRetries = maxRetries;
    this.retriesLeft = retriesLeft;
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
    if (bytesEqual(candidate, this.value)) {
      this.retriesLeft = this.maxRetries;
      return { outcome: 'ok' };
    }
    this.retriesLeft -= 1;
    return { outcome: 'wrong', retriesLeft: this.retriesLeft };
  }
}

export interface PinState {
  readonly pin: Secret;
  readonly puk: Secret;
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
