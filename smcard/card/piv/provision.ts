// Factory contents of the PIV applet: the Discovery object always; for a provisioned card also a CHUID, CCC,
// Printed Information and a key with a self-signed certificate in 9A, 9C, 9D and 9E (made on first insert).

import { berTlv } from '../ber-tlv.js';
import { generateKey, type KeyAlgorithm } from '../asymmetric/index.js';
import type { CardContext } from '../card-context.js';
import { certTagOf, defaultPinPolicy, DO, KEY_REF, PIV_AID } from './constants.js';
import type { PivState } from './piv-state.js';
import { selfSignedCertificate } from './x509.js';

/** FASC-N of agency code 9999 (a test value that marks the GUID as the card's identifier), SP 800-73-4 Part 1. */
const FASC_N = Buffer.from('D4E739DA739CED39CE739D836858210842108421C84210C3EB', 'hex');

/** `7E { 4F AID, 5F2F PIN usage policy: PIV PIN only }`. */
export function discoveryObject(): Uint8Array {
  return berTlv(DO.DISCOVERY, berTlv(0x4f, PIV_AID), berTlv(0x5f2f, [0x40, 0x00]));
}

/** Container `53 { 70 cert, 71 CertInfo (uncompressed), FE LRC }`. */
export function certificateObject(der: Uint8Array): Uint8Array {
  return berTlv(0x53, berTlv(0x70, der), berTlv(0x71, [0x00]), berTlv(0xfe, []));
}

const SLOTS: readonly { slot: number; algorithm: KeyAlgorithm; name: string; keyUsage: number }[] = [
  { slot: 0x9a, algorithm: 'rsa2048', name: 'PIV Authentication', keyUsage: 0x80 },
  { slot: 0x9c, algorithm: 'p256', name: 'Digital Signature', keyUsage: 0xc0 },
  { slot: 0x9d, algorithm: 'rsa2048', name: 'Key Management', keyUsage: 0x20 },
  { slot: 0x9e, algorithm: 'p256', name: 'Card Authentication', keyUsage: 0x80 },
];

/** What a reset leaves: Discovery, and the attestation key with its certificate (a card keeps those for life). */
export function blankObjects(state: PivState): void {
  const attestationKey = state.keys.get(KEY_REF.ATTESTATION);
  const attestationCert = state.objects.get(DO.YK_ATTESTATION_CERT);
  state.objects.clear();
  state.keys.clear();
  state.objects.set(DO.DISCOVERY, discoveryObject());
  if (attestationKey && attestationCert) {
    state.keys.set(KEY_REF.ATTESTATION, attestationKey);
    state.objects.set(DO.YK_ATTESTATION_CERT, attestationCert);
  }
}

export const ATTESTATION_ISSUER = { commonName: 'vscr PIV Attestation', organization: 'vscr' };

export async function provision(state: PivState, ctx: CardContext): Promise<void> {
  blankObjects(state);
  const serialBytes = ctx.random(4);
  state.serial = Buffer.from(serialBytes).readUInt32BE(0) & 0x7fffffff;
  const now = new Date();
  const expiry = new Date(now);
  expiry.setUTCFullYear(now.getUTCFullYear() + 10);
  // The attestation key (F9) signs statements that a slot's key was made on this card; blank cards have it too.
  const attestationKey = await generateKey('p256');
  const attestationCert = await selfSignedCertificate(
    { key: attestationKey, ...ATTESTATION_ISSUER, serial: ctx.random(8), notBefore: now, notAfter: expiry, keyUsage: 0x04, ca: true },
    ctx.crypto,
  );
  state.keys.set(KEY_REF.ATTESTATION, { key: attestationKey, pinPolicy: 'never', touchPolicy: 'never' });
  state.objects.set(DO.YK_ATTESTATION_CERT, certificateObject(attestationCert));
  if (state.entry.provision === 'blank') return;
  const ymd = expiry.toISOString().slice(0, 10).replace(/-/g, '');
  state.objects.set(
    DO.CHUID,
    berTlv(0x53, berTlv(0x30, FASC_N), berTlv(0x34, ctx.random(16)), berTlv(0x35, Buffer.from(ymd, 'latin1')), berTlv(0x3e, []), berTlv(0xfe, [])),
  );
  const cardId = Buffer.concat([Buffer.from('A000000116FF02', 'hex'), ctx.random(14)]);
  state.objects.set(
    DO.CCC,
    berTlv(0x53, berTlv(0xf0, cardId), berTlv(0xf1, [0x21]), berTlv(0xf2, [0x21]), berTlv(0xf3, []), berTlv(0xf4, [0x00]), berTlv(0xf5, [0x10]),
      berTlv(0xf6, []), berTlv(0xf7, []), berTlv(0xfa, []), berTlv(0xfb, []), berTlv(0xfc, []), berTlv(0xfd, []), berTlv(0xfe, [])),
  );
  const months = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
  const printedExpiry = `${expiry.getUTCFullYear()}${months[expiry.getUTCMonth()]}${String(expiry.getUTCDate()).padStart(2, '0')}`;
  state.objects.set(
    DO.PRINTED_INFO,
    berTlv(0x53, berTlv(0x01, Buffer.from('vscr virtual PIV card')), berTlv(0x02, Buffer.from('vscr')), berTlv(0x04, Buffer.from(printedExpiry)),
      berTlv(0x05, Buffer.from(String(state.serial))), berTlv(0x06, Buffer.from('vscr')), berTlv(0xfe, [])),
  );
  const keys = await Promise.all(SLOTS.map((s) => generateKey(s.algorithm)));
  for (const [i, s] of SLOTS.entries()) {
    const key = keys[i];
    const cert = await selfSignedCertificate(
      { key, commonName: `vscr ${s.name}`, organization: 'vscr', serial: ctx.random(8), notBefore: now, notAfter: expiry, keyUsage: s.keyUsage },
      ctx.crypto,
    );
    state.keys.set(s.slot, { key, pinPolicy: defaultPinPolicy(s.slot), touchPolicy: 'never' });
    state.objects.set(certTagOf(s.slot)!, certificateObject(cert));
  }
}
