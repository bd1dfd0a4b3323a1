// The PIV applet's state: data objects, keys per slot with their policies, PIN/PUK counters, the management
// key (persistent, secrets sealed on the crypto device in the state file) and the session flags (volatile).

import type { AsymmetricKey } from '../asymmetric/keys.js';
import type { CardContext } from '../card-context.js';
import { CardStateError } from '../errors.js';
import { parseHex, toHex } from '../hex.js';
import { sealBytes, sealKey, unsealBytes, unsealKey } from '../key-store.js';
import { Secret } from '../pin.js';
import { isDataObjectTag, isKeySlot, MGMT_ALG, type ManagementAlgorithm, type PinPolicy, type TouchPolicy } from './constants.js';
import type { PivAppletEntry } from './piv-profile.js';

export interface SlotKey {
  key: AsymmetricKey;
  pinPolicy: PinPolicy;
  touchPolicy: TouchPolicy;
  /** The key as sealed for the state file, once computed (keys never change in place). */
  sealed?: string;
}

export interface ManagementKey {
  algorithm: ManagementAlgorithm;
  value: Uint8Array;
}

/** A pending GENERAL AUTHENTICATE step with the management key. */
export type MgmtChallenge = { kind: 'witness'; plain: Uint8Array } | { kind: 'challenge'; plain: Uint8Array };

export class PivState {
  /** Data objects by tag, each the complete answer to GET DATA (`53 …` or `7E …`). */
  readonly objects = new Map<number, Uint8Array>();
  readonly keys = new Map<number, SlotKey>();
  pin: Secret;
  puk: Secret;
  mgmt: ManagementKey;
  serial = 0;
  // Volatile.
  pinVerified = false;
  /** A VERIFY happened and no PIN-always key has used it yet. */
  pinFresh = false;
  mgmtAuthenticated = false;
  challenge: MgmtChallenge | null = null;
  /** Sealed forms of the current secrets, reset when a value changes. */
  private sealedSecrets = new Map<string, { plain: string; sealed: string }>();

  constructor(readonly entry: PivAppletEntry) {
    this.pin = secretOf(entry.pin);
    this.puk = secretOf(entry.puk);
    this.mgmt = { algorithm: entry.managementKey.algorithm, value: parseHex(entry.managementKey.value)! };
  }

  clearSession(): void {
    this.pinVerified = false;
    this.pinFresh = false;
    this.mgmtAuthenticated = false;
    this.challenge = null;
  }

  /** Factory PIN, PUK and management key (set-retries and reset bring these back). */
  resetSecrets(pinRetries = this.entry.pin.maxRetries, pukRetries = this.entry.puk.maxRetries): void {
    this.pin = new Secret(ascii(this.entry.pin.value), pinRetries);
    this.puk = new Secret(ascii(this.entry.puk.value), pukRetries);
    this.mgmt = { algorithm: this.entry.managementKey.algorithm, value: parseHex(this.entry.managementKey.value)! };
    this.clearSession();
  }

  async snapshot(ctx: CardContext): Promise<PivStateDoc> {
    const keys: PivStateDoc['keys'] = {};
    for (const [slot, k] of [...this.keys].sort((a, b) => a[0] - b[0])) {
      k.sealed ??= await sealKey(ctx.crypto, k.key);
      keys[hexByte(slot)] = { sealed: k.sealed, pinPolicy: k.pinPolicy, touchPolicy: k.touchPolicy };
    }
    const objects: Record<string, string> = {};
    for (const [tag, value] of [...this.objects].sort((a, b) => a[0] - b[0])) objects[tag.toString(16).toUpperCase()] = toHex(value);
    return {
      pin: { sealed: await this.seal(ctx, 'piv-pin', this.pin.value), retriesLeft: this.pin.retriesLeft, maxRetries: this.pin.maxRetries },
      puk: { sealed: await this.seal(ctx, 'piv-puk', this.puk.value), retriesLeft: this.puk.retriesLeft, maxRetries: this.puk.maxRetries },
      managementKey: { algorithm: this.mgmt.algorithm, sealed: await this.seal(ctx, 'piv-mgmt', this.mgmt.value) },
      serial: this.serial,
      objects,
      keys,
    };
  }

  /** Reads a section written by snapshot; all of it is checked before anything is replaced. */
  async restore(ctx: CardContext, input: unknown, file: string): Promise<void> {
    const bad = (reason: string): CardStateError => new CardStateError(file, `PIV applet: ${reason}`);
    const doc = record(input, 'section', bad);
    const pinDoc = record(doc.pin, 'pin', bad);
    const pukDoc = record(doc.puk, 'puk', bad);
    const mgmtDoc = record(doc.managementKey, 'managementKey', bad);
    const algorithm = mgmtDoc.algorithm;
    if (typeof algorithm !== 'string' || !Object.hasOwn(MGMT_ALG, algorithm)) throw bad('"managementKey.algorithm" is not a known algorithm');
    const serial = doc.serial;
    if (typeof serial !== 'number' || !Number.isInteger(serial) || serial < 0 || serial > 0xffffffff) throw bad('"serial" is not a 32-bit integer');
    const objects = new Map<number, Uint8Array>();
    for (const [tagHex, value] of Object.entries(record(doc.objects, 'objects', bad))) {
      const tag = Number.parseInt(tagHex, 16);
      const bytes = typeof value === 'string' ? parseHex(value) : null;
      if (!/^[0-9A-F]{2,6}$/.test(tagHex) || !isDataObjectTag(tag) || !bytes) throw bad(`"objects"."${tagHex}" is not a data object`);
      objects.set(tag, bytes);
    }
    const keyDocs = Object.entries(record(doc.keys, 'keys', bad));
    const keys = new Map<number, SlotKey>();
    for (const [slotHex, value] of keyDocs) {
      const slot = Number.parseInt(slotHex, 16);
      if (!/^[0-9A-F]{2}$/.test(slotHex) || !(isKeySlot(slot) || slot === 0xf9)) throw bad(`"keys"."${slotHex}" is not a key slot`);
      const k = record(value, `keys.${slotHex}`, bad);
      if (!['never', 'once', 'always'].includes(k.pinPolicy as string)) throw bad(`"keys"."${slotHex}".pinPolicy is invalid`);
      if (!['never', 'always', 'cached'].includes(k.touchPolicy as string)) throw bad(`"keys"."${slotHex}".touchPolicy is invalid`);
      const key = await unsealKey(ctx.crypto, k.sealed, file, `PIV key ${slotHex}`);
      keys.set(slot, { key, pinPolicy: k.pinPolicy as PinPolicy, touchPolicy: k.touchPolicy as TouchPolicy, sealed: k.sealed as string });
    }
    const pin = await this.openSecret(ctx, 'piv-pin', pinDoc, file, bad);
    const puk = await this.openSecret(ctx, 'piv-puk', pukDoc, file, bad);
    const mgmtValue = await unsealBytes(ctx.crypto, 'piv-mgmt', mgmtDoc.sealed, file, 'PIV management key');
    if (mgmtValue.length !== MGMT_ALG[algorithm as ManagementAlgorithm].keyLength) throw bad('management key has the wrong length');
    this.pin = pin;
    this.puk = puk;
    this.mgmt = { algorithm: algorithm as ManagementAlgorithm, value: mgmtValue };
    this.serial = serial;
    this.objects.clear();
    for (const [t, v] of objects) this.objects.set(t, v);
    this.keys.clear();
    for (const [s, k] of keys) this.keys.set(s, k);
    this.sealedSecrets.set('piv-pin', { plain: toHex(pin.value), sealed: pinDoc.sealed as string });
    this.sealedSecrets.set('piv-puk', { plain: toHex(puk.value), sealed: pukDoc.sealed as string });
    this.sealedSecrets.set('piv-mgmt', { plain: toHex(mgmtValue), sealed: mgmtDoc.sealed as string });
  }

  private async openSecret(ctx: CardContext, label: string, doc: Record<string, unknown>, file: string, bad: (r: string) => CardStateError): Promise<Secret> {
    const max = doc.maxRetries;
    const left = doc.retriesLeft;
    if (typeof max !== 'number' || !Number.isInteger(max) || max < 1 || max > 15) throw bad(`"${label}.maxRetries" is invalid`);
    if (typeof left !== 'number' || !Number.isInteger(left) || left < 0 || left > max) throw bad(`"${label}.retriesLeft" is invalid`);
    const value = await unsealBytes(ctx.crypto, label, doc.sealed, file, label);
    if (value.length < 1 || value.length > 8) throw bad(`${label} has the wrong length`);
    return new Secret(value, max, left);
  }

  /** Re-seals a secret only when its value changed since the last snapshot. */
  private async seal(ctx: CardContext, label: string, value: Uint8Array): Promise<string> {
    const plain = toHex(value);
    const cached = this.sealedSecrets.get(label);
    if (cached && cached.plain === plain) return cached.sealed;
    const sealed = await sealBytes(ctx.crypto, label, value);
    this.sealedSecrets.set(label, { plain, sealed });
    return sealed;
  }
}

export interface PivStateDoc {
  pin: { sealed: string; retriesLeft: number; maxRetries: number };
  puk: { sealed: string; retriesLeft: number; maxRetries: number };
  managementKey: { algorithm: ManagementAlgorithm; sealed: string };
  serial: number;
  /** Tag (hex) → the object's GET DATA answer (hex). */
  objects: Record<string, string>;
  keys: Record<string, { sealed: string; pinPolicy: PinPolicy; touchPolicy: TouchPolicy }>;
}

function secretOf(o: { value: string; maxRetries: number }): Secret {
  return new Secret(ascii(o.value), o.maxRetries);
}

function ascii(s: string): Uint8Array {
  return Uint8Array.from(Buffer.from(s, 'latin1'));
}

function hexByte(n: number): string {
  return n.toString(16).toUpperCase().padStart(2, '0');
}

function record(v: unknown, what: string, bad: (r: string) => CardStateError): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad(`"${what}" is not an object`);
  return v as Record<string, unknown>;
}
