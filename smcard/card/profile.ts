// Card profiles: the JSON shape (name, ATR, files, PIN/PUK, applets) and its validation with clear errors.

import { AtrError, parseAtr } from './atr.js';
import { CardProfileError } from './errors.js';
import { parseHex } from './hex.js';
import { APPLET_TYPES, isAppletType, type ProfileApplet } from './applet-types.js';

/** Who may do an operation on an EF: anyone, only after a successful VERIFY of the PIN, or nobody. */
export type AccessRule = 'always' | 'pin' | 'never';

export interface ProfileDf {
  type: 'DF';
  /** FIDs from the MF, slash-separated hex: `3F00/5000`. The MF itself is implicit. */
  path: string;
  /** DF name (AID) in hex, 1..16 bytes, for SELECT by DF name (P1=04). */
  name?: string;
}

export interface ProfileEf {
  type: 'EF';
  /** `3F00/5000/5001` */
  path: string;
  /** Initial contents in hex (padded with 00 up to `size`). Default empty. */
  contents?: string;
  /** Fixed file size in bytes (0..32767); default the contents' length. */
  size?: number;
  /** Default `always`. */
  read?: AccessRule;
  /** Default `pin`. */
  update?: AccessRule;
  /** A deactivated EF selects with 6283 and refuses READ/UPDATE BINARY with 6985. */
  deactivated?: boolean;
}

export type ProfileFile = ProfileDf | ProfileEf;

export interface ProfileSecret {
  /** Printable ASCII, e.g. "1234"; sent on the wire as these bytes. */
  value: string;
  /** Wrong presentations allowed before blocking (1..15, so the count fits the x of 63Cx). */
  maxRetries: number;
}

export type { ProfileApplet } from './applet-types.js';

export interface CardProfile {
  /** Lower-case letters, digits and '-'. */
  name: string;
  description?: string;
  /** ATR in hex; must pass the ATR rules (TS, TCK, ≤ 33 bytes). */
  atr: string;
  /** PIN (reference 81). minLength default 4; maximum length is always 8. */
  pin: ProfileSecret & { minLength?: number };
  /** PUK for RESET RETRY COUNTER. */
  puk: ProfileSecret;
  files: ProfileFile[];
  applets: ProfileApplet[];
}

/** Longest PIN/PUK (one 8-byte PIN block, see APDUS.md). */
export const MAX_SECRET_LENGTH = 8;
/** READ/UPDATE BINARY offsets are 15 bits (P1 b8 = 0). */
export const MAX_EF_SIZE = 0x7fff;
export const MF_FID = '3F00';

const ACCESS_RULES: readonly AccessRule[] = ['always', 'pin', 'never'];
const NAME_RE = /^[a-z0-9][a-z0-9-]{0,63}$/;
const PATH_RE = /^3F00(\/[0-9A-F]{4})+$/;
const RESERVED_FIDS = new Set(['3F00', '3FFF', 'FFFF']);

/**
 * Checks an untrusted profile (parsed JSON or a caller's object) and returns a normalised copy: paths and hex
 * upper-case, defaults filled in. Throws CardProfileError listing every problem found.
 */
export function validateProfile(input: unknown, source = 'profile'): CardProfile {
  const problems: string[] = [];
  const p = (msg: string): void => {
    problems.push(msg);
  };
  if (!isRecord(input)) throw new CardProfileError(source, ['must be a JSON object']);
  const name = typeof input.name === 'string' ? input.name : '';
  const label = name || source;
  if (!NAME_RE.test(name)) p(`name must match ${NAME_RE} (got ${JSON.stringify(input.name)})`);
  if (input.description !== undefined && typeof input.description !== 'string') p('description must be a string');

  // ATR
  let atr = '';
  if (typeof input.atr !== 'string') p('atr must be a hex string');
  else {
    const bytes = parseHex(input.atr);
    if (!bytes) p(`atr is not hex: ${JSON.stringify(input.atr)}`);
    else {
      try {
        const parsed = parseAtr(bytes);
        if (!parsed.protocols.some((t) => t === 0 || t === 1)) p('atr offers neither T=0 nor T=1');
        atr = input.atr.replace(/\s+/g, '').toUpperCase();
      } catch (err) {
        if (!(err instanceof AtrError)) throw err;
        p(`atr: ${err.message}`);
      }
    }
  }

  const pin = checkSecret(input.pin, 'pin', p);
  const puk = checkSecret(input.puk, 'puk', p);
  let minLength = 4;
  if (isRecord(input.pin) && input.pin.minLength !== undefined) {
    if (!isInt(input.pin.minLength, 1, MAX_SECRET_LENGTH)) p(`pin.minLength must be an integer 1..${MAX_SECRET_LENGTH}`);
    else minLength = input.pin.minLength;
  }
  if (pin && pin.value.length < minLength) p(`pin.value is shorter than pin.minLength (${minLength})`);

  // Files
  const files: ProfileFile[] = [];
  const kinds = new Map<string, 'DF' | 'EF'>([[MF_FID, 'DF']]);
  const names = new Map<string, string>();
  if (!Array.isArray(input.files)) p('files must be an array');
  else {
    input.files.forEach((f: unknown, i: number) => {
      const at = `files[${i}]`;
      if (!isRecord(f)) return p(`${at} must be an object`);
      if (f.type !== 'DF' && f.type !== 'EF') return p(`${at}.type must be "DF" or "EF"`);
      if (typeof f.path !== 'string') return p(`${at}.path must be a string like "3F00/5000"`);
      const path = f.path.toUpperCase();
      if (!PATH_RE.test(path)) return p(`${at}.path "${f.path}" must be 3F00 followed by /XXXX hex FIDs (the MF is implicit)`);
      const fids = path.split('/');
      const fid = fids[fids.length - 1];
      if (RESERVED_FIDS.has(fid)) return p(`${at}.path "${f.path}": FID ${fid} is reserved`);
      if (kinds.has(path)) return p(`${at}.path "${f.path}" is declared twice`);
      const parent = fids.slice(0, -1).join('/');
      if (kinds.get(parent) !== 'DF') return p(`${at}.path "${f.path}": parent ${parent} must be a DF declared earlier`);
      kinds.set(path, f.type);
      if (f.type === 'DF') {
        const df: ProfileDf = { type: 'DF', path };
        if (f.name !== undefined) {
          const text = typeof f.name === 'string' ? f.name : '';
          const bytes = parseHex(text);
          if (!bytes || bytes.length < 1 || bytes.length > 16) return p(`${at}.name must be 1..16 bytes of hex`);
          const key = text.replace(/\s+/g, '').toUpperCase();
          if (names.has(key)) return p(`${at}.name ${key} is already used by ${names.get(key)}`);
          names.set(key, path);
          df.name = key;
        }
        for (const k of ['contents', 'size', 'read', 'update', 'deactivated']) if (k in f) p(`${at}: "${k}" is only for EFs`);
        files.push(df);
        return;
      }
      if ('name' in f) p(`${at}: "name" is only for DFs`);
      const contents = f.contents === undefined ? new Uint8Array(0) : typeof f.contents === 'string' ? parseHex(f.contents) : null;
      if (!contents) return p(`${at}.contents must be hex`);
      const size = f.size === undefined ? contents.length : f.size;
      if (!isInt(size, 0, MAX_EF_SIZE)) return p(`${at}.size must be an integer 0..${MAX_EF_SIZE}`);
      if (contents.length > size) return p(`${at}.contents (${contents.length} bytes) is larger than size ${size}`);
      const ef: ProfileEf = { type: 'EF', path, contents: Buffer.from(contents).toString('hex').toUpperCase(), size };
      for (const k of ['read', 'update'] as const) {
        const v = f[k] ?? (k === 'read' ? 'always' : 'pin');
        if (!ACCESS_RULES.includes(v as AccessRule)) p(`${at}.${k} must be one of ${ACCESS_RULES.join(', ')}`);
        else ef[k] = v as AccessRule;
      }
      if (f.deactivated !== undefined && typeof f.deactivated !== 'boolean') p(`${at}.deactivated must be a boolean`);
      else if (f.deactivated) ef.deactivated = true;
      files.push(ef);
    });
  }

  // Applets
  const applets: ProfileApplet[] = [];
  if (!Array.isArray(input.applets)) p('applets must be an array (may be empty)');
  else {
    input.applets.forEach((a: unknown, i: number) => {
      const at = `applets[${i}]`;
      if (!isRecord(a)) return p(`${at} must be an object`);
      if (!isAppletType(a.type)) return p(`${at}.type must be one of ${Object.keys(APPLET_TYPES).map((t) => `"${t}"`).join(', ')} (got ${JSON.stringify(a.type)})`);
      const type = APPLET_TYPES[a.type];
      const aidText = a.aid ?? type.defaultAid;
      const bytes = typeof aidText === 'string' ? parseHex(aidText) : null;
      if (!bytes || bytes.length < 5 || bytes.length > 16) return p(`${at}.aid must be 5..16 bytes of hex`);
      const key = (aidText as string).replace(/\s+/g, '').toUpperCase();
      if (names.has(key)) return p(`${at}.aid ${key} is already used by ${names.get(key)}`);
      names.set(key, at);
      const entry = type.validate(a, key, at, p);
      if (entry) applets.push(entry);
    });
  }

  if (problems.length > 0) throw new CardProfileError(label, problems);
  const out: CardProfile = {
    name,
    atr,
    pin: { value: pin!.value, maxRetries: pin!.maxRetries, minLength },
    puk: puk!,
    files,
    applets,
  };
  if (typeof input.description === 'string') out.description = input.description;
  return out;
}

function checkSecret(v: unknown, what: 'pin' | 'puk', p: (m: string) => void): ProfileSecret | null {
  if (!isRecord(v)) {
    p(`${what} must be an object { value, maxRetries }`);
    return null;
  }
  let ok = true;
  if (typeof v.value !== 'string' || !/^[\x20-\x7e]+$/.test(v.value) || v.value.length > MAX_SECRET_LENGTH) {
    p(`${what}.value must be 1..${MAX_SECRET_LENGTH} printable ASCII characters`);
    ok = false;
  }
  if (!isInt(v.maxRetries, 1, 15)) {
    p(`${what}.maxRetries must be an integer 1..15`);
    ok = false;
  }
  return ok ? { value: v.value as string, maxRetries: v.maxRetries as number } : null;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isInt(v: unknown, min: number, max: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
}
