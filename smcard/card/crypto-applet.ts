// The crypto applet (selected by AID): PSO HASH / ENCIPHER / DECIPHER and INTERNAL AUTHENTICATE, each run on
// the crypto device through its control library (docs/crypto-device.md "SHA-256", "AES-256-CBC"; ISO 7816-8 §5.2).

import type { CommandApdu } from './apdu.js';
import type { Applet, CardContext, CardCrypto } from './card-context.js';
import { allowed } from './binary.js';
import { INS } from './ins.js';
import { SW, SwError, ok, type CardResponse } from './status-words.js';
import { concatBytes } from '../../kernel/bytes.js';
import { tlv } from './tlv.js';
import { NtStatusError } from '../../kernel/ntstatus.js';

/** The default applet AID: proprietary category F0, then "vscr" in ASCII, then version 01. */
export const CRYPTO_APPLET_AID = Uint8Array.from([0xf0, 0x76, 0x73, 0x63, 0x72, 0x01]);

/** PSO P1P2 pairs (ISO 7816-8 Table 7). */
export const PSO = { HASH: 0x9080, ENCIPHER: 0x8680, DECIPHER: 0x8086 } as const;

/** Padding-content indicator byte '00': "no further indication" (the device pads with zeros). */
const PADDING_INDICATOR = 0x00;

export function createCryptoApplet(aid: Uint8Array): Applet {
  return {
    aid,
    label: 'crypto',
    // Descriptor 38 (DF), the AID as DF name, life cycle 05 (operational, activated).
    fcpContent: concatBytes([tlv(0x82, [0x38]), tlv(0x84, aid), tlv(0x8a, [0x05])]),
    commands: { [INS.PSO]: performSecurityOperation, [INS.INTERNAL_AUTHENTICATE]: internalAuthenticate },
  };
}

/**
 * Not async, and each device call settles into the response with one `then`: PSO:HASH is on the hot path, and
 * every await or wrapper closure there was a microtask per APDU. A thrown SwError reaches the processor either way.
 */
function performSecurityOperation(ctx: CardContext, apdu: CommandApdu): Promise<CardResponse> {
  const p1p2 = (apdu.p1 << 8) | apdu.p2;
  switch (p1p2) {
    case PSO.HASH:
      // Hashing reveals nothing secret, so it needs no PIN; empty data hashes the empty string.
      return device(ctx).sha256(apdu.data).then(ok, (err: unknown) => failed(ctx, 'sha256', err));
    case PSO.ENCIPHER: {
      requirePin(ctx);
      if (apdu.data.length === 0) throw new SwError(SW.WRONG_LENGTH, 'ENCIPHER needs data');
      return device(ctx)
        .aesCbcEncrypt(apdu.data)
        .then((cryptogram) => ok(concatBytes([Uint8Array.of(PADDING_INDICATOR), cryptogram])), (err: unknown) => failed(ctx, 'aesCbcEncrypt', err));
    }
    case PSO.DECIPHER: {
      requirePin(ctx);
      if (apdu.data.length === 0) throw new SwError(SW.WRONG_LENGTH, 'DECIPHER needs data');
      const body = apdu.data.subarray(1);
      if (apdu.data[0] !== PADDING_INDICATOR || body.length === 0 || body.length % 16 !== 0) {
        throw new SwError(SW.INCORRECT_DATA, 'DECIPHER data is 00 followed by a multiple of 16 bytes');
      }
      return device(ctx).aesCbcDecrypt(body.slice()).then(ok, (err: unknown) => failed(ctx, 'aesCbcDecrypt', err));
    }
    default:
      throw new SwError(SW.INCORRECT_P1P2, `PSO ${p1p2.toString(16)} not supported`);
  }
}

/** Response = AES-256-CBC encipherment of the challenge with the device key (fixed IV, zero padding). */
function internalAuthenticate(ctx: CardContext, apdu: CommandApdu): Promise<CardResponse> {
  if (apdu.p1 !== 0 || apdu.p2 !== 0) throw new SwError(SW.INCORRECT_P1P2);
  requirePin(ctx);
  if (apdu.data.length === 0) throw new SwError(SW.WRONG_LENGTH, 'INTERNAL AUTHENTICATE needs a challenge');
  return device(ctx).aesCbcEncrypt(apdu.data).then(ok, (err: unknown) => failed(ctx, 'aesCbcEncrypt', err));
}

function requirePin(ctx: CardContext): void {
  if (!allowed('pin', ctx.pins.verified)) throw new SwError(SW.SECURITY_STATUS_NOT_SATISFIED, 'PIN not verified');
}

function device(ctx: CardContext): CardCrypto {
  if (!ctx.crypto) throw new SwError(SW.FUNCTION_NOT_SUPPORTED, 'no crypto device attached to this card');
  return ctx.crypto;
}

/** A device failure is the card's problem to report as 6F00, never an exception out of transmit. */
function failed(ctx: CardContext, op: string, err: unknown): never {
  const status = err instanceof NtStatusError ? err.code : err instanceof Error ? err.name : 'unknown error';
  ctx.logger.warn({ op, status }, 'crypto device call failed; answering 6F00');
  throw new SwError(SW.NO_PRECISE_DIAGNOSIS, `crypto device ${op} failed: ${status}`);
}
