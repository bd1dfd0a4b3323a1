// The PIV applet (SP 800-73-4 card edge plus the Yubico extensions): one PivState per card, the INS → handler
// table, the application property template answered to SELECT, and the state section it persists.

import type { Applet, AppletPersistence, CardContext, CommandHandler, InsTable } from '../card-context.js';
import type { CommandApdu } from '../apdu.js';
import { berTlv } from '../ber-tlv.js';
import { concatBytes } from '../../../kernel/bytes.js';
import { parseHex } from '../hex.js';
import type { CardResponse } from '../status-words.js';
import { MIN_SELECT_PREFIX, PIV_AID, PIV_INS } from './constants.js';
import { getData, putData } from './data-objects.js';
import { generalAuthenticate } from './general-authenticate.js';
import { generateKeyPair, importKey } from './key-commands.js';
import { changeReferenceData, resetRetryCounter, verify } from './pin-commands.js';
import type { PivAppletEntry } from './piv-profile.js';
import { PivState } from './piv-state.js';
import { provision } from './provision.js';
import { attest, getSerial, getVersion, reset, setManagementKey, setPinRetries } from './yubico.js';

type PivHandler = (state: PivState, ctx: CardContext, apdu: CommandApdu) => CardResponse | Promise<CardResponse>;

const HANDLERS: Readonly<Record<number, PivHandler>> = {
  [PIV_INS.VERIFY]: verify,
  [PIV_INS.CHANGE_REFERENCE_DATA]: changeReferenceData,
  [PIV_INS.RESET_RETRY_COUNTER]: resetRetryCounter,
  [PIV_INS.GENERATE_ASYMMETRIC_KEY_PAIR]: generateKeyPair,
  [PIV_INS.GENERAL_AUTHENTICATE]: generalAuthenticate,
  [PIV_INS.GET_DATA]: getData,
  [PIV_INS.PUT_DATA]: putData,
  [PIV_INS.YK_GET_VERSION]: () => getVersion(),
  [PIV_INS.YK_GET_SERIAL]: (state) => getSerial(state),
  [PIV_INS.YK_SET_MANAGEMENT_KEY]: setManagementKey,
  [PIV_INS.YK_SET_PIN_RETRIES]: setPinRetries,
  [PIV_INS.YK_RESET]: reset,
  [PIV_INS.YK_IMPORT_KEY]: importKey,
  [PIV_INS.YK_ATTEST]: attest,
};

/** `61 { 4F PIX+version, 79 { 4F RID } }`: the answer both OpenSC and yubico-piv-tool accept. */
function applicationPropertyTemplate(aid: Uint8Array): Uint8Array {
  return berTlv(0x61, berTlv(0x4f, aid.subarray(5)), berTlv(0x79, berTlv(0x4f, aid.subarray(0, 5))));
}

export function createPivApplet(entry: PivAppletEntry): Applet {
  const aid = parseHex(entry.aid) ?? PIV_AID;
  const state = new PivState(entry);
  const commands: InsTable = Object.fromEntries(
    Object.entries(HANDLERS).map(([ins, handler]): [string, CommandHandler] => [ins, (ctx, apdu) => handler(state, ctx, apdu)]),
  );
  const persistence: AppletPersistence = {
    sealsSecrets: true,
    initialize: async (ctx) => {
      await provision(state, ctx);
      ctx.markDirty();
    },
    restore: (ctx, section, file) => state.restore(ctx, section, file),
    snapshot: (ctx) => state.snapshot(ctx),
  };
  const apt = applicationPropertyTemplate(aid);
  return {
    aid,
    label: 'piv',
    fcpContent: concatBytes([berTlv(0x82, [0x38]), berTlv(0x84, aid)]),
    commands,
    minSelectPrefix: MIN_SELECT_PREFIX,
    selectResponse: () => apt.slice(),
    chaining: true,
    missingLeMeansMax: true,
    serialNumber: () => state.serial,
    reset: () => state.clearSession(),
    persistence,
  };
}
