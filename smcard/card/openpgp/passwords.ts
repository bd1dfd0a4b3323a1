// VERIFY, CHANGE REFERENCE DATA and RESET RETRY COUNTER for PW1 (modes 81 and 82), PW3 (83) and the resetting
// code, with the counters DO C4 reports and the access checks the other commands use.

import type { CommandApdu } from '../apdu.js';
import type { CardContext } from '../card-context.js';
import { bytesEqual } from '../hex.js';
import { SW, SwError, ok, type CardResponse } from '../status-words.js';
import { MAX_TRIES, PW1_MIN, PW3_MIN, PW_MAX } from './constants.js';
import type { OpenPgpState, Password } from './state.js';

/** Password references in P2. */
export const PW_REF = { PW1_SIGN: 0x81, PW1_OTHER: 0x82, PW3: 0x83 } as const;

export function requirePw1Sign(state: OpenPgpState): void {
  if (!state.verified.pw1Sign) throw new SwError(SW.SECURITY_STATUS_NOT_SATISFIED, 'PW1 (81) not verified');
}

export function requirePw1Other(state: OpenPgpState): void {
  if (!state.verified.pw1Other) throw new SwError(SW.SECURITY_STATUS_NOT_SATISFIED, 'PW1 (82) not verified');
}

export function requirePw3(state: OpenPgpState): void {
  if (!state.verified.pw3) throw new SwError(SW.SECURITY_STATUS_NOT_SATISFIED, 'PW3 not verified');
}

/**
 * Compares a candidate with a password; a mismatch costs a try (committed before the answer) and answers 63Cx,
 * a blocked password 6983.
 */
function check(ctx: CardContext, pw: Password, candidate: Uint8Array): void {
  if (pw.tries === 0) throw new SwError(SW.AUTH_METHOD_BLOCKED, 'password blocked');
  if (bytesEqual(candidate, pw.value)) {
    if (pw.tries !== MAX_TRIES) {
      pw.tries = MAX_TRIES;
      ctx.markDirty();
    }
    return;
  }
  pw.tries -= 1;
  ctx.markDirty();
  throw new SwError(SW.VERIFY_FAILED | pw.tries, 'wrong password');
}

function clearFor(state: OpenPgpState, ref: number): void {
  if (ref === PW_REF.PW1_SIGN) state.verified.pw1Sign = false;
  else if (ref === PW_REF.PW1_OTHER) state.verified.pw1Other = false;
  else state.verified.pw3 = false;
}

/** VERIFY `00 20 00|FF 81|82|83 [Lc PIN]`. */
export function verify(state: OpenPgpState, ctx: CardContext, apdu: CommandApdu): CardResponse {
  const ref = apdu.p2;
  if ((apdu.p1 !== 0x00 && apdu.p1 !== 0xff) || ref < 0x81 || ref > 0x83) throw new SwError(SW.INCORRECT_P1P2);
  if (apdu.p1 === 0xff) {
    // Reset the verification state (OpenSC's logout).
    if (apdu.data.length !== 0) throw new SwError(SW.WRONG_LENGTH);
    clearFor(state, ref);
    return ok();
  }
  const pw = ref === PW_REF.PW3 ? state.pw3 : state.pw1;
  if (apdu.data.length === 0) {
    // Status query: verified, or the tries left.
    const verified = ref === PW_REF.PW1_SIGN ? state.verified.pw1Sign : ref === PW_REF.PW1_OTHER ? state.verified.pw1Other : state.verified.pw3;
    if (verified) return ok();
    if (pw.tries === 0) throw new SwError(SW.AUTH_METHOD_BLOCKED);
    throw new SwError(SW.VERIFY_FAILED | pw.tries);
  }
  clearFor(state, ref);
  check(ctx, pw, apdu.data);
  if (ref === PW_REF.PW1_SIGN) state.verified.pw1Sign = true;
  else if (ref === PW_REF.PW1_OTHER) state.verified.pw1Other = true;
  else state.verified.pw3 = true;
  return ok();
}

/** CHANGE REFERENCE DATA `00 24 00 81|83 Lc old‖new`: the card splits at the current password's length. */
export function changeReferenceData(state: OpenPgpState, ctx: CardContext, apdu: CommandApdu): CardResponse {
  if (apdu.p1 !== 0x00 || (apdu.p2 !== PW_REF.PW1_SIGN && apdu.p2 !== PW_REF.PW3)) throw new SwError(SW.INCORRECT_P1P2);
  const isPw3 = apdu.p2 === PW_REF.PW3;
  const pw = isPw3 ? state.pw3 : state.pw1;
  const oldLength = pw.value.length;
  if (apdu.data.length <= oldLength) {
    // Too short to hold the old and a new password: a wrong presentation as far as the counter goes.
    check(ctx, pw, apdu.data);
    throw new SwError(SW.WRONG_LENGTH, 'no new password');
  }
  check(ctx, pw, apdu.data.subarray(0, oldLength));
  const next = apdu.data.slice(oldLength);
  checkLength(next, isPw3 ? PW3_MIN : PW1_MIN);
  pw.set(next, MAX_TRIES);
  ctx.markDirty();
  return ok();
}

/** RESET RETRY COUNTER `00 2C 00 81 Lc RC‖new PW1` or `00 2C 02 81 Lc new PW1` (after PW3). */
export function resetRetryCounter(state: OpenPgpState, ctx: CardContext, apdu: CommandApdu): CardResponse {
  if (apdu.p2 !== PW_REF.PW1_SIGN || (apdu.p1 !== 0x00 && apdu.p1 !== 0x02)) throw new SwError(SW.INCORRECT_P1P2);
  let next: Uint8Array;
  if (apdu.p1 === 0x02) {
    requirePw3(state);
    next = apdu.data.slice();
  } else {
    if (!state.rc.isSet) throw new SwError(SW.SECURITY_STATUS_NOT_SATISFIED, 'no resetting code set');
    const rcLength = state.rc.value.length;
    if (apdu.data.length <= rcLength) {
      check(ctx, state.rc, apdu.data);
      throw new SwError(SW.WRONG_LENGTH, 'no new PW1');
    }
    check(ctx, state.rc, apdu.data.subarray(0, rcLength));
    next = apdu.data.slice(rcLength);
  }
  checkLength(next, PW1_MIN);
  state.pw1.set(next, MAX_TRIES);
  ctx.markDirty();
  return ok();
}

function checkLength(pw: Uint8Array, min: number): void {
  if (pw.length < min || pw.length > PW_MAX) throw new SwError(SW.INCORRECT_DATA, `password must be ${min}..${PW_MAX} bytes`);
}
