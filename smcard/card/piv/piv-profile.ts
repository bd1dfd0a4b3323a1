// The `{ "type": "piv" }` entry of a card profile: factory PIN, PUK and management key, and whether the card
// comes provisioned (keys and certificates made on first insert) or blank.

import { parseHex } from '../hex.js';
import { DEFAULT_MANAGEMENT_KEY, MGMT_ALG, PIV_AID_HEX, type ManagementAlgorithm } from './constants.js';

export interface PivSecretOptions {
  /** 6..8 characters (PIV PIN: digits; the card itself accepts any bytes). */
  value: string;
  maxRetries: number;
}

export interface PivAppletEntry {
  type: 'piv';
  aid: string;
  /** `provisioned` (default): RSA-2048 in 9A and 9D, P-256 in 9C and 9E, each with a self-signed certificate. */
  provision: 'provisioned' | 'blank';
  pin: PivSecretOptions;
  puk: PivSecretOptions;
  managementKey: { algorithm: ManagementAlgorithm; value: string };
}

export const PIV_DEFAULTS = {
  pin: { value: '123456', maxRetries: 3 },
  puk: { value: '12345678', maxRetries: 3 },
  managementKey: { algorithm: '3des' as ManagementAlgorithm, value: DEFAULT_MANAGEMENT_KEY },
};

export const PIV_DEFAULT_AID = PIV_AID_HEX;

const KEYS = new Set(['type', 'aid', 'provision', 'pin', 'puk', 'managementKey']);

export function validatePivEntry(entry: Readonly<Record<string, unknown>>, aid: string, at: string, report: (m: string) => void): PivAppletEntry | null {
  let ok = true;
  const problem = (m: string): void => {
    ok = false;
    report(m);
  };
  for (const key of Object.keys(entry)) if (!KEYS.has(key)) problem(`${at}: unknown option "${key}" for a piv applet`);
  const provision = entry.provision ?? 'provisioned';
  if (provision !== 'provisioned' && provision !== 'blank') problem(`${at}.provision must be "provisioned" or "blank"`);
  const pin = secret(entry.pin, PIV_DEFAULTS.pin, `${at}.pin`, problem);
  const puk = secret(entry.puk, PIV_DEFAULTS.puk, `${at}.puk`, problem);
  let managementKey = { ...PIV_DEFAULTS.managementKey };
  if (entry.managementKey !== undefined) {
    const m = entry.managementKey;
    if (typeof m !== 'object' || m === null || Array.isArray(m)) problem(`${at}.managementKey must be { algorithm, value }`);
    else {
      const o = m as Record<string, unknown>;
      const algorithm = o.algorithm ?? '3des';
      if (typeof algorithm !== 'string' || !Object.hasOwn(MGMT_ALG, algorithm)) {
        problem(`${at}.managementKey.algorithm must be one of ${Object.keys(MGMT_ALG).join(', ')}`);
      } else {
        const alg = algorithm as ManagementAlgorithm;
        const bytes = typeof o.value === 'string' ? parseHex(o.value) : null;
        if (!bytes || bytes.length !== MGMT_ALG[alg].keyLength) problem(`${at}.managementKey.value must be ${MGMT_ALG[alg].keyLength} bytes of hex for ${alg}`);
        else managementKey = { algorithm: alg, value: (o.value as string).replace(/\s+/g, '').toUpperCase() };
      }
    }
  }
  if (!ok) return null;
  return { type: 'piv', aid, provision: provision as PivAppletEntry['provision'], pin, puk, managementKey };
}

function secret(v: unknown, fallback: PivSecretOptions, at: string, problem: (m: string) => void): PivSecretOptions {
  if (v === undefined) return { ...fallback };
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    problem(`${at} must be { value, maxRetries }`);
    return { ...fallback };
  }
  const o = v as Record<string, unknown>;
  const value = o.value ?? fallback.value;
  const maxRetries = o.maxRetries ?? fallback.maxRetries;
  if (typeof value !== 'string' || !/^[\x20-\x7e]{6,8}$/.test(value)) problem(`${at}.value must be 6..8 printable ASCII characters`);
  if (typeof maxRetries !== 'number' || !Number.isInteger(maxRetries) || maxRetries < 1 || maxRetries > 15) problem(`${at}.maxRetries must be an integer 1..15`);
  return { value: String(value), maxRetries: Number(maxRetries) };
}
