// A stand-in for the Yubico OTP application, only as far as yubico-piv-tool needs it: the tool selects it to
// drop the PIV security status ("deauthenticate") and, for firmware below 5, to read the serial with
// `00 01 10 00` before selecting PIV again. Every other command is 6D00.

import type { Applet } from '../card-context.js';
import { parseHex } from '../hex.js';
import { SW, SwError, ok } from '../status-words.js';

export const YUBICO_OTP_AID_HEX = 'A000000527200101';

export interface YubicoOtpEntry {
  type: 'yubico-otp';
  aid: string;
}

/** INS of the OTP application's "API request"; P1 10 reads the serial number. */
const INS_API_REQUEST = 0x01;
const SLOT_SERIAL = 0x10;

export function createYubicoOtpApplet(entry: YubicoOtpEntry): Applet {
  return {
    aid: parseHex(entry.aid)!,
    label: 'yubico-otp',
    fcpContent: new Uint8Array(0),
    selectResponse: () => new Uint8Array(0),
    commands: {
      [INS_API_REQUEST]: (ctx, apdu) => {
        if (apdu.p1 !== SLOT_SERIAL) throw new SwError(SW.INCORRECT_P1P2);
        // The serial is the card's, kept by the applet that persists it (PIV).
        const serial = ctx.applets.map((a) => a.serialNumber?.()).find((s) => s !== undefined);
        if (serial === undefined) throw new SwError(SW.CONDITIONS_NOT_SATISFIED, 'no applet on this card has a serial number');
        const out = new Uint8Array(4);
        new DataView(out.buffer).setUint32(0, serial);
        return ok(out);
      },
    },
  };
}
