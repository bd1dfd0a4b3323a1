// The Yubico PIV extensions yubico-piv-tool uses: GET VERSION (FD, vscr's own version), GET SERIAL (F8),
// SET MANAGEMENT KEY (FF), SET PIN RETRIES (FA), RESET (FB, only with PIN and PUK blocked), ATTEST (F9), IMPORT
// KEY (FE, in key-commands.ts).

import { readFileSync } from 'node:fs';
import type { CommandApdu } from '../apdu.js';
import { parseTlvsOrSw } from '../ber-tlv.js';
import type { CardContext } from '../card-context.js';
import { SW, SwError, ok, type CardResponse } from '../status-words.js';
import { isKeySlot, KEY_REF, MGMT_ALG, mgmtAlgorithmById } from './constants.js';
import { requireAdmin } from './key-commands.js';
import type { PivState } from './piv-state.js';
import { ATTESTATION_ISSUER, blankObjects } from './provision.js';
import { makeCertificate } from './x509.js';
import { NtStatusError } from '../../../kernel/ntstatus.js';

/** major.minor.patch of this vscr package, read once (from the sources, or from dist/ one level deeper). */
const VERSION: Uint8Array = (() => {
  let version = '0.0.0';
  for (const rel of ['../../../package.json', '../../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'vscr' && pkg.version) {
        version = pkg.version;
        break;
      }
    } catch {
      /* not at this level */
    }
  }
  return Uint8Array.from(version.split(/[.-]/).slice(0, 3).map((n) => Math.min(255, Number.parseInt(n, 10) || 0)));
})();

export function getVersion(): CardResponse {
  return ok(VERSION.slice());
}

export function getSerial(state: PivState): CardResponse {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, state.serial);
  return ok(out);
}

/** `FF FF FF|FE { alg 9B len key }`: P2 FE would ask for touch, which a virtual card has no button for. */
export function setManagementKey(state: PivState, ctx: CardContext, apdu: CommandApdu): CardResponse {
  if (apdu.p1 !== 0xff || (apdu.p2 !== 0xff && apdu.p2 !== 0xfe)) throw new SwError(SW.INCORRECT_P1P2);
  requireAdmin(state);
  const d = apdu.data;
  if (d.length < 3 || d[1] !== KEY_REF.MANAGEMENT || d[2] !== d.length - 3) throw new SwError(SW.INCORRECT_DATA, 'data is alg 9B len key');
  const algorithm = mgmtAlgorithmById(d[0]);
  if (!algorithm || d[0] === 0x00) throw new SwError(SW.INCORRECT_DATA, `algorithm ${d[0].toString(16)} is not a management key algorithm`);
  if (d[2] !== MGMT_ALG[algorithm].keyLength) throw new SwError(SW.INCORRECT_DATA, `${algorithm} keys are ${MGMT_ALG[algorithm].keyLength} bytes`);
  state.mgmt = { algorithm, value: d.slice(3) };
  ctx.markDirty();
  return ok();
}

/** `FA <pin tries> <puk tries>`: needs the management key and the PIN; PIN and PUK go back to their defaults. */
export function setPinRetries(state: PivState, ctx: CardContext, apdu: CommandApdu): CardResponse {
  requireAdmin(state);
  if (!state.pinVerified) throw new SwError(SW.SECURITY_STATUS_NOT_SATISFIED, 'set retries needs the PIN');
  if (apdu.p1 < 1 || apdu.p1 > 15 || apdu.p2 < 1 || apdu.p2 > 15) throw new SwError(SW.INCORRECT_P1P2, 'retries are 1..15');
  const mgmt = state.mgmt;
  state.resetSecrets(apdu.p1, apdu.p2);
  // Only PIN and PUK return to their defaults; the session and the management key stay.
  state.mgmt = mgmt;
  state.mgmtAuthenticated = true;
  ctx.markDirty();
  return ok();
}

/** `FB`: back to factory state (no keys, default PIN/PUK/management key), allowed only when PIN and PUK are blocked. */
export function reset(state: PivState, ctx: CardContext, apdu: CommandApdu): CardResponse {
  if (apdu.data.length !== 0 && parseTlvsOrSw(apdu.data).length !== 0) throw new SwError(SW.WRONG_LENGTH);
  if (!state.pin.blocked || !state.puk.blocked) throw new SwError(SW.CONDITIONS_NOT_SATISFIED, 'reset needs PIN and PUK blocked');
  blankObjects(state);
  state.resetSecrets();
  ctx.markDirty();
  return ok();
}

/**
 * `F9 <slot>`: a certificate for the slot's public key, signed by the attestation key F9 (its own certificate is
 * object 5FFF01). The answer is the bare DER. Empty slot 6A88, as the tool expects.
 */
export async function attest(state: PivState, ctx: CardContext, apdu: CommandApdu): Promise<CardResponse> {
  if (!isKeySlot(apdu.p1) || apdu.p2 !== 0x00) throw new SwError(SW.INCORRECT_P1P2);
  const slot = state.keys.get(apdu.p1);
  if (!slot) throw new SwError(SW.REFERENCE_NOT_FOUND, `no key in ${apdu.p1.toString(16)}`);
  const attestation = state.keys.get(KEY_REF.ATTESTATION);
  if (!attestation) throw new SwError(SW.CONDITIONS_NOT_SATISFIED, 'this card has no attestation key');
  const now = new Date();
  const until = new Date(now);
  until.setUTCFullYear(now.getUTCFullYear() + 1);
  const name = `vscr PIV Attestation ${apdu.p1.toString(16)}`;
  try {
    const der = await makeCertificate(
      { key: slot.key, commonName: name, serial: ctx.random(8), notBefore: now, notAfter: until, keyUsage: 0x80, issuer: { ...ATTESTATION_ISSUER, key: attestation.key } },
      ctx.crypto,
    );
    return ok(der);
  } catch (err) {
    // The certificate's digest is the crypto device's work: its failure is the card's 6F00, as in the crypto applet.
    if (!(err instanceof NtStatusError)) throw err;
    ctx.logger.warn({ op: 'attest', status: err.code }, 'crypto device call failed; answering 6F00');
    throw new SwError(SW.NO_PRECISE_DIAGNOSIS, `crypto device failed during ATTEST: ${err.code}`);
  }
}
