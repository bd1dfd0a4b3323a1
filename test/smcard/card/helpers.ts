// Test helpers for the virtual card: hex I/O, a transmit shortcut, and a CardCrypto built on node:crypto
// (for APDU-layer unit tests only; the real crypto device is exercised in crypto-applet-device.test.ts).

import { createCipheriv, createDecipheriv, createHash } from 'node:crypto';
import type { CardCrypto, VirtualCard } from '../../../smcard/card/index.js';

export const T0 = 1;
export const T1 = 2;

export function h(text: string): Uint8Array {
  return Uint8Array.from(Buffer.from(text.replace(/\s+/g, ''), 'hex'));
}

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex').toUpperCase();
}

export interface Reply {
  data: string;
  sw: string;
  raw: Uint8Array;
}

export async function tx(card: VirtualCard, apdu: string | Uint8Array, protocol = T1): Promise<Reply> {
  const raw = await card.transmit(typeof apdu === 'string' ? h(apdu) : apdu, protocol);
  return { data: hex(raw.subarray(0, raw.length - 2)), sw: hex(raw.subarray(raw.length - 2)), raw };
}

/** The device's rules (docs/crypto-device.md "AES-256-CBC"): key SHA-256("secret"), fixed IV, zero padding. */
export const TEST_KEY = createHash('sha256').update('secret').digest();
export const DEVICE_IV = Buffer.from('32ad5cdf529aae2be15c7e2ea19e5163', 'hex');

export function zeroPad(data: Uint8Array): Buffer {
  const out = Buffer.alloc(Math.ceil(data.length / 16) * 16);
  out.set(data);
  return out;
}

export function refEncrypt(data: Uint8Array, key: Buffer = TEST_KEY): Buffer {
  const c = createCipheriv('aes-256-cbc', key, DEVICE_IV).setAutoPadding(false);
  return Buffer.concat([c.update(zeroPad(data)), c.final()]);
}

export function refDecrypt(data: Uint8Array, key: Buffer = TEST_KEY): Buffer {
  const d = createDecipheriv('aes-256-cbc', key, DEVICE_IV).setAutoPadding(false);
  return Buffer.concat([d.update(data), d.final()]);
}

export function refSha256(data: Uint8Array): Buffer {
  return createHash('sha256').update(data).digest();
}

/** A CardCrypto implemented with node:crypto, standing in for the device in APDU-layer unit tests. */
export function nodeCryptoCardCrypto(key: Buffer = TEST_KEY): CardCrypto & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    async sha256(data) {
      calls.push('sha256');
      return Uint8Array.from(refSha256(data as Uint8Array));
    },
    async aesCbcEncrypt(data) {
      calls.push('aesCbcEncrypt');
      return Uint8Array.from(refEncrypt(data, key));
    },
    async aesCbcDecrypt(data) {
      calls.push('aesCbcDecrypt');
      return Uint8Array.from(refDecrypt(data, key));
    },
  };
}

/** PIN as an 8-byte block right-padded with FF (two-block commands). */
export function pinBlock(pin: string): string {
  return Buffer.from(pin, 'latin1').toString('hex').toUpperCase().padEnd(16, 'F');
}

export function ascii(text: string): string {
  return Buffer.from(text, 'latin1').toString('hex').toUpperCase();
}

/** Short APDU builder independent of the card's own buildCommandApdu. */
export function apdu(header: string, data?: string, le?: number): string {
  let out = header;
  if (data !== undefined && data.length > 0) out += (data.length / 2).toString(16).padStart(2, '0') + data;
  if (le !== undefined) out += (le === 256 ? 0 : le).toString(16).padStart(2, '0');
  return out;
}
