// Helpers for the OpenPGP applet's unit tests: a blank card, APDUs by name, and the 7F49 public key parsed.

import { createPublicKey, type KeyObject } from 'node:crypto';
import { createVirtualCard, type VirtualCard } from '../../../../smcard/card/index.js';
import { parseTlvs } from '../../../../smcard/card/ber-tlv.js';
import { ascii, h, hex, nodeCryptoCardCrypto, tx, type Reply } from '../helpers.js';

export { ascii, h, hex, tx };

export const SELECT = '00A4040006D27600012401';
export const VERIFY_PW1_81 = `0020008106${ascii('123456')}`;
export const VERIFY_PW1_82 = `0020008206${ascii('123456')}`;
export const VERIFY_PW3 = `0020008308${ascii('12345678')}`;
export const ATTR = {
  rsa2048: '010800002000',
  ed25519: '162B06010401DA470F01',
  cv25519: '122B060104019755010501',
  p256ecdsa: '132A8648CE3D030107',
  p256ecdh: '122A8648CE3D030107',
} as const;

export async function blankCard(opts: { dataDir?: string; key?: Buffer } = {}): Promise<VirtualCard> {
  const card = await createVirtualCard({ profile: 'openpgp', crypto: nodeCryptoCardCrypto(opts.key), dataDir: opts.dataDir });
  await card.coldReset();
  return card;
}

/** Sends each APDU in turn and returns the replies. */
export async function send(card: VirtualCard, ...apdus: string[]): Promise<Reply[]> {
  const out: Reply[] = [];
  for (const a of apdus) out.push(await tx(card, a));
  return out;
}

/** A short APDU: header (4 bytes hex), data, optional Le. */
export function cmd(header: string, data = '', le?: number): string {
  let out = header;
  if (data.length > 0) out += (data.length / 2).toString(16).padStart(2, '0').toUpperCase() + data;
  if (le !== undefined) out += (le === 256 ? 0 : le).toString(16).padStart(2, '0');
  return out;
}

/** An extended APDU with Lc (and Le 0000 = up to 65536). */
export function extended(header: string, data: string): string {
  const n = data.length / 2;
  return `${header}00${n.toString(16).padStart(4, '0')}${data}0000`;
}

export function putData(tag: string, value: string): string {
  return cmd(`00DA${tag}`, value);
}

/** Value of each element of a TLV concatenation, by tag. */
export function tlvMap(data: string | Uint8Array): Map<number, string> {
  return new Map(parseTlvs(typeof data === 'string' ? h(data) : data).map((t) => [t.tag, hex(t.value)]));
}

/** 7F49 from GENERATE: RSA n/e (81/82) or the point (86). */
export function parsePublicKey(data: string): { n?: string; e?: string; point?: string } {
  const inner = tlvMap(tlvMap(data).get(0x7f49)!);
  return { n: inner.get(0x81), e: inner.get(0x82), point: inner.get(0x86) };
}

export function rsaPublicKey(n: string, e: string): KeyObject {
  return createPublicKey({ key: { kty: 'RSA', n: Buffer.from(n, 'hex').toString('base64url'), e: Buffer.from(e, 'hex').toString('base64url') }, format: 'jwk' });
}

export function okpPublicKey(crv: 'Ed25519' | 'X25519', point: string): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv, x: Buffer.from(point, 'hex').toString('base64url') }, format: 'jwk' });
}

export function p256PublicKey(point: string): KeyObject {
  const b = Buffer.from(point, 'hex');
  return createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: b.subarray(1, 33).toString('base64url'), y: b.subarray(33).toString('base64url') }, format: 'jwk' });
}
