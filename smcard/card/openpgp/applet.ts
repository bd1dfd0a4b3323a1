// The OpenPGP application (card specification 3.4) as an applet: its INS table, life cycle (TERMINATE DF /
// ACTIVATE FILE), GET CHALLENGE, and its persistent section of the card state file.

import type { CommandApdu } from '../apdu.js';
import type { Applet, AppletPersistence, CardContext, CommandHandler, InsTable } from '../card-context.js';
import { SW, SwError, ok, type CardResponse } from '../status-words.js';
import { MAX_CHALLENGE, OPENPGP_RID_APP, PGP_INS } from './constants.js';
import { getData, getNextData, putData, selectData } from './data-objects.js';
import { generateAsymmetricKeyPair, importKey, internalAuthenticate, performSecurityOperation } from './key-operations.js';
import { changeReferenceData, resetRetryCounter, verify } from './passwords.js';
import { OpenPgpState } from './state.js';

/** SW 6285: the application is terminated (SELECT still works, ACTIVATE FILE revives it). */
export const SW_TERMINATED = 0x6285;

type StateHandler = (state: OpenPgpState, ctx: CardContext, apdu: CommandApdu) => CardResponse | Promise<CardResponse>;

/** TERMINATE DF `00 E6 00 00`: allowed once PW3 is verified or blocked (gpg's factory-reset blocks it first). */
function terminateDf(state: OpenPgpState, ctx: CardContext, apdu: CommandApdu): CardResponse {
  if (apdu.p1 !== 0x00 || apdu.p2 !== 0x00) throw new SwError(SW.INCORRECT_P1P2);
  if (!state.terminated) {
    if (!state.verified.pw3 && state.pw3.tries !== 0) throw new SwError(SW.CONDITIONS_NOT_SATISFIED, 'PW3 neither verified nor blocked');
    state.terminated = true;
    state.clearVerification();
    ctx.markDirty();
  }
  return ok();
}

/** ACTIVATE FILE `00 44 00 00`: from the terminated state, the factory state; an operational card is left alone. */
function activateFile(state: OpenPgpState, ctx: CardContext, apdu: CommandApdu): CardResponse {
  if (apdu.p1 !== 0x00 || apdu.p2 !== 0x00) throw new SwError(SW.INCORRECT_P1P2);
  if (state.terminated) {
    state.factoryReset();
    ctx.markDirty();
  }
  return ok();
}

/** GET CHALLENGE `00 84 00 00 Le`: Le random bytes, up to the maximum C0 announces. */
function getChallenge(_state: OpenPgpState, ctx: CardContext, apdu: CommandApdu): CardResponse {
  if (apdu.p1 !== 0x00 || apdu.p2 !== 0x00) throw new SwError(SW.INCORRECT_P1P2);
  if (apdu.ne === 0 || apdu.ne > MAX_CHALLENGE) throw new SwError(SW.WRONG_LENGTH, `challenge of 1..${MAX_CHALLENGE} bytes`);
  return ok(ctx.random(apdu.ne));
}

const HANDLERS: Readonly<Record<number, StateHandler>> = {
  [PGP_INS.VERIFY]: verify,
  [PGP_INS.CHANGE_REFERENCE_DATA]: changeReferenceData,
  [PGP_INS.RESET_RETRY_COUNTER]: resetRetryCounter,
  [PGP_INS.PSO]: performSecurityOperation,
  [PGP_INS.GENERATE_ASYMMETRIC_KEY_PAIR]: generateAsymmetricKeyPair,
  [PGP_INS.GET_CHALLENGE]: getChallenge,
  [PGP_INS.INTERNAL_AUTHENTICATE]: internalAuthenticate,
  [PGP_INS.SELECT_DATA]: selectData,
  [PGP_INS.GET_DATA]: getData,
  [PGP_INS.GET_NEXT_DATA]: getNextData,
  [PGP_INS.PUT_DATA]: putData,
  [PGP_INS.PUT_DATA_ODD]: importKey,
  [PGP_INS.TERMINATE_DF]: terminateDf,
  [PGP_INS.ACTIVATE_FILE]: activateFile,
};

/** Commands a terminated application still takes. */
const WHILE_TERMINATED = new Set<number>([PGP_INS.ACTIVATE_FILE, PGP_INS.TERMINATE_DF]);

/** A blank OpenPGP card application; its serial is drawn on first insert and kept in the state file. */
export function createOpenPgpApplet(): Applet {
  let state = new OpenPgpState(new Uint8Array(4));
  const commands: Record<number, CommandHandler> = {};
  for (const [ins, handler] of Object.entries(HANDLERS)) {
    const code = Number(ins);
    commands[code] = (ctx, apdu) => {
      if (state.terminated && !WHILE_TERMINATED.has(code)) throw new SwError(SW_TERMINATED, 'application terminated');
      return handler(state, ctx, apdu);
    };
  }
  const persistence: AppletPersistence = {
    sealsSecrets: true,
    async initialize(ctx) {
      state = new OpenPgpState(drawSerial(ctx));
    },
    async restore(ctx, section, file) {
      state = await OpenPgpState.restore(ctx.crypto, section, file);
    },
    snapshot: (ctx) => state.snapshot(ctx.crypto),
  };
  return {
    aid: OPENPGP_RID_APP,
    label: 'openpgp',
    fcpContent: new Uint8Array(0),
    commands: commands as InsTable,
    // Both GnuPG and OpenSC read the AID with GET DATA 4F; SELECT answers no data.
    selectResponse: () => new Uint8Array(0),
    selectStatus: () => (state.terminated ? SW_TERMINATED : SW.OK),
    chaining: true,
    missingLeMeansMax: true,
    reset: () => state.clearVerification(),
    persistence,
  };
}

/** A serial other than all-zero or all-FF (which hosts read as "no serial"). */
function drawSerial(ctx: CardContext): Uint8Array {
  for (;;) {
    const serial = ctx.random(4);
    if (serial.some((b) => b !== 0) && serial.some((b) => b !== 0xff)) return serial;
  }
}
