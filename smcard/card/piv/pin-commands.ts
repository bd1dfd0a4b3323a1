// PIV PIN commands (SP 800-73-4 Part 2 §3.2.1–3.2.3): VERIFY (status query with no data, reset with P1=FF),
// CHANGE REFERENCE DATA for PIN and PUK, RESET RETRY COUNTER by PUK. References: 80 PIN, 81 PUK.

import type { CommandApdu } from '../apdu.js';
import type { CardContext } from '../card-context.js';
import type { Secret } from '../pin.js';
import { SW, SwError, ok, type CardResponse } from '../status-words.js';
import { pinCheckAnswer } from '../security-commands.js';
import { PIN_REF } from './constants.js';
import type { PivState } from './piv-state.js';

const BLOCK = 8;
const EMPTY = new Uint8Array(0);

export function verify(state: PivState, ctx: CardContext, apdu: CommandApdu): CardResponse {
  if (apdu.p2 !== PIN_REF.PIV_PIN) throw new SwError(SW.REFERENCE_NOT_FOUND, `VERIFY reference ${apdu.p2.toString(16)} not available`);
  if (apdu.p1 === 0xff) {
    if (apdu.data.length !== 0) throw new SwError(SW.WRONG_LENGTH, 'VERIFY P1=FF takes no data');
    state.pinVerified = false;
    state.pinFresh = false;
    return ok();
  }
  if (apdu.p1 !== 0x00) throw new SwError(SW.INCORRECT_P1P2);
  if (apdu.data.length === 0) {
    // Status query: spends no try.
    if (state.pin.blocked) throw new SwError(SW.AUTH_METHOD_BLOCKED);
    if (state.pinVerified) return ok();
    return { sw: SW.VERIFY_FAILED | state.pin.retriesLeft, data: EMPTY };
  }
  const candidate = pinBlock(apdu.data);
  const result = state.pin.check(candidate);
  state.pinVerified = result.outcome === 'ok';
  state.pinFresh = state.pinVerified;
  return pinCheckAnswer(ctx, state.pin, result, 'blocked');
}

export function changeReferenceData(state: PivState, ctx: CardContext, apdu: CommandApdu): CardResponse {
  if (apdu.p1 !== 0x00) throw new SwError(SW.INCORRECT_P1P2);
  const which = secretFor(state, apdu.p2);
  if (apdu.data.length !== 2 * BLOCK) throw new SwError(SW.WRONG_LENGTH, 'CHANGE REFERENCE DATA takes two 8-byte blocks');
  const next = newValue(apdu.data.subarray(BLOCK));
  const result = which.secret.check(pinBlock(apdu.data.subarray(0, BLOCK)));
  if (result.outcome === 'ok') {
    which.secret.value = next;
    if (which.isPin) state.pinVerified = true;
  } else if (which.isPin) {
    state.pinVerified = false;
    state.pinFresh = false;
  }
  return pinCheckAnswer(ctx, which.secret, result, 'blocked');
}

export function resetRetryCounter(state: PivState, ctx: CardContext, apdu: CommandApdu): CardResponse {
  if (apdu.p1 !== 0x00) throw new SwError(SW.INCORRECT_P1P2);
  if (apdu.p2 !== PIN_REF.PIV_PIN) throw new SwError(SW.REFERENCE_NOT_FOUND, 'RESET RETRY COUNTER resets the PIV PIN (80) only');
  if (apdu.data.length !== 2 * BLOCK) throw new SwError(SW.WRONG_LENGTH, 'RESET RETRY COUNTER takes PUK and new PIN, 8 bytes each');
  const next = newValue(apdu.data.subarray(BLOCK));
  const result = state.puk.check(pinBlock(apdu.data.subarray(0, BLOCK)));
  if (result.outcome === 'ok') {
    state.pin.value = next;
    state.pin.retriesLeft = state.pin.maxRetries;
  }
  return pinCheckAnswer(ctx, state.puk, result, 'blocked');
}

function secretFor(state: PivState, ref: number): { secret: Secret; isPin: boolean } {
  if (ref === PIN_REF.PIV_PIN) return { secret: state.pin, isPin: true };
  if (ref === PIN_REF.PUK) return { secret: state.puk, isPin: false };
  throw new SwError(SW.REFERENCE_NOT_FOUND, `reference ${ref.toString(16)} not available`);
}

/** A presented PIN block: 1..8 bytes, trailing FF padding removed (a wrong-length value simply fails to match). */
function pinBlock(block: Uint8Array): Uint8Array {
  if (block.length > BLOCK) throw new SwError(SW.INCORRECT_DATA, 'PIN block longer than 8 bytes');
  let end = block.length;
  while (end > 0 && block[end - 1] === 0xff) end--;
  return block.slice(0, end);
}

/** A new PIN or PUK: 6..8 bytes before the FF padding, none of them FF. */
function newValue(block: Uint8Array): Uint8Array {
  const value = pinBlock(block);
  if (value.length < 6 || value.includes(0xff)) throw new SwError(SW.INCORRECT_DATA, 'new value must be 6..8 bytes, FF-padded');
  return value;
}

