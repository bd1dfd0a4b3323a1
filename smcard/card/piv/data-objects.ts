// GET DATA (CB) and PUT DATA (DB) on the PIV data objects (SP 800-73-4 Part 2 §3.1.2, §3.3.1): `5C` names the
// object; reads answer the stored `53 …` (Discovery `7E …`), writes need the management key.

import type { CommandApdu } from '../apdu.js';
import { parseTlvsOrSw, readTlv, type Tlv } from '../ber-tlv.js';
import type { CardContext } from '../card-context.js';
import { SW, SwError, ok, type CardResponse } from '../status-words.js';
import { DO, isDataObjectTag, MAX_OBJECT_SIZE, readNeedsPin } from './constants.js';
import type { PivState } from './piv-state.js';

export function getData(state: PivState, _ctx: CardContext, apdu: CommandApdu): CardResponse {
  checkP1P2(apdu);
  const list = parseTlvsOrSw(apdu.data, 'GET DATA');
  if (list.length !== 1 || list[0].tag !== 0x5c) throw new SwError(SW.INCORRECT_DATA, 'GET DATA takes one 5C tag list');
  const tag = objectTag(list[0], SW.FILE_NOT_FOUND);
  const value = state.objects.get(tag);
  if (!value) throw new SwError(SW.FILE_NOT_FOUND, `object ${tag.toString(16)} absent`);
  // Absent objects are 6A82 whatever the PIN state, so OpenSC's login probe moves on to the next one.
  if (readNeedsPin(tag) && !state.pinVerified) throw new SwError(SW.SECURITY_STATUS_NOT_SATISFIED, 'object needs the PIN');
  return ok(value);
}

export function putData(state: PivState, ctx: CardContext, apdu: CommandApdu): CardResponse {
  checkP1P2(apdu);
  if (!state.mgmtAuthenticated) throw new SwError(SW.SECURITY_STATUS_NOT_SATISFIED, 'PUT DATA needs the management key');
  let first: Tlv & { end: number };
  try {
    first = readTlv(apdu.data);
  } catch {
    throw new SwError(SW.INCORRECT_DATA, 'PUT DATA starts with a 5C tag list');
  }
  if (first.tag !== 0x5c) throw new SwError(SW.INCORRECT_DATA, 'PUT DATA starts with a 5C tag list');
  const tag = objectTag(first, SW.INCORRECT_DATA);
  const body = apdu.data.subarray(first.end);
  const expected = tag === DO.DISCOVERY ? DO.DISCOVERY : 0x53;
  const list = parseTlvsOrSw(body, 'PUT DATA object');
  if (list.length !== 1 || list[0].tag !== expected) throw new SwError(SW.INCORRECT_DATA, `object must be one ${expected.toString(16)} element`);
  if (body.length > MAX_OBJECT_SIZE) throw new SwError(SW.NOT_ENOUGH_MEMORY, `objects are limited to ${MAX_OBJECT_SIZE} bytes`);
  // `53 00` deletes the object.
  if (list[0].value.length === 0) state.objects.delete(tag);
  else state.objects.set(tag, body.slice());
  ctx.markDirty();
  return ok();
}

function checkP1P2(apdu: CommandApdu): void {
  if (apdu.p1 !== 0x3f || apdu.p2 !== 0xff) throw new SwError(SW.INCORRECT_P1P2, 'GET/PUT DATA P1P2 is 3FFF');
}

/** The object a `5C` list names: one tag of 1 to 3 bytes (6A80 otherwise); outside the data model, `unknownSw`. */
function objectTag(t: Tlv, unknownSw: number): number {
  const v = t.value;
  if (v.length < 1 || v.length > 3) throw new SwError(SW.INCORRECT_DATA, 'tag list must hold one tag of 1..3 bytes');
  let tag = 0;
  for (const b of v) tag = (tag << 8) | b;
  if (!isDataObjectTag(tag)) throw new SwError(unknownSw, `no object ${tag.toString(16)} in the PIV data model`);
  return tag;
}
