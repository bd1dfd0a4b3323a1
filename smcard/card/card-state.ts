// The persistent part of a card (EF contents, PIN/PUK values and counters) as a versioned JSON document,
// with strict checks on load so a damaged or foreign file is reported, not guessed at.

import type { CardFileSystem } from './file-system.js';
import type { PinState } from './pin.js';
import { CardStateError } from './errors.js';
import { parseHex, toHex } from './hex.js';
import { MAX_SECRET_LENGTH } from './profile.js';

export const STATE_FORMAT = 'vscr-card-state';
export const STATE_VERSION = 1;

interface SecretDoc {
  value: string;
  retriesLeft: number;
}

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

export function serializeState(profile: string, fs: CardFileSystem, pins: PinState, applets: Record<string, unknown> = {}): string {
  const doc: CardStateDoc = {
    format: STATE_FORMAT,
    version: STATE_VERSION,
    profile,
    pin: { value: toHex(pins.pin.value), retriesLeft: pins.pin.retriesLeft },
    puk: { value: toHex(pins.puk.value), retriesLeft: pins.puk.retriesLeft },
    files: Object.fromEntries([...fs.efs].map(([path, ef]) => [path, toHex(ef.contents)])),
  };
  if (Object.keys(applets).length > 0) doc.applets = applets;
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/**
 * Checks a loaded document against the card built from the profile and applies it. Everything is checked
 * before anything is applied, so a bad file changes nothing. EFs the file does not mention keep the profile's
 * contents (the profile may have gained files). Returns the applet sections (by AID hex) for the caller to
 * hand to each applet; a section for an AID the card does not persist is refused.
 */
export function applyState(
  file: string,
  input: unknown,
  profile: string,
  fs: CardFileSystem,
  pins: PinState,
  appletKeys: ReadonlySet<string> = new Set(),
): Record<string, unknown> {
  const bad = (reason: string): CardStateError => new CardStateError(file, reason);
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw bad('top level is not a JSON object');
  const doc = input as Record<string, unknown>;
  if (doc.format !== STATE_FORMAT) throw bad(`"format" is ${JSON.stringify(doc.format)}, expected "${STATE_FORMAT}"`);
  if (doc.version !== STATE_VERSION) throw bad(`"version" is ${JSON.stringify(doc.version)}, expected ${STATE_VERSION}`);
  if (doc.profile !== profile) throw bad(`written for profile ${JSON.stringify(doc.profile)}, but the card uses profile "${profile}"`);
  const pin = secret(doc.pin, 'pin', pins.pin.maxRetries, bad);
  const puk = secret(doc.puk, 'puk', pins.puk.maxRetries, bad);
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
  pins.pin.value = pin.value;
  pins.pin.retriesLeft = pin.retriesLeft;
  pins.puk.value = puk.value;
  pins.puk.retriesLeft = puk.retriesLeft;
  for (const [path, bytes] of contents) fs.efs.get(path)!.contents = bytes;
  return applets as Record<string, unknown>;
}

function secret(v: unknown, what: string, maxRetries: number, bad: (r: string) => CardStateError): { value: Uint8Array; retriesLeft: number } {
  if (typeof v !== 'object' || v === null) throw bad(`"${what}" is not an object`);
  const o = v as Record<string, unknown>;
  const value = typeof o.value === 'string' ? parseHex(o.value) : null;
  if (!value || value.length === 0 || value.length > MAX_SECRET_LENGTH) throw bad(`"${what}.value" is not 1..${MAX_SECRET_LENGTH} bytes of hex`);
  const r = o.retriesLeft;
  if (typeof r !== 'number' || !Number.isInteger(r) || r < 0 || r > maxRetries) {
    throw bad(`"${what}.retriesLeft" is ${JSON.stringify(r)}, expected an integer 0..${maxRetries}`);
  }
  return { value, retriesLeft: r };
}
