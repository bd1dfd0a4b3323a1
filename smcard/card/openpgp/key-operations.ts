// The private-key commands: GENERATE ASYMMETRIC KEY PAIR (generate / read public key), key import by PUT DATA
// (DB 3FFF), PSO:COMPUTE DIGITAL SIGNATURE, PSO:DECIPHER and INTERNAL AUTHENTICATE.

import type { CommandApdu } from '../apdu.js';
import * as asym from '../asymmetric/index.js';
import { berTlv, parseTlvsOrSw } from '../ber-tlv.js';
import type { CardContext } from '../card-context.js';
import { SW, SwError, ok, type CardResponse } from '../status-words.js';
import { SLOT_CRT, parseAttributes, type KeySlot, type PgpAlgorithm } from './algorithm-attributes.js';
import { requirePw1Other, requirePw1Sign, requirePw3 } from './passwords.js';
import { KEY_ORIGIN, type OpenPgpState } from './state.js';

/** The slot a one-element control reference template (`B6 00`, `B8 00`, `A4 00`, optionally with `84 01 nn`) names. */
function slotOfCrt(tag: number): KeySlot {
  for (const [slot, crt] of Object.entries(SLOT_CRT) as [KeySlot, number][]) if (crt === tag) return slot;
  throw new SwError(SW.INCORRECT_DATA, 'control reference template must be B6, B8 or A4');
}

function slotAlgorithm(state: OpenPgpState, slot: KeySlot): PgpAlgorithm {
  const algorithm = parseAttributes(state.slots[slot].attributes, slot);
  // PUT DATA only stores attributes parseAttributes accepts.
  if (algorithm === null) throw new SwError(SW.CONDITIONS_NOT_SATISFIED, 'slot has unsupported attributes');
  return algorithm;
}

/** 7F49 public key template: RSA modulus (81) and exponent (82), or the EC point (86; raw 32 bytes for 25519). */
export function publicKeyTemplate(key: asym.AsymmetricKey): Uint8Array {
  if (asym.isRsa(key.algorithm)) {
    const { modulus, exponent } = asym.rsaPublicParts(key);
    return berTlv(0x7f49, berTlv(0x81, modulus), berTlv(0x82, exponent));
  }
  const point = asym.isEc(key.algorithm) ? asym.ecPublicPoint(key) : asym.okpPublicRaw(key);
  return berTlv(0x7f49, berTlv(0x86, point));
}

/** GENERATE ASYMMETRIC KEY PAIR `00 47 80|81 00 Lc CRT`. */
export async function generateAsymmetricKeyPair(state: OpenPgpState, ctx: CardContext, apdu: CommandApdu): Promise<CardResponse> {
  if ((apdu.p1 !== 0x80 && apdu.p1 !== 0x81) || apdu.p2 !== 0x00) throw new SwError(SW.INCORRECT_P1P2);
  const crt = parseTlvsOrSw(apdu.data, 'control reference template');
  if (crt.length !== 1) throw new SwError(SW.INCORRECT_DATA, 'one control reference template expected');
  const slot = slotOfCrt(crt[0].tag);
  if (apdu.p1 === 0x81) {
    const key = state.slots[slot].key;
    if (key === null) throw new SwError(SW.REFERENCE_NOT_FOUND, 'no key in this slot');
    return ok(publicKeyTemplate(key));
  }
  requirePw3(state);
  if (!ctx.crypto) throw new SwError(SW.FUNCTION_NOT_SUPPORTED, 'no crypto device to protect the key with');
  const key = await asym.generateKey(slotAlgorithm(state, slot));
  installKey(state, slot, key, KEY_ORIGIN.GENERATED);
  ctx.markDirty();
  return ok(publicKeyTemplate(key));
}

/** A new key in a slot: the host writes fingerprint and time next; a new signature key restarts the counter. */
function installKey(state: OpenPgpState, slot: KeySlot, key: asym.AsymmetricKey, origin: number): void {
  state.setKey(slot, key, origin);
  state.slots[slot].fingerprint = new Uint8Array(20);
  state.slots[slot].time = new Uint8Array(4);
  if (slot === 'sig') state.signatureCounter = 0;
}

/**
 * Key import `00 DB 3F FF Lc 4D{ CRT, 7F48{tag+length list}, 5F48{values} }`: RSA by e, p, q (91, 92, 93),
 * EC by the private scalar/seed (92), an optional public key (99) ignored.
 */
export function importKey(state: OpenPgpState, ctx: CardContext, apdu: CommandApdu): CardResponse {
  if (apdu.p1 !== 0x3f || apdu.p2 !== 0xff) throw new SwError(SW.INCORRECT_P1P2);
  requirePw3(state);
  if (!ctx.crypto) throw new SwError(SW.FUNCTION_NOT_SUPPORTED, 'no crypto device to protect the key with');
  const outer = parseTlvsOrSw(apdu.data, 'extended header list');
  if (outer.length !== 1 || outer[0].tag !== 0x4d) throw new SwError(SW.INCORRECT_DATA, 'extended header list 4D expected');
  const inner = parseTlvsOrSw(outer[0].value, 'extended header list');
  if (inner.length < 3) throw new SwError(SW.INCORRECT_DATA, 'extended header list incomplete');
  const slot = slotOfCrt(inner[0].tag);
  const template = inner.find((t) => t.tag === 0x7f48)?.value;
  const values = inner.find((t) => t.tag === 0x5f48)?.value;
  if (!template || !values) throw new SwError(SW.INCORRECT_DATA, '7F48 and 5F48 expected');
  const parts = splitByTemplate(template, values);
  const algorithm = slotAlgorithm(state, slot);
  let key: asym.AsymmetricKey;
  try {
    if (asym.isRsa(algorithm)) {
      const [e, p, q] = [0x91, 0x92, 0x93].map((t) => parts.get(t));
      if (!e || !p || !q) throw new SwError(SW.INCORRECT_DATA, 'RSA import needs e, p and q');
      key = asym.rsaFromPrimes(algorithm, e, p, q);
    } else {
      const secret = parts.get(0x92);
      if (!secret) throw new SwError(SW.INCORRECT_DATA, 'EC import needs the private key (92)');
      key = asym.isEc(algorithm) ? asym.ecFromScalar(algorithm, secret) : asym.okpFromRaw(algorithm as 'ed25519' | 'x25519', secret);
    }
  } catch (err) {
    if (err instanceof asym.AsymmetricError) throw new SwError(SW.INCORRECT_DATA, err.message);
    throw err;
  }
  installKey(state, slot, key, KEY_ORIGIN.IMPORTED);
  ctx.markDirty();
  return ok();
}

/** 7F48 lists tag+length pairs without values; 5F48 holds the values concatenated in that order. */
function splitByTemplate(template: Uint8Array, values: Uint8Array): Map<number, Uint8Array> {
  const out = new Map<number, Uint8Array>();
  const bad = (why: string): SwError => new SwError(SW.INCORRECT_DATA, `7F48: ${why}`);
  let i = 0;
  let v = 0;
  while (i < template.length) {
    let tag = template[i++];
    if ((tag & 0x1f) === 0x1f) {
      do {
        if (i >= template.length) throw bad('tag truncated');
        tag = tag * 256 + template[i];
      } while (template[i++] & 0x80);
    }
    if (i >= template.length) throw bad('length missing');
    let length = template[i++];
    if (length & 0x80) {
      const n = length & 0x7f;
      if (n === 0 || n > 2 || i + n > template.length) throw bad('length form not supported');
      length = 0;
      for (let k = 0; k < n; k++) length = length * 256 + template[i++];
    }
    if (v + length > values.length) throw bad('5F48 is shorter than announced');
    out.set(tag, values.subarray(v, v + length));
    v += length;
  }
  if (v !== values.length) throw bad('5F48 is longer than announced');
  return out;
}

function keyIn(state: OpenPgpState, slot: KeySlot): asym.AsymmetricKey {
  const key = state.slots[slot].key;
  if (key === null) throw new SwError(SW.REFERENCE_NOT_FOUND, `no ${slot} key`);
  return key;
}

/** Signature or authentication with whatever key the slot holds. RSA: PKCS#1 v1.5 type 1 over the data. */
function signWith(key: asym.AsymmetricKey, data: Uint8Array): Uint8Array {
  if (data.length === 0) throw new SwError(SW.WRONG_LENGTH, 'nothing to sign');
  try {
    if (asym.isRsa(key.algorithm)) return asym.rsaSignDigestInfo(key, data);
    // ECDSA answers r‖s, not DER; the host gives the hash (of the field size, longer ones are truncated).
    if (asym.isEc(key.algorithm)) return asym.ecdsaDerToRaw(asym.ecdsaSignDigest(key, data), asym.EC_CURVE[key.algorithm].fieldBytes);
    if (key.algorithm === 'ed25519') return asym.ed25519Sign(key, data);
  } catch (err) {
    if (err instanceof asym.AsymmetricError) throw new SwError(SW.INCORRECT_DATA, err.message);
    throw err;
  }
  throw new SwError(SW.CONDITIONS_NOT_SATISFIED, `a ${key.algorithm} key cannot sign`);
}

/** PSO `00 2A 9E 9A` (signature) and `00 2A 80 86` (decipher). */
export function performSecurityOperation(state: OpenPgpState, ctx: CardContext, apdu: CommandApdu): CardResponse {
  const p1p2 = (apdu.p1 << 8) | apdu.p2;
  if (p1p2 === 0x9e9a) return computeDigitalSignature(state, ctx, apdu.data);
  if (p1p2 === 0x8086) return decipher(state, apdu.data);
  throw new SwError(SW.INCORRECT_P1P2, 'PSO other than CDS and DECIPHER');
}

function computeDigitalSignature(state: OpenPgpState, ctx: CardContext, data: Uint8Array): CardResponse {
  requirePw1Sign(state);
  const signature = signWith(keyIn(state, 'sig'), data);
  // With PW1 valid for one signature only, every signature needs a fresh VERIFY.
  if (state.pw1Validity === 0x00) state.verified.pw1Sign = false;
  if (state.signatureCounter < 0xffffff) state.signatureCounter += 1;
  ctx.markDirty();
  return ok(signature);
}

function decipher(state: OpenPgpState, data: Uint8Array): CardResponse {
  requirePw1Other(state);
  const key = keyIn(state, 'dec');
  if (data.length === 0) throw new SwError(SW.WRONG_LENGTH, 'nothing to decipher');
  try {
    if (asym.isRsa(key.algorithm)) {
      // Padding indicator 00, then the cryptogram of the modulus length.
      if (data[0] !== 0x00) throw new SwError(SW.INCORRECT_DATA, 'RSA cryptogram must follow padding indicator 00');
      const plain = asym.rsaDecryptPkcs1(key, data.subarray(1));
      if (plain === null) throw new SwError(SW.INCORRECT_DATA, 'PKCS#1 padding is wrong');
      return ok(plain);
    }
    // ECDH: A6 { 7F49 { 86 point } }.
    const outer = parseTlvsOrSw(data, 'cipher DO');
    if (outer.length !== 1 || outer[0].tag !== 0xa6) throw new SwError(SW.INCORRECT_DATA, 'ECDH data must be A6 { 7F49 { 86 point } }');
    const pub = parseTlvsOrSw(outer[0].value, 'cipher DO');
    const template = pub.find((t) => t.tag === 0x7f49)?.value;
    const point = template ? parseTlvsOrSw(template, 'public key template').find((t) => t.tag === 0x86)?.value : undefined;
    if (!point) throw new SwError(SW.INCORRECT_DATA, 'no external public key (86)');
    if (key.algorithm === 'x25519') return ok(asym.x25519(key, point.length === 33 && point[0] === 0x40 ? point.subarray(1) : point));
    if (asym.isEc(key.algorithm)) return ok(asym.ecdh(key, point));
  } catch (err) {
    if (err instanceof asym.AsymmetricError) throw new SwError(SW.INCORRECT_DATA, err.message);
    throw err;
  }
  throw new SwError(SW.CONDITIONS_NOT_SATISFIED, `a ${key.algorithm} key cannot decipher`);
}

/** INTERNAL AUTHENTICATE `00 88 00 00 Lc data`: a signature with the authentication key. */
export function internalAuthenticate(state: OpenPgpState, _ctx: CardContext, apdu: CommandApdu): CardResponse {
  if (apdu.p1 !== 0x00 || apdu.p2 !== 0x00) throw new SwError(SW.INCORRECT_P1P2);
  requirePw1Other(state);
  const key = keyIn(state, 'aut');
  // RSA: the data may be at most 40 % of the modulus (§7.2.13), leaving room for the type 1 padding.
  if (asym.isRsa(key.algorithm) && apdu.data.length > Math.floor((asym.rsaSize(key) * 40) / 100)) {
    throw new SwError(SW.WRONG_LENGTH, 'authentication input longer than 40 % of the modulus');
  }
  return ok(signWith(key, apdu.data));
}
