// The applet types a profile's `applets` list may name: each checks its own profile entry and builds a fresh
// instance per card. Adding a type = one entry type in the ProfileApplet union and one row in APPLET_TYPES.

import type { Applet } from './card-context.js';
import { createCryptoApplet } from './crypto-applet.js';
import { parseHex } from './hex.js';
import { createPivApplet } from './piv/piv-applet.js';
import { PIV_DEFAULT_AID, validatePivEntry, type PivAppletEntry } from './piv/piv-profile.js';
import { createYubicoOtpApplet, YUBICO_OTP_AID_HEX, type YubicoOtpEntry } from './piv/yubico-otp-applet.js';
import { createOpenPgpApplet } from './openpgp/applet.js';

export interface CryptoAppletEntry {
  type: 'crypto';
  /** Application identifier in hex (5..16 bytes). */
  aid: string;
}

export interface OpenPgpAppletEntry {
  type: 'openpgp';
  /** Always D27600012401 (the card adds version, manufacturer and its own serial). */
  aid: string;
}

/** One entry of a profile's `applets` list (normalised: AID upper-case hex, options defaulted). */
export type ProfileApplet = CryptoAppletEntry | PivAppletEntry | YubicoOtpEntry | OpenPgpAppletEntry;

export interface AppletType<E extends ProfileApplet> {
  /** AID used when the entry gives none; without one the entry must name its AID. */
  readonly defaultAid?: string;
  /** Checks the type's own options (every key but `type` and `aid`), reporting through `problem`. */
  validate(entry: Readonly<Record<string, unknown>>, aid: string, at: string, problem: (message: string) => void): E | null;
  /** A new instance for one card (applets hold per-card state). */
  create(entry: E): Applet;
}

type Registry = { readonly [K in ProfileApplet['type']]: AppletType<Extract<ProfileApplet, { type: K }>> };

export const APPLET_TYPES: Registry = {
  crypto: {
    validate(entry, aid, at, problem) {
      for (const key of Object.keys(entry)) if (key !== 'type' && key !== 'aid') problem(`${at}: unknown option "${key}" for a crypto applet`);
      return { type: 'crypto', aid };
    },
    create: (entry) => createCryptoApplet(parseHex(entry.aid)!),
  },
  piv: {
    defaultAid: PIV_DEFAULT_AID,
    validate: validatePivEntry,
    create: createPivApplet,
  },
  'yubico-otp': {
    defaultAid: YUBICO_OTP_AID_HEX,
    validate(entry, aid, at, problem) {
      for (const key of Object.keys(entry)) if (key !== 'type' && key !== 'aid') problem(`${at}: unknown option "${key}" for a yubico-otp applet`);
      return { type: 'yubico-otp', aid };
    },
    create: createYubicoOtpApplet,
  },
  openpgp: {
    defaultAid: 'D27600012401',
    validate(entry, aid, at, problem) {
      for (const key of Object.keys(entry)) if (key !== 'type' && key !== 'aid') problem(`${at}: unknown option "${key}" for an openpgp applet`);
      if (aid !== 'D27600012401') problem(`${at}.aid must be D27600012401 (the card appends version, manufacturer and serial)`);
      return { type: 'openpgp', aid };
    },
    create: () => createOpenPgpApplet(),
  },
};

export function isAppletType(type: unknown): type is ProfileApplet['type'] {
  return typeof type === 'string' && Object.hasOwn(APPLET_TYPES, type);
}

export function createApplet(entry: ProfileApplet): Applet {
  // The registry row matches the entry's type by construction; TypeScript cannot correlate the two unions.
  const type = APPLET_TYPES[entry.type] as AppletType<ProfileApplet>;
  return type.create(entry);
}
