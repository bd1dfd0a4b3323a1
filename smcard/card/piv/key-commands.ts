// GENERATE ASYMMETRIC KEY PAIR (47, SP 800-73-4 Part 2 §3.3.2) and Yubico's IMPORT KEY (FE): both need the
// management key, replace the slot's key (its certificate stays until rewritten) and persist it at once.

import type { CommandApdu } from '../apdu.js';
import {
  AsymmetricError,
  ecFromScalar,
  ecPublicPoint,
  generateKey,
  isEc,
  isRsa,
  rsaFromPrimes,
  rsaPublicParts,
  type AsymmetricKey,
} from '../asymmetric/index.js';
import { berTlv, expectSingleTlv, findTlv, parseTlvsOrSw, type Tlv } from '../ber-tlv.js';
import type { CardContext } from '../card-context.js';
import { SW, SwError, ok, type CardResponse } from '../status-words.js';
import { ASYM_ALG, defaultPinPolicy, isKeySlot, PIN_POLICY_BY_BYTE, TOUCH_POLICY_BY_BYTE, type PinPolicy, type TouchPolicy } from './constants.js';
import type { PivState } from './piv-state.js';

export async function generateKeyPair(state: PivState, ctx: CardContext, apdu: CommandApdu): Promise<CardResponse> {
  if (apdu.p1 !== 0x00 || !isKeySlot(apdu.p2)) throw new SwError(SW.INCORRECT_P1P2, 'GENERATE: P1 00, P2 a key slot');
  requireAdmin(state);
  const items = parseTlvsOrSw(expectSingleTlv(apdu.data, 0xac, 'GENERATE'), 'control reference template');
  const algId = findTlv(items, 0x80);
  if (!algId || algId.length !== 1) throw new SwError(SW.INCORRECT_DATA, 'GENERATE needs 80 01 <algorithm>');
  const algorithm = ASYM_ALG[algId[0]];
  if (!algorithm) throw new SwError(SW.INCORRECT_DATA, `algorithm ${algId[0].toString(16)} not supported`);
  const policies = readPolicies(items, apdu.p2);
  const key = await generateKey(algorithm);
  state.keys.set(apdu.p2, { key, ...policies });
  ctx.markDirty();
  return ok(publicKeyTemplate(key));
}

/** `7F49 { 81 n, 82 e }` for RSA, `7F49 { 86 04‖X‖Y }` for EC. */
export function publicKeyTemplate(key: AsymmetricKey): Uint8Array {
  if (isRsa(key.algorithm)) {
    const { modulus, exponent } = rsaPublicParts(key);
    return berTlv(0x7f49, berTlv(0x81, modulus), berTlv(0x82, exponent));
  }
  return berTlv(0x7f49, berTlv(0x86, ecPublicPoint(key)));
}

/** IMPORT KEY `FE <alg> <slot>`: RSA as 01 p, 02 q (03–05 CRT parts are derived again), EC as 06 d. */
export function importKey(state: PivState, ctx: CardContext, apdu: CommandApdu): CardResponse {
  if (!isKeySlot(apdu.p2)) throw new SwError(SW.INCORRECT_P1P2, `key reference ${apdu.p2.toString(16)} not available`);
  const algorithm = ASYM_ALG[apdu.p1];
  if (!algorithm) throw new SwError(SW.INCORRECT_P1P2, `algorithm ${apdu.p1.toString(16)} not supported`);
  requireAdmin(state);
  const items = parseTlvsOrSw(apdu.data, 'IMPORT KEY');
  const policies = readPolicies(items, apdu.p2);
  let key: AsymmetricKey;
  try {
    if (isRsa(algorithm)) {
      const p = findTlv(items, 0x01);
      const q = findTlv(items, 0x02);
      if (!p || !q) throw new SwError(SW.INCORRECT_DATA, 'RSA import needs 01 p and 02 q');
      key = rsaFromPrimes(algorithm, Uint8Array.of(0x01, 0x00, 0x01), p, q);
    } else if (isEc(algorithm)) {
      const d = findTlv(items, 0x06);
      if (!d) throw new SwError(SW.INCORRECT_DATA, 'EC import needs 06 d');
      key = ecFromScalar(algorithm, d);
    } else {
      throw new SwError(SW.INCORRECT_P1P2);
    }
  } catch (err) {
    if (err instanceof AsymmetricError) throw new SwError(SW.INCORRECT_DATA, err.message);
    throw err;
  }
  state.keys.set(apdu.p2, { key, ...policies });
  ctx.markDirty();
  return ok();
}

export function requireAdmin(state: PivState): void {
  if (!state.mgmtAuthenticated) throw new SwError(SW.SECURITY_STATUS_NOT_SATISFIED, 'needs management key authentication');
}

/** Yubico `AA` PIN policy and `AB` touch policy; `00` or absent means the slot's default. */
function readPolicies(items: readonly Tlv[], slot: number): { pinPolicy: PinPolicy; touchPolicy: TouchPolicy } {
  const aa = findTlv(items, 0xaa);
  const ab = findTlv(items, 0xab);
  const pick = <T>(v: Uint8Array | undefined, table: Readonly<Record<number, T>>, fallback: T, what: string): T => {
    if (v === undefined || (v.length === 1 && v[0] === 0)) return fallback;
    const found = v.length === 1 ? table[v[0]] : undefined;
    if (found === undefined) throw new SwError(SW.INCORRECT_DATA, `${what} policy not supported`);
    return found;
  };
  return { pinPolicy: pick(aa, PIN_POLICY_BY_BYTE, defaultPinPolicy(slot), 'PIN'), touchPolicy: pick(ab, TOUCH_POLICY_BY_BYTE, 'never' as TouchPolicy, 'touch') };
}
