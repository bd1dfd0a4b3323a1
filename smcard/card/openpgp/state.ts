// Everything one OpenPGP card remembers: passwords and their counters, the data objects, the three key slots,
// the signature counter and the life cycle; plus the volatile verification flags. Persisted as the applet's
// section of the card state file, with the passwords and private keys sealed through the crypto device.

import type { AsymmetricKey } from '../asymmetric/index.js';
import type { CardCrypto } from '../card-context.js';
import { CardStateError } from '../errors.js';
import { parseHex, toHex } from '../hex.js';
import { sealBytes, sealKey, unsealBytes, unsealKey } from '../key-store.js';
import { KEY_SLOTS, defaultAttributes, parseAttributes, type KeySlot } from './algorithm-attributes.js';
import { FACTORY_PW1, FACTORY_PW3, MANUFACTURER, MAX_TRIES, OPENPGP_RID_APP, VERSION } from './constants.js';

/** A password (PW1, PW3 or the resetting code) and its retry counter; empty value = not set. */
export class Password {
  private sealedText: string | null = null;
  constructor(
    private current: Uint8Array,
    public tries: number,
    private readonly label: string,
  ) {}

  get value(): Uint8Array {
    return this.current;
  }

  set(value: Uint8Array, tries: number): void {
    this.current = value;
    this.tries = tries;
    this.sealedText = null;
  }

  get isSet(): boolean {
    return this.current.length > 0;
  }

  /** Sealed once per value: saving state after every command must not re-encrypt unchanged secrets. */
  async sealed(crypto: CardCrypto | null): Promise<string> {
    this.sealedText ??= await sealBytes(crypto, this.label, this.current);
    return this.sealedText;
  }

  async restore(crypto: CardCrypto | null, text: unknown, tries: number, file: string): Promise<void> {
    this.current = await unsealBytes(crypto, this.label, text, file, this.label);
    this.tries = tries;
    this.sealedText = text as string;
  }
}

/** Origin of a key as key information (DE) reports it. */
export const KEY_ORIGIN = { NONE: 0x00, GENERATED: 0x01, IMPORTED: 0x02 } as const;

export interface SlotState {
  key: AsymmetricKey | null;
  sealedKey: string | null;
  attributes: Uint8Array;
  /** Written by the host (C7-C9, CA-CC, CE-D0); the card never computes them. */
  fingerprint: Uint8Array;
  caFingerprint: Uint8Array;
  time: Uint8Array;
  origin: number;
}

/** Verification states of §7.2.2: PW1 for PSO:CDS (81), PW1 for other operations (82), PW3 (83). */
export interface Verified {
  pw1Sign: boolean;
  pw1Other: boolean;
  pw3: boolean;
}

/** Private-use DOs 0101..0104. */
export const PRIVATE_DOS = [0x0101, 0x0102, 0x0103, 0x0104] as const;

function emptySlot(): SlotState {
  return { key: null, sealedKey: null, attributes: defaultAttributes(), fingerprint: new Uint8Array(20), caFingerprint: new Uint8Array(20), time: new Uint8Array(4), origin: KEY_ORIGIN.NONE };
}

const utf8 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf8'));

export class OpenPgpState {
  serial: Uint8Array;
  terminated = false;
  readonly pw1 = new Password(utf8(FACTORY_PW1), MAX_TRIES, 'openpgp:pw1');
  readonly pw3 = new Password(utf8(FACTORY_PW3), MAX_TRIES, 'openpgp:pw3');
  readonly rc = new Password(new Uint8Array(0), 0, 'openpgp:rc');
  /** C4 byte 1: 00 = PW1 (81) is valid for one signature only ("forced"), 01 = for several. */
  pw1Validity = 0x00;
  name: Uint8Array = new Uint8Array(0);
  language: Uint8Array = new Uint8Array(0);
  salutation: Uint8Array = new Uint8Array(0);
  url: Uint8Array = new Uint8Array(0);
  login: Uint8Array = new Uint8Array(0);
  readonly privateDos = new Map<number, Uint8Array>();
  /** Cardholder certificates by occurrence (SELECT DATA): 0 = authentication, 1 = decryption, 2 = signature. */
  certificates: Uint8Array[] = [new Uint8Array(0), new Uint8Array(0), new Uint8Array(0)];
  signatureCounter = 0;
  /** KDF DO (F9): `81 01 00` = PINs are sent as they are. */
  kdf: Uint8Array = Uint8Array.of(0x81, 0x01, 0x00);
  slots: Record<KeySlot, SlotState> = { sig: emptySlot(), dec: emptySlot(), aut: emptySlot() };

  readonly verified: Verified = { pw1Sign: false, pw1Other: false, pw3: false };
  /** Occurrence of 7F21 chosen by SELECT DATA (volatile). */
  certOccurrence = 0;

  constructor(serial: Uint8Array) {
    this.serial = serial;
  }

  /** The full 16-byte AID (DO 4F): RID+application, version, manufacturer, serial, RFU. */
  aid(): Uint8Array {
    return Uint8Array.of(...OPENPGP_RID_APP, ...VERSION, ...MANUFACTURER, ...this.serial, 0x00, 0x00);
  }

  /** ACTIVATE FILE after TERMINATE DF: everything back to the factory state; the serial stays (it names the card). */
  factoryReset(): void {
    const fresh = new OpenPgpState(this.serial);
    this.terminated = false;
    this.pw1.set(fresh.pw1.value, MAX_TRIES);
    this.pw3.set(fresh.pw3.value, MAX_TRIES);
    this.rc.set(new Uint8Array(0), 0);
    this.pw1Validity = fresh.pw1Validity;
    this.name = fresh.name;
    this.language = fresh.language;
    this.salutation = fresh.salutation;
    this.url = fresh.url;
    this.login = fresh.login;
    this.privateDos.clear();
    this.certificates = fresh.certificates;
    this.signatureCounter = 0;
    this.kdf = fresh.kdf;
    this.slots = fresh.slots;
    this.clearVerification();
  }

  clearVerification(): void {
    this.verified.pw1Sign = false;
    this.verified.pw1Other = false;
    this.verified.pw3 = false;
    this.certOccurrence = 0;
  }

  setKey(slot: KeySlot, key: AsymmetricKey | null, origin: number): void {
    const s = this.slots[slot];
    s.key = key;
    s.sealedKey = null;
    s.origin = key === null ? KEY_ORIGIN.NONE : origin;
  }

  async snapshot(crypto: CardCrypto | null): Promise<StateSection> {
    const slots = {} as Record<KeySlot, SlotSection>;
    for (const name of KEY_SLOTS) {
      const s = this.slots[name];
      if (s.key !== null) s.sealedKey ??= await sealKey(crypto, s.key);
      slots[name] = { attributes: toHex(s.attributes), fingerprint: toHex(s.fingerprint), caFingerprint: toHex(s.caFingerprint), time: toHex(s.time), origin: s.origin, key: s.key === null ? null : s.sealedKey };
    }
    const privateDos: Record<string, string> = {};
    for (const [tag, value] of this.privateDos) privateDos[tag.toString(16).padStart(4, '0')] = toHex(value);
    return {
      format: SECTION_FORMAT,
      serial: toHex(this.serial),
      terminated: this.terminated,
      pw1: { sealed: await this.pw1.sealed(crypto), tries: this.pw1.tries },
      pw3: { sealed: await this.pw3.sealed(crypto), tries: this.pw3.tries },
      rc: { sealed: this.rc.isSet ? await this.rc.sealed(crypto) : null, tries: this.rc.tries },
      pw1Validity: this.pw1Validity,
      name: toHex(this.name),
      language: toHex(this.language),
      salutation: toHex(this.salutation),
      url: toHex(this.url),
      login: toHex(this.login),
      privateDos,
      certificates: this.certificates.map(toHex),
      signatureCounter: this.signatureCounter,
      kdf: toHex(this.kdf),
      slots,
    };
  }

  /** Loads a section written by snapshot; any inconsistency is a CardStateError naming `file`. */
  static async restore(crypto: CardCrypto | null, input: unknown, file: string): Promise<OpenPgpState> {
    const bad = (why: string): CardStateError => new CardStateError(file, `OpenPGP section: ${why}`);
    const rec = (v: unknown, what: string): Record<string, unknown> => {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad(`${what} must be an object`);
      return v as Record<string, unknown>;
    };
    const bytes = (v: unknown, what: string, length?: number, max = 4096): Uint8Array => {
      const b = typeof v === 'string' ? parseHex(v) : null;
      if (b === null || (length !== undefined && b.length !== length) || b.length > max) throw bad(`${what} must be ${length ?? `at most ${max}`} bytes of hex`);
      return b;
    };
    const int = (v: unknown, what: string, max: number): number => {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) throw bad(`${what} must be an integer 0..${max}`);
      return v;
    };
    const s = rec(input, 'the section');
    if (s.format !== SECTION_FORMAT) throw bad(`format must be ${SECTION_FORMAT}`);
    const state = new OpenPgpState(bytes(s.serial, 'serial', 4));
    if (typeof s.terminated !== 'boolean') throw bad('terminated must be true or false');
    state.terminated = s.terminated;
    for (const [name, pw] of [['pw1', state.pw1], ['pw3', state.pw3]] as const) {
      const p = rec(s[name], name);
      await pw.restore(crypto, p.sealed, int(p.tries, `${name}.tries`, MAX_TRIES), file);
    }
    const rc = rec(s.rc, 'rc');
    if (rc.sealed === null) state.rc.set(new Uint8Array(0), 0);
    else await state.rc.restore(crypto, rc.sealed, int(rc.tries, 'rc.tries', MAX_TRIES), file);
    state.pw1Validity = int(s.pw1Validity, 'pw1Validity', 1);
    state.name = bytes(s.name, 'name');
    state.language = bytes(s.language, 'language');
    state.salutation = bytes(s.salutation, 'salutation');
    state.url = bytes(s.url, 'url');
    state.login = bytes(s.login, 'login');
    for (const [key, value] of Object.entries(rec(s.privateDos, 'privateDos'))) {
      const tag = Number.parseInt(key, 16);
      if (!(PRIVATE_DOS as readonly number[]).includes(tag)) throw bad(`privateDos has an unknown tag ${key}`);
      state.privateDos.set(tag, bytes(value, `privateDos.${key}`));
    }
    if (!Array.isArray(s.certificates) || s.certificates.length !== 3) throw bad('certificates must list 3 values');
    state.certificates = s.certificates.map((c, i) => bytes(c, `certificates[${i}]`));
    state.signatureCounter = int(s.signatureCounter, 'signatureCounter', 0xffffff);
    state.kdf = bytes(s.kdf, 'kdf');
    const slots = rec(s.slots, 'slots');
    for (const name of KEY_SLOTS) {
      const slot = rec(slots[name], `slots.${name}`);
      const target = state.slots[name];
      target.attributes = bytes(slot.attributes, `slots.${name}.attributes`);
      const algorithm = parseAttributes(target.attributes, name);
      if (algorithm === null) throw bad(`slots.${name}.attributes name no algorithm this card supports`);
      target.fingerprint = bytes(slot.fingerprint, `slots.${name}.fingerprint`, 20);
      target.caFingerprint = bytes(slot.caFingerprint, `slots.${name}.caFingerprint`, 20);
      target.time = bytes(slot.time, `slots.${name}.time`, 4);
      target.origin = int(slot.origin, `slots.${name}.origin`, 2);
      if (slot.key !== null) {
        const key = await unsealKey(crypto, slot.key, file, `OpenPGP ${name} key`);
        if (key.algorithm !== algorithm) throw bad(`slots.${name} holds a ${key.algorithm} key but its attributes say ${algorithm}`);
        target.key = key;
        target.sealedKey = slot.key as string;
      }
    }
    return state;
  }
}

const SECTION_FORMAT = 1;

interface SlotSection {
  attributes: string;
  fingerprint: string;
  caFingerprint: string;
  time: string;
  origin: number;
  key: string | null;
}

export interface StateSection {
  format: number;
  serial: string;
  terminated: boolean;
  pw1: { sealed: string; tries: number };
  pw3: { sealed: string; tries: number };
  rc: { sealed: string | null; tries: number };
  pw1Validity: number;
  name: string;
  language: string;
  salutation: string;
  url: string;
  login: string;
  privateDos: Record<string, string>;
  certificates: string[];
  signatureCounter: number;
  kdf: string;
  slots: Record<KeySlot, SlotSection>;
}
