// Card management key (9B) authentication through GENERAL AUTHENTICATE (SP 800-73-4 Part 2 §3.2.4, Appendix
// A.1–A.3): witness/challenge mutual authentication, external authentication, and the bare challenge request
// OpenSC uses as a random source. One-block ECB with the 3DES or AES key; sets the admin flag.

import { createCipheriv, createDecipheriv, timingSafeEqual } from 'node:crypto';
import { berTlv, findTlv, type Tlv } from '../ber-tlv.js';
import type { CardContext } from '../card-context.js';
import { SW, SwError, ok, type CardResponse } from '../status-words.js';
import { MGMT_ALG, mgmtAlgorithmById } from './constants.js';
import type { PivState } from './piv-state.js';

export function mgmtEncrypt(state: PivState, block: Uint8Array): Uint8Array {
  return ecb(state, block, true);
}

function ecb(state: PivState, block: Uint8Array, encrypt: boolean): Uint8Array {
  const { cipher } = MGMT_ALG[state.mgmt.algorithm];
  const c = encrypt ? createCipheriv(cipher, state.mgmt.value, null) : createDecipheriv(cipher, state.mgmt.value, null);
  c.setAutoPadding(false);
  return new Uint8Array(Buffer.concat([c.update(block), c.final()]));
}

/** GENERAL AUTHENTICATE with key reference 9B; `items` is the content of the `7C` template. */
export function authenticateManagementKey(state: PivState, ctx: CardContext, algId: number, items: readonly Tlv[]): CardResponse {
  const algorithm = mgmtAlgorithmById(algId);
  if (algorithm !== state.mgmt.algorithm) {
    state.challenge = null;
    throw new SwError(SW.INCORRECT_P1P2, `management key is ${state.mgmt.algorithm}, not algorithm ${algId.toString(16)}`);
  }
  const size = MGMT_ALG[algorithm].block;
  const witness = findTlv(items, 0x80);
  const challenge = findTlv(items, 0x81);
  const response = findTlv(items, 0x82);
  const pending = state.challenge;
  state.challenge = null;

  // Step 1 of mutual authentication: an empty witness asks the card for E_K(W).
  if (witness !== undefined && witness.length === 0 && challenge === undefined && response === undefined) {
    const plain = ctx.random(size);
    state.challenge = { kind: 'witness', plain };
    state.mgmtAuthenticated = false;
    return ok(berTlv(0x7c, berTlv(0x80, mgmtEncrypt(state, plain))));
  }
  // Step 2: the host returns W decrypted and sends its challenge C; the card answers E_K(C).
  // yubico-piv-tool leaves out the empty 82 that asks for the response; both forms are accepted.
  if (witness !== undefined && witness.length > 0 && challenge !== undefined && challenge.length > 0 && (response === undefined || response.length === 0)) {
    if (!pending || pending.kind !== 'witness' || witness.length !== size || !timingSafeEqual(witness, pending.plain)) {
      state.mgmtAuthenticated = false;
      throw new SwError(SW.SECURITY_STATUS_NOT_SATISFIED, 'witness does not match');
    }
    if (challenge.length !== size) throw new SwError(SW.INCORRECT_DATA, `challenge must be ${size} bytes`);
    state.mgmtAuthenticated = true;
    return ok(berTlv(0x7c, berTlv(0x82, mgmtEncrypt(state, challenge))));
  }
  // External authentication, step 1 (also OpenSC's random source): an empty challenge asks for a random block.
  if (challenge !== undefined && challenge.length === 0 && witness === undefined && response === undefined) {
    const plain = ctx.random(size);
    state.challenge = { kind: 'challenge', plain };
    return ok(berTlv(0x7c, berTlv(0x81, plain)));
  }
  // External authentication, step 2: the host proves the key with E_K(R).
  if (response !== undefined && response.length > 0 && witness === undefined && challenge === undefined) {
    const expected = pending?.kind === 'challenge' ? mgmtEncrypt(state, pending.plain) : null;
    if (!expected || response.length !== size || !timingSafeEqual(response, expected)) {
      state.mgmtAuthenticated = false;
      throw new SwError(SW.SECURITY_STATUS_NOT_SATISFIED, 'response does not match');
    }
    state.mgmtAuthenticated = true;
    return ok();
  }
  throw new SwError(SW.INCORRECT_DATA, 'unsupported GENERAL AUTHENTICATE template for the management key');
}
