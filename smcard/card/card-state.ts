// The persistent part of a card (EF contents, PIN/PUK and their counters) as a versioned JSON document,
// with strict checks on load so a damaged or foreign file is reported, not guessed at. The PIN and PUK are
// sealed by the crypto device when the card has one, else kept as salted SHA-256 digests (only comparison
// and replacement are ever needed); version 1 files, which held them in plain hex, still load.

import type { CardCrypto } from './card-context.js';
import type { CardFileSystem } from './file-system.js';
import { DIGEST_SALT_LENGTH, Secret, type PinState } from './pin.js';
import { CardStateError } from './errors.js';
import { bytesEqual, parseHex, toHex } from './hex.js';
import { sealBytes, unsealBytes } from './key-store.js';
import { MAX_SECRET_LENGTH } from './profile.js';

export const STATE_FORMAT = 'vscr-card-state';
export const STATE_VERSION = 2;
/** The previous version: identical but for `pin`/`puk`, which held `value` (plain hex). Read, never written. */
const PLAIN_SECRETS_VERSION = 1;

/** A sealed value (card with a crypto device) or a salted digest (`salt` and `sha256`, hex) — never both. */
type SecretDoc = ({ sealed: string } | { salt: string; sha256: string }) & { retriesLeft: number };

export interface CardStateDoc {
  format: typeof STATE_FORMAT;
  version: typeof STATE_VERSION;
  profile: string;
  pin: SecretDoc;
  puk: SecretDoc;
  /** EF path → contents (hex, exactly the EF's size). */
  files: Record<string, string>;
  /** Applet AID (hex, upper-case) → that applet's own section (AppletPersistence); absent when no applet has one. */
  applets?: Record<string, unknown>;
}

/** Seal labels: bind each blob to its use, so a sealed PUK cannot be swapped in as the PIN (or as an applet's). */
const LABEL = { pin: 'card-pin', puk: 'card-puk' } as const;

/** Last sealing of each secret's value, so a save (one per counter change) does not go to the device again. */
const sealedCache = new WeakMap<Secret, { plain: Uint8Array; sealed: string }>();

async function secretDoc(crypto: CardCrypto | null, which: keyof typeof LABEL, secret: Secret): Promise<SecretDoc> {
  const plain = secret.known;
  const retriesLeft = secret.retriesLeft;
  if (crypto && plain) {
    const cached = sealedCache.get(secret);
    if (cached && bytesEqual(cached.plain, plain)) return { sealed: cached.sealed, retriesLeft };
    const sealed = await sealBytes(crypto, LABEL[which], plain);
    sealedCache.set(secret, { plain: plain.slice(), sealed });
    return { sealed, retriesLeft };
  }
  // No device, or a value loaded as a digest (a file written without a device, now read with one): the digest
  // is all there is until the value is next changed.
  const { salt, sha256 } = secret.saltedDigest();
  return { salt: toHex(salt), sha256: toHex(sha256), retriesLeft };
}

export async function serializeState(
  profile: string,
  fs: CardFileSystem,
  pins: PinState,
  crypto: CardCrypto | null,
  applets: Record<string, unknown> = {},
): Promise<string> {
  const doc: CardStateDoc = {
    format: STATE_FORMAT,
    version: STATE_VERSION,
    profile,
    pin: await secretDoc(crypto, 'pin', pins.pin),
    puk: await secretDoc(crypto, 'puk', pins.puk),
    files: Object.fromEntries([...fs.efs].map(([path, ef]) => [path, toHex(ef.contents)])),
  };
  if (Object.keys(applets).length > 0) doc.applets = applets;
  return `${JSON.stringify(doc, null, 2)}\n`;
}

export interface AppliedState {
  /** The applet sections (by AID hex) for the caller to hand to each applet. */
  applets: Record<string, unknown>;
  /** The file is in an older form (plain PIN/PUK) and should be rewritten now. */
  outdated: boolean;
}

/**
 * Checks a loaded document against the card built from the profile and applies it. Everything is checked
 * before anything is applied, so a bad file changes nothing. EFs the file does not mention keep the profile's
 * contents (the profile may have gained files). A section for an AID the card does not persist is refused.
 */
export async function applyState(
  file: string,
  input: unknown,
  profile: string,
  fs: CardFileSystem,
  pins: PinState,
  crypto: CardCrypto | null,
  appletKeys: ReadonlySet<string> = new Set(),
): Promise<AppliedState> {
  const bad = (reason: string): CardStateError => new CardStateError(file, reason);
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw bad('top level is not a JSON object');
  const doc = input as Record<string, unknown>;
  if (doc.format !== STATE_FORMAT) throw bad(`"format" is ${JSON.stringify(doc.format)}, expected "${STATE_FORMAT}"`);
  const outdated = doc.version === PLAIN_SECRETS_VERSION;
  if (doc.version !== STATE_VERSION && !outdated) {
    throw bad(`"version" is ${JSON.stringify(doc.version)}, expected ${STATE_VERSION} (or ${PLAIN_SECRETS_VERSION}, which is upgraded)`);
  }
  if (doc.profile !== profile) throw bad(`written for profile ${JSON.stringify(doc.profile)}, but the card uses profile "${profile}"`);
  const read = outdated ? plainSecret : storedSecret;
  const pin = await read(doc.pin, 'pin', pins.pin.maxRetries, { file, crypto, bad });
  const puk = await read(doc.puk, 'puk', pins.puk.maxRetries, { file, crypto, bad });
  if (typeof doc.files !== 'object' || doc.files === null || Array.isArray(doc.files)) throw bad('"files" is not an object');
  const contents = new Map<string, Uint8Array>();
  for (const [path, value] of Object.entries(doc.files as Record<string, unknown>)) {
    const ef = fs.efs.get(path);
    if (!ef) throw bad(`"files" names ${path}, which is not an EF of profile "${profile}"`);
    const bytes = typeof value === 'string' ? parseHex(value) : null;
    if (!bytes) throw bad(`"files"."${path}" is not a hex string`);
    if (bytes.length !== ef.size) throw bad(`"files"."${path}" has ${bytes.length} bytes, the EF has ${ef.size}`);
    contents.set(path, bytes);
  }
  const applets = doc.applets ?? {};
  if (typeof applets !== 'object' || applets === null || Array.isArray(applets)) throw bad('"applets" is not an object');
  for (const key of Object.keys(applets)) {
    if (!appletKeys.has(key)) throw bad(`"applets" names ${key}, which is not an applet of profile "${profile}" that keeps state`);
  }
  pins.pin = pin;
  pins.puk = puk;
  if (crypto) {
    // What was just opened is what a save would seal again: keep the file's text.
    for (const [s, d] of [[pin, doc.pin], [puk, doc.puk]] as const) {
      const sealed = (d as Record<string, unknown>).sealed;
      if (typeof sealed === 'string' && s.known) sealedCache.set(s, { plain: s.known.slice(), sealed });
    }
  }
  for (const [path, bytes] of contents) fs.efs.get(path)!.contents = bytes;
  return { applets: applets as Record<string, unknown>, outdated };
}

interface ReadContext {
  file: string;
  crypto: CardCrypto | null;
  bad: (reason: string) => CardStateError;
}

function retries(o: Record<string, unknown>, what: string, maxRetries: number, bad: ReadContext['bad']): number {
  const r = o.retriesLeft;
  if (typeof r !== 'number' || !Number.isInteger(r) || r < 0 || r > maxRetries) {
    throw bad(`"${what}.retriesLeft" is ${JSON.stringify(r)}, expected an integer 0..${maxRetries}`);
  }
  return r;
}

function object(v: unknown, what: string, bad: ReadContext['bad']): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad(`"${what}" is not an object`);
  return v as Record<string, unknown>;
}

/** Version 1: `{ value: <hex>, retriesLeft }`. */
async function plainSecret(v: unknown, what: string, maxRetries: number, { bad }: ReadContext): Promise<Secret> {
  const o = object(v, what, bad);
  const value = typeof o.value === 'string' ? parseHex(o.value) : null;
  if (!value || value.length === 0 || value.length > MAX_SECRET_LENGTH) throw bad(`"${what}.value" is not 1..${MAX_SECRET_LENGTH} bytes of hex`);
  return new Secret(value, maxRetries, retries(o, what, maxRetries, bad));
}

/** Version 2: `{ sealed, retriesLeft }` or `{ salt, sha256, retriesLeft }`. */
async function storedSecret(v: unknown, what: keyof typeof LABEL, maxRetries: number, { file, crypto, bad }: ReadContext): Promise<Secret> {
  const o = object(v, what, bad);
  const retriesLeft = retries(o, what, maxRetries, bad);
  if (Object.hasOwn(o, 'value')) throw bad(`"${what}" holds a plain "value", which version ${STATE_VERSION} never writes`);
  if (Object.hasOwn(o, 'sealed')) {
    const value = await unsealBytes(crypto, LABEL[what], o.sealed, file, `"${what}"`);
    if (value.length === 0 || value.length > MAX_SECRET_LENGTH) throw bad(`"${what}" unseals to ${value.length} bytes, expected 1..${MAX_SECRET_LENGTH}`);
    return new Secret(value, maxRetries, retriesLeft);
  }
  const salt = typeof o.salt === 'string' ? parseHex(o.salt) : null;
  const sha256 = typeof o.sha256 === 'string' ? parseHex(o.sha256) : null;
  if (!salt || salt.length !== DIGEST_SALT_LENGTH) throw bad(`"${what}.salt" is not ${DIGEST_SALT_LENGTH} bytes of hex`);
  if (!sha256 || sha256.length !== 32) throw bad(`"${what}.sha256" is not 32 bytes of hex`);
  return Secret.fromDigest({ salt, sha256 }, maxRetries, retriesLeft);
}
