// PIN commands and GET CHALLENGE: VERIFY (20), CHANGE REFERENCE DATA (24), RESET RETRY COUNTER (2C),
// GET CHALLENGE (84) (ISO 7816-4 §11.5). PIN reference 81 is the only reference datum addressable.

import type { CommandApdu } from './apdu.js';
import type { CardContext } from './card-context.js';
import { decodePinBlock, isValidNewSecret, type CheckResult, type Secret } from './pin.js';
import { SW, SwError, ok, type CardResponse } from './status-words.js';

/** P2 of VERIFY / CHANGE REFERENCE DATA / RESET RETRY COUNTER: b8 = 1 (specific reference), number 1. */
export const PIN_REFERENCE = 0x81;
/** Two-value commands carry two 8-byte PIN blocks (value right-padded with FF). */
const BLOCK = 8;

export function verify(ctx: CardContext, apdu: CommandApdu): CardResponse {
  const { pins } = ctx;
  if (apdu.p1 === 0xff) {
    // ISO 7816-4:2013 VERIFY P1=FF, no data: reset the verification status.
    if (apdu.data.length !== 0) throw new SwError(SW.WRONG_LENGTH, 'VERIFY P1=FF takes no data');
    checkReference(apdu);
    pins.verified = false;
    return ok();
  }
  if (apdu.p1 !== 0x00) throw new SwError(SW.INCORRECT_P1P2);
  checkReference(apdu);
  if (apdu.data.length === 0) {
    // Empty VERIFY asks for the status without spending a try.
    if (pins.pin.blocked) throw new SwError(SW.AUTH_METHOD_BLOCKED);
    if (pins.verified) return ok();
    return { sw: SW.VERIFY_FAILED | pins.pin.retriesLeft, data: new Uint8Array(0) };
  }
  const candidate = decodePinBlock(apdu.data);
  if (!candidate || candidate.length < pins.minLength) throw new SwError(SW.WRONG_LENGTH, 'PIN length out of range');
  const result = pins.pin.check(candidate);
  pins.verified = result.outcome === 'ok';
  return pinCheckAnswer(ctx, pins.pin, result);
}

export function changeReferenceData(ctx: CardContext, apdu: CommandApdu): CardResponse {
  const { pins } = ctx;
  checkReference(apdu);
  if (apdu.p1 === 0x00) {
    // Old PIN block || new PIN block.
    if (apdu.data.length !== 2 * BLOCK) throw new SwError(SW.WRONG_LENGTH, 'CHANGE REFERENCE DATA P1=00 takes two 8-byte PIN blocks');
    const next = newSecret(apdu.data.subarray(BLOCK), pins.minLength);
    if (pins.pin.blocked) throw new SwError(SW.AUTH_METHOD_BLOCKED);
    const old = decodePinBlock(apdu.data.subarray(0, BLOCK)) ?? new Uint8Array(0);
    const result = pins.pin.check(old);
    if (result.outcome === 'ok') {
      pins.pin.value = next;
      pins.verified = true;
    } else {
      pins.verified = false;
    }
    return pinCheckAnswer(ctx, pins.pin, result);
  }
  if (apdu.p1 === 0x01) {
    // New PIN only: allowed in a session where the PIN was verified.
    const next = newSecret(apdu.data, pins.minLength);
    if (pins.pin.blocked) throw new SwError(SW.AUTH_METHOD_BLOCKED);
    if (!pins.verified) throw new SwError(SW.SECURITY_STATUS_NOT_SATISFIED);
    pins.pin.value = next;
    ctx.markDirty();
    return ok();
  }
  throw new SwError(SW.INCORRECT_P1P2);
}

export function resetRetryCounter(ctx: CardContext, apdu: CommandApdu): CardResponse {
  const { pins } = ctx;
  checkReference(apdu);
  let puk: Uint8Array;
  let next: Uint8Array | null = null;
  if (apdu.p1 === 0x00) {
    // PUK block || new PIN block.
    if (apdu.data.length !== 2 * BLOCK) throw new SwError(SW.WRONG_LENGTH, 'RESET RETRY COUNTER P1=00 takes two 8-byte blocks');
    next = newSecret(apdu.data.subarray(BLOCK), pins.minLength);
    puk = decodePinBlock(apdu.data.subarray(0, BLOCK)) ?? new Uint8Array(0);
  } else if (apdu.p1 === 0x01) {
    // PUK only: unblock and keep the PIN value.
    const decoded = decodePinBlock(apdu.data);
    if (!decoded) throw new SwError(SW.WRONG_LENGTH, 'PUK must be 1..8 bytes');
    puk = decoded;
  } else {
    throw new SwError(SW.INCORRECT_P1P2);
  }
  const result = pins.puk.check(puk);
  if (result.outcome === 'ok') {
    pins.pin.retriesLeft = pins.pin.maxRetries;
    if (next) pins.pin.value = next;
  }
  return pinCheckAnswer(ctx, pins.puk, result);
}

export function getChallenge(ctx: CardContext, apdu: CommandApdu): CardResponse {
  if (apdu.p1 !== 0 || apdu.p2 !== 0) throw new SwError(SW.INCORRECT_P1P2);
  if (apdu.data.length !== 0 || apdu.ne === 0) throw new SwError(SW.WRONG_LENGTH, 'GET CHALLENGE is case 2: Le only');
  return ok(ctx.random(apdu.ne));
}

function checkReference(apdu: CommandApdu): void {
  if (apdu.p2 !== PIN_REFERENCE) throw new SwError(SW.REFERENCE_NOT_FOUND, `reference ${apdu.p2.toString(16)} unknown`);
}

function newSecret(block: Uint8Array, minLength: number): Uint8Array {
  const value = decodePinBlock(block);
  if (!value || !isValidNewSecret(value, minLength)) throw new SwError(SW.INCORRECT_DATA, 'new PIN must be printable ASCII, minLength..8 bytes');
  return value;
}

/**
 * Turns a check into its status word; any counter or value change is persisted before the reply. ISO 7816-4
 * answers the try that uses up the last retry with 63C0; PIV (SP 800-73-4) answers it with 6983, as a blocked
 * reference, so the applet passes `lastTry: 'blocked'`.
 */
export function pinCheckAnswer(ctx: CardContext, secret: Secret, result: CheckResult, lastTry: 'count' | 'blocked' = 'count'): CardResponse {
  ctx.markDirty();
  switch (result.outcome) {
    case 'ok':
      return ok();
    case 'blocked':
      throw new SwError(SW.AUTH_METHOD_BLOCKED);
    case 'wrong':
      if (lastTry === 'blocked' && secret.retriesLeft === 0) throw new SwError(SW.AUTH_METHOD_BLOCKED);
      return { sw: SW.VERIFY_FAILED | secret.retriesLeft, data: new Uint8Array(0) };
  }
}
