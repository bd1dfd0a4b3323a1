// GET DATA, PUT DATA (DA), SELECT DATA and GET NEXT DATA: the encodings of every data object the card offers
// and who may read or write each one.

import type { CommandApdu } from '../apdu.js';
import { berTlv, parseTlvsOrSw } from '../ber-tlv.js';
import type { CardContext } from '../card-context.js';
import { bytesEqual } from '../hex.js';
import { SW, SwError, ok, type CardResponse } from '../status-words.js';
import { concatBytes } from '../../../kernel/bytes.js';
import { KEY_SLOTS, SLOT_NUMBER, parseAttributes, type KeySlot } from './algorithm-attributes.js';
import { EXTENDED_CAPABILITIES, HISTORICAL_BYTES, MAX_APDU, MAX_CERTIFICATE, MAX_LANGUAGE, MAX_NAME, MAX_SPECIAL_DO, MAX_TRIES, PW_MAX, RC_MIN } from './constants.js';
import { requirePw1Other, requirePw3 } from './passwords.js';
import { PRIVATE_DOS, type OpenPgpState } from './state.js';

/** Tags as sent in P1-P2. */
export const TAG = {
  AID: 0x4f,
  LOGIN: 0x5e,
  NAME: 0x5b,
  LANGUAGE: 0x5f2d,
  SALUTATION: 0x5f35,
  CARDHOLDER: 0x65,
  URL: 0x5f50,
  HISTORICAL: 0x5f52,
  APPLICATION_DATA: 0x6e,
  DISCRETIONARY: 0x73,
  EXTENDED_LENGTH: 0x7f66,
  SECURITY_TEMPLATE: 0x7a,
  SIGNATURE_COUNTER: 0x93,
  CERTIFICATE: 0x7f21,
  GENERAL_FEATURES: 0x7f74,
  EXTENDED_CAPABILITIES: 0xc0,
  PW_STATUS: 0xc4,
  FINGERPRINTS: 0xc5,
  CA_FINGERPRINTS: 0xc6,
  GENERATION_TIMES: 0xcd,
  RESETTING_CODE: 0xd3,
  KEY_INFORMATION: 0xde,
  KDF: 0xf9,
} as const;

const SLOT_BY_OFFSET: readonly KeySlot[] = KEY_SLOTS;
/** C1..C3, C7..C9, CA..CC, CE..D0: per-slot DOs in slot order sig, dec, aut. */
const ATTR_TAGS = [0xc1, 0xc2, 0xc3];
const FPR_TAGS = [0xc7, 0xc8, 0xc9];
const CA_FPR_TAGS = [0xca, 0xcb, 0xcc];
const TIME_TAGS = [0xce, 0xcf, 0xd0];

/** 7F66: extended length information, max command and response bytes. */
function extendedLength(): Uint8Array {
  return berTlv(TAG.EXTENDED_LENGTH, [0x02, 0x02, MAX_APDU >> 8, MAX_APDU & 0xff, 0x02, 0x02, MAX_APDU >> 8, MAX_APDU & 0xff]);
}

/** C4: PW1 validity, max lengths of PW1, RC, PW3, and the three retry counters. */
export function pwStatus(state: OpenPgpState): Uint8Array {
  return Uint8Array.of(state.pw1Validity, PW_MAX, PW_MAX, PW_MAX, state.pw1.tries, state.rc.tries, state.pw3.tries);
}

function perSlot(state: OpenPgpState, pick: (slot: KeySlot) => Uint8Array): Uint8Array {
  return concatBytes(KEY_SLOTS.map((s) => pick(s)));
}

/** DE: key reference and origin (00 none, 01 generated, 02 imported) per slot. */
function keyInformation(state: OpenPgpState): Uint8Array {
  return concatBytes(KEY_SLOTS.map((s) => Uint8Array.of(SLOT_NUMBER[s], state.slots[s].origin)));
}

function counter(state: OpenPgpState): Uint8Array {
  const n = state.signatureCounter;
  return Uint8Array.of((n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff);
}

/** The application related data 6E, with its outer tag (hosts search it with a TLV finder). */
export function applicationRelatedData(state: OpenPgpState): Uint8Array {
  const discretionary = berTlv(
    TAG.DISCRETIONARY,
    berTlv(TAG.EXTENDED_CAPABILITIES, EXTENDED_CAPABILITIES),
    ...ATTR_TAGS.map((t, i) => berTlv(t, state.slots[SLOT_BY_OFFSET[i]].attributes)),
    berTlv(TAG.PW_STATUS, pwStatus(state)),
    berTlv(TAG.FINGERPRINTS, perSlot(state, (s) => state.slots[s].fingerprint)),
    berTlv(TAG.CA_FINGERPRINTS, perSlot(state, (s) => state.slots[s].caFingerprint)),
    berTlv(TAG.GENERATION_TIMES, perSlot(state, (s) => state.slots[s].time)),
    berTlv(TAG.KEY_INFORMATION, keyInformation(state)),
  );
  return berTlv(TAG.APPLICATION_DATA, berTlv(TAG.AID, state.aid()), berTlv(TAG.HISTORICAL, HISTORICAL_BYTES), extendedLength(), discretionary);
}

/** The value GET DATA answers for `tag`, or null (6A88). Read access is checked here. */
export function readDataObject(state: OpenPgpState, tag: number): Uint8Array | null {
  switch (tag) {
    case TAG.AID:
      return state.aid();
    case TAG.LOGIN:
      return state.login;
    case TAG.URL:
      return state.url;
    case TAG.HISTORICAL:
      return HISTORICAL_BYTES;
    case TAG.NAME:
      return state.name;
    case TAG.LANGUAGE:
      return state.language;
    case TAG.SALUTATION:
      return state.salutation;
    case TAG.CARDHOLDER:
      return berTlv(TAG.CARDHOLDER, berTlv(TAG.NAME, state.name), berTlv(TAG.LANGUAGE, state.language), berTlv(TAG.SALUTATION, state.salutation));
    case TAG.APPLICATION_DATA:
      return applicationRelatedData(state);
    case TAG.EXTENDED_LENGTH:
      return extendedLength();
    case TAG.SECURITY_TEMPLATE:
      return berTlv(TAG.SECURITY_TEMPLATE, berTlv(TAG.SIGNATURE_COUNTER, counter(state)));
    case TAG.SIGNATURE_COUNTER:
      return counter(state);
    case TAG.CERTIFICATE:
      return state.certificates[state.certOccurrence];
    case TAG.GENERAL_FEATURES:
      // No user-interaction (button) or display features.
      return berTlv(TAG.GENERAL_FEATURES, berTlv(0x81, [0x00]));
    case TAG.EXTENDED_CAPABILITIES:
      return EXTENDED_CAPABILITIES;
    case TAG.PW_STATUS:
      return pwStatus(state);
    case TAG.FINGERPRINTS:
      return perSlot(state, (s) => state.slots[s].fingerprint);
    case TAG.CA_FINGERPRINTS:
      return perSlot(state, (s) => state.slots[s].caFingerprint);
    case TAG.GENERATION_TIMES:
      return perSlot(state, (s) => state.slots[s].time);
    case TAG.KEY_INFORMATION:
      return keyInformation(state);
    case TAG.KDF:
      return state.kdf;
    case 0x0101:
    case 0x0102:
      return state.privateDos.get(tag) ?? new Uint8Array(0);
    case 0x0103:
      requirePw1Other(state);
      return state.privateDos.get(tag) ?? new Uint8Array(0);
    case 0x0104:
      requirePw3(state);
      return state.privateDos.get(tag) ?? new Uint8Array(0);
    default: {
      const i = ATTR_TAGS.indexOf(tag);
      if (i >= 0) return state.slots[SLOT_BY_OFFSET[i]].attributes;
      return null;
    }
  }
}

/** GET DATA `00 CA tag(2)`. */
export function getData(state: OpenPgpState, _ctx: CardContext, apdu: CommandApdu): CardResponse {
  const value = readDataObject(state, (apdu.p1 << 8) | apdu.p2);
  if (value === null) throw new SwError(SW.REFERENCE_NOT_FOUND, 'no such data object');
  return ok(value.slice());
}

/** PUT DATA `00 DA tag(2) Lc value`. */
export function putData(state: OpenPgpState, ctx: CardContext, apdu: CommandApdu): CardResponse {
  writeDataObject(state, (apdu.p1 << 8) | apdu.p2, apdu.data);
  ctx.markDirty();
  return ok();
}

function maxLength(value: Uint8Array, max: number): Uint8Array {
  if (value.length > max) throw new SwError(SW.WRONG_LENGTH, `value longer than ${max} bytes`);
  return value.slice();
}

function exactLength(value: Uint8Array, length: number): Uint8Array {
  if (value.length !== length) throw new SwError(SW.WRONG_LENGTH, `value must be ${length} bytes`);
  return value.slice();
}

/** Applies a PUT DATA after checking the access rule (PW3, or PW1 (82) for 0101/0103) and the encoding. */
export function writeDataObject(state: OpenPgpState, tag: number, value: Uint8Array): void {
  if (tag === 0x0101 || tag === 0x0103) requirePw1Other(state);
  else if (isWritable(tag)) requirePw3(state);
  else throw new SwError(tag === 0x4f || tag === 0x6e || tag === 0x5f52 || tag === 0xc0 ? SW.SECURITY_STATUS_NOT_SATISFIED : SW.REFERENCE_NOT_FOUND, 'data object cannot be written');
  switch (tag) {
    case TAG.NAME:
      state.name = maxLength(value, MAX_NAME);
      return;
    case TAG.LANGUAGE:
      state.language = maxLength(value, MAX_LANGUAGE);
      return;
    case TAG.SALUTATION:
      state.salutation = maxLength(value, 1);
      return;
    case TAG.LOGIN:
      state.login = maxLength(value, MAX_SPECIAL_DO);
      return;
    case TAG.URL:
      state.url = maxLength(value, MAX_SPECIAL_DO);
      return;
    case TAG.CERTIFICATE:
      state.certificates[state.certOccurrence] = maxLength(value, MAX_CERTIFICATE);
      return;
    case TAG.PW_STATUS:
      // Only byte 1 (PW1 validity) is writable; the rest of a full C4 is ignored.
      if (value.length < 1 || value.length > 7 || value[0] > 0x01) throw new SwError(SW.INCORRECT_DATA, 'C4 byte 1 must be 00 or 01');
      state.pw1Validity = value[0];
      return;
    case TAG.RESETTING_CODE:
      if (value.length === 0) state.rc.set(new Uint8Array(0), 0);
      else {
        if (value.length < RC_MIN || value.length > PW_MAX) throw new SwError(SW.INCORRECT_DATA, `resetting code must be ${RC_MIN}..${PW_MAX} bytes`);
        state.rc.set(value.slice(), MAX_TRIES);
      }
      return;
    case TAG.KDF:
      writeKdf(state, value);
      return;
    default:
      break;
  }
  if ((PRIVATE_DOS as readonly number[]).includes(tag)) {
    state.privateDos.set(tag, maxLength(value, MAX_SPECIAL_DO));
    return;
  }
  const offset = [ATTR_TAGS, FPR_TAGS, CA_FPR_TAGS, TIME_TAGS].map((list) => list.indexOf(tag));
  if (offset[0] >= 0) {
    const slot = SLOT_BY_OFFSET[offset[0]];
    if (parseAttributes(value, slot) === null) throw new SwError(SW.INCORRECT_DATA, 'algorithm attributes not supported');
    const s = state.slots[slot];
    if (!bytesEqual(s.attributes, value)) {
      // A key of the old algorithm no longer fits the slot: it is erased with what describes it.
      s.attributes = value.slice();
      state.setKey(slot, null, 0);
      s.fingerprint = new Uint8Array(20);
      s.time = new Uint8Array(4);
    }
    return;
  }
  if (offset[1] >= 0) state.slots[SLOT_BY_OFFSET[offset[1]]].fingerprint = exactLength(value, 20);
  else if (offset[2] >= 0) state.slots[SLOT_BY_OFFSET[offset[2]]].caFingerprint = exactLength(value, 20);
  else if (offset[3] >= 0) state.slots[SLOT_BY_OFFSET[offset[3]]].time = exactLength(value, 4);
}

function isWritable(tag: number): boolean {
  return (
    [TAG.NAME, TAG.LANGUAGE, TAG.SALUTATION, TAG.LOGIN, TAG.URL, TAG.CERTIFICATE, TAG.PW_STATUS, TAG.RESETTING_CODE, TAG.KDF, 0x0102, 0x0104].includes(tag as 0x5b) ||
    ATTR_TAGS.includes(tag) ||
    FPR_TAGS.includes(tag) ||
    CA_FPR_TAGS.includes(tag) ||
    TIME_TAGS.includes(tag)
  );
}

/**
 * KDF DO (F9): `81 01 00` turns it off; `81 01 03` (iterated and salted S2K) must carry the hash algorithm (82),
 * iteration count (83) and salts; with it, hosts send hashed PINs, and the hashes of the factory PINs it gives (87
 * for PW1, 88 for PW3) become the card's PINs, as they would be on a card set up with them.
 */
function writeKdf(state: OpenPgpState, value: Uint8Array): void {
  const items = parseTlvsOrSw(value, 'KDF data object');
  const algorithm = items.find((t) => t.tag === 0x81)?.value;
  if (algorithm?.length !== 1 || (algorithm[0] !== 0x00 && algorithm[0] !== 0x03)) throw new SwError(SW.INCORRECT_DATA, 'KDF algorithm must be 00 or 03');
  if (value.length > MAX_SPECIAL_DO) throw new SwError(SW.WRONG_LENGTH);
  if (algorithm[0] === 0x03) {
    for (const needed of [0x82, 0x83, 0x84]) if (!items.some((t) => t.tag === needed)) throw new SwError(SW.INCORRECT_DATA, `KDF DO lacks tag ${needed.toString(16)}`);
  }
  const pw1 = items.find((t) => t.tag === 0x87)?.value;
  const pw3 = items.find((t) => t.tag === 0x88)?.value;
  state.kdf = value.slice();
  if (pw1 && pw1.length > 0) state.pw1.set(pw1.slice(), MAX_TRIES);
  if (pw3 && pw3.length > 0) state.pw3.set(pw3.slice(), MAX_TRIES);
  // PINs are now presented in another form: what was verified in the old one no longer counts.
  state.clearVerification();
}

/** SELECT DATA `00 A5 occurrence 04 [60 04] 5C 02 7F 21`: which 7F21 GET/PUT DATA use. */
export function selectData(state: OpenPgpState, _ctx: CardContext, apdu: CommandApdu): CardResponse {
  if (apdu.p1 > 2 || apdu.p2 !== 0x04) throw new SwError(SW.INCORRECT_P1P2);
  let list = parseTlvsOrSw(apdu.data, 'SELECT DATA');
  if (list.length === 1 && list[0].tag === 0x60) list = parseTlvsOrSw(list[0].value, 'SELECT DATA');
  if (list.length !== 1 || list[0].tag !== 0x5c || !bytesEqual(list[0].value, Uint8Array.of(0x7f, 0x21))) {
    throw new SwError(SW.REFERENCE_NOT_FOUND, 'only the cardholder certificate 7F21 has occurrences');
  }
  state.certOccurrence = apdu.p1;
  return ok();
}

/** GET NEXT DATA `00 CC 7F 21`: the next occurrence of the certificate. */
export function getNextData(state: OpenPgpState, _ctx: CardContext, apdu: CommandApdu): CardResponse {
  if (((apdu.p1 << 8) | apdu.p2) !== TAG.CERTIFICATE) throw new SwError(SW.REFERENCE_NOT_FOUND);
  if (state.certOccurrence >= 2) throw new SwError(SW.REFERENCE_NOT_FOUND, 'no further occurrence');
  state.certOccurrence += 1;
  return ok(state.certificates[state.certOccurrence].slice());
}
