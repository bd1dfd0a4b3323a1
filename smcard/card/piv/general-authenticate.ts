// GENERAL AUTHENTICATE (87) on the asymmetric slots: raw RSA (signature or decryption; the host pads), ECDSA
// over the host's digest (DER answer), ECDH with `85`. Checks: slot and algorithm (6A86), key present (6A82),
// PIN policy (6982; 9C wants a VERIFY right before each use). Key 9B goes to the management-key module.

import type { CommandApdu } from '../apdu.js';
import { AsymmetricError, ecdh, ecdsaSignDigest, isEc, isRsa, rsaRawPrivate } from '../asymmetric/index.js';
import { berTlv, expectSingleTlv, findTlv, parseTlvsOrSw } from '../ber-tlv.js';
import type { CardContext } from '../card-context.js';
import { SW, SwError, ok, type CardResponse } from '../status-words.js';
import { ASYM_ALG, isKeySlot, KEY_REF } from './constants.js';
import { authenticateManagementKey } from './management-key.js';
import type { PivState, SlotKey } from './piv-state.js';

export function generalAuthenticate(state: PivState, ctx: CardContext, apdu: CommandApdu): CardResponse {
  const items = parseTlvsOrSw(expectSingleTlv(apdu.data, 0x7c, 'GENERAL AUTHENTICATE'), 'dynamic authentication template');
  if (apdu.p2 === KEY_REF.MANAGEMENT) return authenticateManagementKey(state, ctx, apdu.p1, items);
  if (!isKeySlot(apdu.p2)) throw new SwError(SW.INCORRECT_P1P2, `key reference ${apdu.p2.toString(16)} not available`);
  const algorithm = ASYM_ALG[apdu.p1];
  if (!algorithm) throw new SwError(SW.INCORRECT_P1P2, `algorithm ${apdu.p1.toString(16)} not supported`);
  const slot = state.keys.get(apdu.p2);
  if (!slot) throw new SwError(SW.FILE_NOT_FOUND, `no key in ${apdu.p2.toString(16)}`);
  if (slot.key.algorithm !== algorithm) throw new SwError(SW.INCORRECT_P1P2, `key ${apdu.p2.toString(16)} is ${slot.key.algorithm}`);
  const response = findTlv(items, 0x82);
  const challenge = findTlv(items, 0x81);
  const exponentiation = findTlv(items, 0x85);
  if (response === undefined || response.length !== 0) throw new SwError(SW.INCORRECT_DATA, 'an empty 82 must ask for the response');
  if ((challenge === undefined) === (exponentiation === undefined)) throw new SwError(SW.INCORRECT_DATA, 'give either 81 or 85');
  checkPinPolicy(state, slot);
  try {
    let result: Uint8Array;
    if (challenge !== undefined) {
      if (isRsa(algorithm)) result = rsaRawPrivate(slot.key, challenge);
      else if (isEc(algorithm)) result = ecdsaSignDigest(slot.key, challenge);
      else throw new SwError(SW.INCORRECT_P1P2);
    } else {
      if (!isEc(algorithm)) throw new SwError(SW.INCORRECT_DATA, 'key agreement needs an EC key');
      result = ecdh(slot.key, exponentiation!);
    }
    return ok(berTlv(0x7c, berTlv(0x82, result)));
  } catch (err) {
    if (err instanceof AsymmetricError) throw new SwError(SW.INCORRECT_DATA, err.message);
    throw err;
  }
}

/** `once`: the PIN verified in this session; `always`: a VERIFY since the last use of such a key. */
function checkPinPolicy(state: PivState, slot: SlotKey): void {
  if (slot.pinPolicy === 'never') return;
  if (!state.pinVerified) throw new SwError(SW.SECURITY_STATUS_NOT_SATISFIED, 'PIN not verified');
  if (slot.pinPolicy === 'always') {
    if (!state.pinFresh) throw new SwError(SW.SECURITY_STATUS_NOT_SATISFIED, 'this key needs a VERIFY right before each use');
    state.pinFresh = false;
  }
}
