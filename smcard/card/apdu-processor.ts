// The card's command loop: parse the APDU, check CLA, dispatch INS through the applet's then the card's
// table, turn SwError into a status word, and shape the answer for T=0 or T=1 (61xx/GET RESPONSE, 6Cxx).
// Rules: docs/smclib.md §8.2–8.4; the exact T=0/T=1 choices are listed in APDUS.md "Transport rules".

import { parseCommandApdu, responseApdu, type CommandApdu } from './apdu.js';
import { PROTOCOL_T0 } from './atr.js';
import { INS } from './ins.js';
import type { CardContext, CommandHandler, InsTable } from './card-context.js';
import { readBinary, updateBinary } from './binary.js';
import { select } from './select.js';
import { changeReferenceData, getChallenge, resetRetryCounter, verify } from './security-commands.js';
import { SW, SwError, formatSw, swCarriesData, type CardResponse } from './status-words.js';

/** Commands of the card itself (the "OS"), available whatever is selected. */
export const CARD_COMMANDS: InsTable = {
  [INS.SELECT]: select,
  [INS.READ_BINARY]: readBinary,
  [INS.UPDATE_BINARY]: updateBinary,
  [INS.VERIFY]: verify,
  [INS.CHANGE_REFERENCE_DATA]: changeReferenceData,
  [INS.RESET_RETRY_COUNTER]: resetRetryCounter,
  [INS.GET_CHALLENGE]: getChallenge,
};

const EMPTY = new Uint8Array(0);

/** Response data held back for GET RESPONSE, and the status word to give once it is all read. */
interface Pending {
  data: Uint8Array;
  sw: number;
}

/** Blocks of a CLA 10 chain received so far (for applets that accept chaining). */
interface Chain {
  ins: number;
  p1: number;
  p2: number;
  parts: Uint8Array[];
  size: number;
}

/** Largest command a chain may build: bounds what a host can make the card hold. */
export const MAX_CHAINED_DATA = 65536;

export interface ProcessHooks {
  /** Persist unsaved state; a rejection turns the answer of a command that changed state into 6581. */
  save(): Promise<void>;
  isDirty(): boolean;
  /** Increases each time persistent state changes (markDirty), so the processor knows who changed what. */
  changeCount(): number;
}

export class ApduProcessor {
  private pending: Pending | null = null;
  private chain: Chain | null = null;

  /** Forget GET RESPONSE data and any partial chain (on reset). */
  reset(): void {
    this.pending = null;
    this.chain = null;
  }

  async process(ctx: CardContext, bytes: Uint8Array, protocol: number, hooks: ProcessHooks): Promise<Uint8Array> {
    const t0 = protocol === PROTOCOL_T0;
    let apdu: CommandApdu;
    const chaining = ctx.selectedApplet?.chaining === true;
    try {
      apdu = parseCommandApdu(bytes);
      checkClass(chaining ? apdu.cla & ~0x10 : apdu.cla);
      // T=0 carries short APDUs only (ISO 7816-3 §12.2; extended lengths would need ENVELOPE).
      if (t0 && apdu.extended) throw new SwError(SW.WRONG_LENGTH, 'extended APDUs are not available in T=0');
    } catch (err) {
      this.pending = null;
      this.chain = null;
      return responseApdu(EMPTY, swOf(ctx, err));
    }
    if (apdu.ins === INS.GET_RESPONSE && apdu.cla === 0x00 && this.chain === null) return this.getResponse(apdu, t0);
    this.pending = null;
    if (chaining || this.chain !== null) {
      try {
        const joined = this.joinChain(apdu);
        if (joined === null) return responseApdu(EMPTY, SW.OK);
        apdu = joined;
      } catch (err) {
        return responseApdu(EMPTY, swOf(ctx, err));
      }
    }

    const handler: CommandHandler | undefined = ctx.selectedApplet?.commands[apdu.ins] ?? CARD_COMMANDS[apdu.ins];
    let result: CardResponse;
    const changesBefore = hooks.changeCount();
    try {
      if (!handler) throw new SwError(SW.INS_NOT_SUPPORTED);
      result = await handler(ctx, apdu);
    } catch (err) {
      result = { sw: swOf(ctx, err), data: EMPTY };
    }
    // Unsaved state (this command's, or an earlier one whose save failed) is written before the answer.
    if (hooks.isDirty()) {
      try {
        await hooks.save();
      } catch (err) {
        if (hooks.changeCount() !== changesBefore) {
          ctx.logger.error({ err }, 'card state could not be saved; answering 6581');
          // Fail safe, as a card whose EEPROM write failed: no PIN verification survives an unsaved counter.
          ctx.pins.verified = false;
          result = { sw: SW.MEMORY_FAILURE, data: EMPTY };
        } else {
          ctx.logger.warn({ err }, 'card state still cannot be saved; will retry on the next command or flush');
        }
      }
    }
    const data = swCarriesData(result.sw) ? result.data : EMPTY;
    // Guarded: building the record (and the SW text) for a disabled level costs more than the command itself.
    if (ctx.logger.isLevelEnabled('debug')) ctx.logger.debug({ ins: apdu.ins, sw: formatSw(result.sw), nr: data.length, ne: apdu.ne, t0 }, 'apdu');
    return this.deliver(data, result.sw, apdu, t0, ctx.selectedApplet?.missingLeMeansMax === true);
  }

  /**
   * Shapes an answer of Nr bytes for a command with Ne (0 = no Le).
   * - No Le, or T=0 case 4 (T=0 sends case 4 as case 3): data kept, `61 min(FF, Nr)`.
   * - Nr ≤ Ne: all of it, except T=0 case 2 with 0 < Nr < Ne: `6C Nr` (wrong Le).
   * - Nr > Ne: Ne bytes and `61 min(FF, rest)`.
   */
  private deliver(data: Uint8Array, sw: number, apdu: CommandApdu, t0: boolean, missingLeMeansMax: boolean): Uint8Array {
    if (data.length === 0) return responseApdu(EMPTY, sw);
    let ne = t0 && apdu.case === 4 ? 0 : apdu.ne;
    // Hosts that send case 3 and expect data anyway (YubiKey style) get what fits a maximal Le.
    if (ne === 0 && missingLeMeansMax && !t0) ne = apdu.extended ? 65536 : 256;
    if (ne === 0) return this.holdBack(EMPTY, data, sw);
    if (data.length === ne) return responseApdu(data, sw);
    if (data.length < ne) return t0 ? responseApdu(EMPTY, SW.WRONG_LE | data.length) : responseApdu(data, sw);
    return this.holdBack(data.subarray(0, ne), data.subarray(ne), sw);
  }

  /**
   * CLA 10 chaining (ISO 7816-4 §5.3.3): blocks with b5 set are kept and answered 9000; the block without it
   * completes the command, which the handler sees once with all the data. A chain broken off by a different
   * command is dropped with 6883; one growing past MAX_CHAINED_DATA with 6700.
   */
  private joinChain(apdu: CommandApdu): CommandApdu | null {
    const more = (apdu.cla & 0x10) !== 0;
    const chain = this.chain;
    if (chain !== null && (chain.ins !== apdu.ins || chain.p1 !== apdu.p1 || chain.p2 !== apdu.p2)) {
      this.chain = null;
      throw new SwError(SW.LAST_COMMAND_EXPECTED, 'a command chain was broken off');
    }
    if (chain === null && !more) return apdu;
    const current = chain ?? { ins: apdu.ins, p1: apdu.p1, p2: apdu.p2, parts: [], size: 0 };
    current.size += apdu.data.length;
    if (current.size > MAX_CHAINED_DATA) {
      this.chain = null;
      throw new SwError(SW.WRONG_LENGTH, `chained command longer than ${MAX_CHAINED_DATA} bytes`);
    }
    current.parts.push(apdu.data);
    if (more) {
      this.chain = current;
      return null;
    }
    this.chain = null;
    const data = new Uint8Array(current.size);
    let o = 0;
    for (const part of current.parts) {
      data.set(part, o);
      o += part.length;
    }
    return { ...apdu, cla: apdu.cla & ~0x10, data, case: apdu.ne === 0 ? 3 : 4 };
  }

  private holdBack(now: Uint8Array, rest: Uint8Array, sw: number): Uint8Array {
    this.pending = { data: rest.slice(), sw };
    return responseApdu(now, SW.BYTES_REMAINING | Math.min(0xff, rest.length));
  }

  /** GET RESPONSE `00 C0 00 00 Le` (ISO 7816-4 §11.4.1; vicc `getResponse`). */
  private getResponse(apdu: CommandApdu, t0: boolean): Uint8Array {
    if (apdu.p1 !== 0 || apdu.p2 !== 0) return responseApdu(EMPTY, SW.INCORRECT_P1P2);
    // A malformed GET RESPONSE leaves the held-back data in place for a corrected one.
    if (apdu.data.length !== 0 || apdu.ne === 0) return responseApdu(EMPTY, SW.WRONG_LENGTH);
    const pending = this.pending;
    if (!pending) return responseApdu(EMPTY, SW.CONDITIONS_NOT_SATISFIED);
    const available = pending.data.length;
    // T=0 is strict about Le, as for any case-2 command; the data stays available for the corrected retry.
    if (t0 && apdu.ne > available) return responseApdu(EMPTY, SW.WRONG_LE | available);
    const n = Math.min(apdu.ne, available);
    const chunk = pending.data.subarray(0, n);
    if (n === available) {
      this.pending = null;
      return responseApdu(chunk, pending.sw);
    }
    return this.holdBack(chunk, pending.data.subarray(n), pending.sw);
  }
}

/**
 * CLA: only the interindustry class 00 on the basic channel without secure messaging or chaining is served
 * (ISO 7816-4 §5.4.1); the specific refusals name what is missing.
 */
function checkClass(cla: number): void {
  if (cla === 0x00) return;
  if ((cla & 0xe0) === 0x00) {
    if (cla & 0x10) throw new SwError(SW.CHAINING_NOT_SUPPORTED);
    if (cla & 0x0c) throw new SwError(SW.SECURE_MESSAGING_NOT_SUPPORTED);
    throw new SwError(SW.LOGICAL_CHANNEL_NOT_SUPPORTED);
  }
  throw new SwError(SW.CLA_NOT_SUPPORTED);
}

function swOf(ctx: CardContext, err: unknown): number {
  if (err instanceof SwError) return err.sw;
  // Anything else is a bug in a handler; the host still gets a status word (docs/smclib.md §8.3), never a throw.
  ctx.logger.error({ err }, 'card command failed unexpectedly; answering 6F00');
  return SW.NO_PRECISE_DIAGNOSIS;
}
