// READ BINARY (B0) and UPDATE BINARY (D6) on the current transparent EF (ISO 7816-4 §11.2.3, §11.2.5).

import type { CommandApdu } from './apdu.js';
import type { CardContext } from './card-context.js';
import type { EfNode } from './file-system.js';
import type { AccessRule } from './profile.js';
import { SW, SwError, type CardResponse } from './status-words.js';

export function readBinary(ctx: CardContext, apdu: CommandApdu): CardResponse {
  const ef = target(ctx, apdu, 'read');
  if (apdu.data.length !== 0) throw new SwError(SW.WRONG_LENGTH, 'READ BINARY (B0) takes no command data');
  if (apdu.ne === 0) throw new SwError(SW.WRONG_LENGTH, 'READ BINARY needs Le');
  const offset = offsetOf(apdu);
  if (offset >= ef.size) throw new SwError(SW.WRONG_OFFSET, `offset ${offset} outside EF of ${ef.size} bytes`);
  const n = Math.min(apdu.ne, ef.size - offset);
  // Fewer bytes than Ne: the end of the file came first (ISO 7816-4 '6282').
  return { sw: n < apdu.ne ? SW.END_OF_FILE : SW.OK, data: ef.contents.slice(offset, offset + n) };
}

export function updateBinary(ctx: CardContext, apdu: CommandApdu): CardResponse {
  const ef = target(ctx, apdu, 'update');
  if (apdu.data.length === 0) throw new SwError(SW.WRONG_LENGTH, 'UPDATE BINARY needs data');
  const offset = offsetOf(apdu);
  if (offset >= ef.size) throw new SwError(SW.WRONG_OFFSET, `offset ${offset} outside EF of ${ef.size} bytes`);
  if (offset + apdu.data.length > ef.size) throw new SwError(SW.NOT_ENOUGH_MEMORY, 'data runs past the end of the EF');
  ef.contents.set(apdu.data, offset);
  ctx.markDirty();
  return { sw: SW.OK, data: new Uint8Array(0) };
}

/** The current EF, after the checks every binary command shares (order: SFI, no EF, lifecycle, access). */
function target(ctx: CardContext, apdu: CommandApdu, op: 'read' | 'update'): EfNode {
  // P1 b8 = 1 means a short EF identifier in P1 b5-b1; this card has no SFIs.
  if (apdu.p1 & 0x80) throw new SwError(SW.FUNCTION_NOT_SUPPORTED, 'short EF identifiers are not supported');
  const ef = ctx.currentEf;
  if (!ef) throw new SwError(SW.NO_CURRENT_EF);
  if (ef.deactivated) throw new SwError(SW.CONDITIONS_NOT_SATISFIED, 'EF is deactivated');
  if (!allowed(ef[op], ctx.pins.verified)) throw new SwError(SW.SECURITY_STATUS_NOT_SATISFIED, `${op} needs ${ef[op]}`);
  return ef;
}

export function allowed(rule: AccessRule, pinVerified: boolean): boolean {
  return rule === 'always' || (rule === 'pin' && pinVerified);
}

/** 15-bit offset: P1 b7-b1 high, P2 low. */
function offsetOf(apdu: CommandApdu): number {
  return ((apdu.p1 & 0x7f) << 8) | apdu.p2;
}
