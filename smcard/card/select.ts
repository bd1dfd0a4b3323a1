// SELECT (INS A4): by FID (P1=00/01/02), parent (03), DF name/AID (04), path (08/09); P2 picks FCI/FCP/FMD
// or no data (ISO 7816-4 §11.1.1, Tables 39 and 40).

import type { CommandApdu } from './apdu.js';
import type { Applet, CardContext } from './card-context.js';
import { fciOf, fcpOf, fmdOf, type FileNode } from './file-system.js';
import { SW, SwError, type CardResponse } from './status-words.js';
import { bytesEqual } from './hex.js';
import { tlv } from './tlv.js';

export function select(ctx: CardContext, apdu: CommandApdu): CardResponse {
  const { p1, p2, data } = apdu;
  // P2: b8-b5 must be 0; b2-b1 = 00 (first or only occurrence) is the only occurrence mode offered.
  if ((p2 & 0xf3) !== 0) throw new SwError(SW.INCORRECT_P1P2, `SELECT P2 ${p2.toString(16)} not supported`);
  const answer = p2 & 0x0c;
  let target: FileNode | null;
  switch (p1) {
    case 0x00: // MF, DF or EF by file identifier; no data means the MF.
      if (data.length === 0) target = ctx.fs.mf;
      else target = ctx.fs.selectByFid(ctx.currentDf, fid(data));
      break;
    case 0x01: { // child DF
      const node = ctx.currentDf.children.get(fid(data));
      target = node?.kind === 'DF' ? node : null;
      break;
    }
    case 0x02: { // EF under the current DF
      const node = ctx.currentDf.children.get(fid(data));
      target = node?.kind === 'EF' ? node : null;
      break;
    }
    case 0x03: // parent DF of the current DF
      if (data.length !== 0) throw new SwError(SW.WRONG_LENGTH, 'SELECT parent takes no data');
      target = ctx.currentDf.parent;
      break;
    case 0x04: { // DF name: a named DF first, then an applet AID (full name match)
      if (data.length < 1 || data.length > 16) throw new SwError(SW.WRONG_LENGTH, 'DF name must be 1..16 bytes');
      target = ctx.fs.findDfByName(data);
      if (!target) {
        const applet = ctx.applets.find((a) => bytesEqual(a.aid, data)) ?? ctx.applets.find((a) => isAidPrefix(a, data));
        if (applet) return selectApplet(ctx, applet, answer);
      }
      break;
    }
    case 0x08: // path from the MF (a leading 3F00 is tolerated)
    case 0x09: { // path from the current DF
      const fids = path(data);
      if (p1 === 0x08 && fids[0] === 0x3f00) fids.shift();
      target = ctx.fs.selectByPath(p1 === 0x08 ? ctx.fs.mf : ctx.currentDf, fids);
      break;
    }
    default:
      throw new SwError(SW.INCORRECT_P1P2, `SELECT P1 ${p1.toString(16)} not supported`);
  }
  if (!target) throw new SwError(SW.FILE_NOT_FOUND);
  // A failed SELECT leaves the selection alone; a successful one leaves any applet.
  leaveApplet(ctx, null);
  if (target.kind === 'DF') {
    ctx.currentDf = target;
    ctx.currentEf = null;
  } else {
    ctx.currentDf = target.parent;
    ctx.currentEf = target;
  }
  const sw = target.kind === 'EF' && target.deactivated ? SW.FILE_DEACTIVATED : SW.OK;
  const body = answer === 0x00 ? fciOf(target) : answer === 0x04 ? fcpOf(target) : answer === 0x08 ? fmdOf(target) : new Uint8Array(0);
  return { sw, data: body };
}

/** A right-truncated AID (ISO 7816-4 §8.2.1.2) for an applet that accepts one. */
function isAidPrefix(applet: Applet, data: Uint8Array): boolean {
  const min = applet.minSelectPrefix;
  return min !== undefined && data.length >= min && data.length < applet.aid.length && bytesEqual(applet.aid.subarray(0, data.length), data);
}

/** An applet that is left loses its security status (verified PINs, authentications). */
function leaveApplet(ctx: CardContext, next: Applet | null): void {
  const previous = ctx.selectedApplet;
  if (previous !== null && previous !== next) previous.reset?.();
  ctx.selectedApplet = next;
}

function selectApplet(ctx: CardContext, applet: Applet, answer: number): CardResponse {
  leaveApplet(ctx, applet);
  ctx.currentEf = null;
  const body =
    answer === 0x0c ? new Uint8Array(0)
    : applet.selectResponse ? applet.selectResponse()
    : answer === 0x00 ? tlv(0x6f, applet.fcpContent)
    : answer === 0x04 ? tlv(0x62, applet.fcpContent)
    : answer === 0x08 ? tlv(0x64, tlv(0x84, applet.aid))
    : new Uint8Array(0);
  return { sw: applet.selectStatus?.() ?? SW.OK, data: body };
}

function fid(data: Uint8Array): number {
  if (data.length !== 2) throw new SwError(SW.WRONG_LENGTH, 'a file identifier is 2 bytes');
  return (data[0] << 8) | data[1];
}

function path(data: Uint8Array): number[] {
  if (data.length === 0 || data.length % 2 !== 0) throw new SwError(SW.WRONG_LENGTH, 'a path is a non-empty sequence of 2-byte FIDs');
  const out: number[] = [];
  for (let i = 0; i < data.length; i += 2) out.push((data[i] << 8) | data[i + 1]);
  return out;
}
