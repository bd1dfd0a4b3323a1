// The request that arms a reader fault, described once: the JSON schema REST validates its body with, and the
// parser JSON-RPC (and anything without a schema validator) uses, both built from the same field table.

import { FaultSpecError, type FaultSpec, MAX_FAULT_DELAY_MS, MAX_PER_BYTE_MS, READER_FAULT_KINDS, validateFaultSpec } from './reader-faults.js';

/** A spec plus `now`: an event fault (remove-card, unplug, reset-card, power-fail) carried out at once. */
export type FaultRequest = FaultSpec & { now?: boolean };

interface Field {
  type: 'integer' | 'number' | 'boolean' | 'string';
  minimum?: number;
  maximum?: number;
  /** number fields: the lower bound itself is refused. */
  exclusiveMinimum?: number;
  pattern?: string;
  enum?: readonly string[];
  description?: string;
}

const delay = (description: string): Field => ({ type: 'integer', minimum: 0, maximum: MAX_FAULT_DELAY_MS, description });

const TRIGGER_FIELDS: Record<string, Field> = {
  nth: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'the Nth APDU after arming (1 = the next)' },
  match: { type: 'string', pattern: '^([0-9a-fA-F]{2}|\\.\\.){1,64}$', description: 'hex prefix of the command APDU; ".." matches any byte' },
  afterMs: delay('not before this many ms after arming'),
  probability: { type: 'number', exclusiveMinimum: 0, maximum: 1 },
  seed: { type: 'integer', minimum: 0, maximum: 4294967295 },
};

const SPEC_FIELDS: Record<string, Field> = {
  kind: { type: 'string', enum: READER_FAULT_KINDS },
  once: { type: 'boolean', description: 'one-shot (default) or until cleared' },
  now: { type: 'boolean', description: 'remove-card, unplug, reset-card, power-fail: carry it out at once' },
  delayMs: delay('slow: added delay; mute: how long the reader waits (default 2000)'),
  perByteMs: { type: 'number', minimum: 0, maximum: MAX_PER_BYTE_MS, description: 'slow: added delay per command and response byte' },
  sw: { type: 'string', pattern: '^[0-9a-fA-F]{4}$' },
  corruption: { type: 'string', enum: ['bitflip', 'truncate'] },
  replugMs: delay('unplug: plug back after this many ms'),
};

function fieldSchema(f: Field): Record<string, unknown> {
  return Object.fromEntries(Object.entries(f).filter(([, v]) => v !== undefined).map(([k, v]) => [k, k === 'enum' ? [...(v as readonly string[])] : v]));
}

const objectSchema = (fields: Record<string, Field>, extra: Record<string, unknown> = {}) => ({
  type: 'object',
  additionalProperties: false,
  properties: { ...Object.fromEntries(Object.entries(fields).map(([k, f]) => [k, fieldSchema(f)])), ...extra },
});

/** JSON schema of `trigger`. */
export const FAULT_TRIGGER_SCHEMA = objectSchema(TRIGGER_FIELDS);
/** JSON schema of the whole arm request (REST body, JSON-RPC params less `reader`). */
export const FAULT_REQUEST_SCHEMA = { ...objectSchema(SPEC_FIELDS, { trigger: FAULT_TRIGGER_SCHEMA }), required: ['kind'] };

function checkField(name: string, f: Field, v: unknown): void {
  const bad = (what: string): never => {
    throw new FaultSpecError(`"${name}" must be ${what}`);
  };
  switch (f.type) {
    case 'boolean':
      if (typeof v !== 'boolean') bad('a boolean');
      return;
    case 'string':
      if (typeof v !== 'string') bad('a string');
      if (f.enum && !f.enum.includes(v as string)) bad(`one of ${f.enum.join(', ')}`);
      if (f.pattern && !new RegExp(f.pattern).test(v as string)) bad(`a string matching ${f.pattern}`);
      return;
    case 'integer':
    case 'number': {
      if (typeof v !== 'number' || !Number.isFinite(v) || (f.type === 'integer' && !Number.isInteger(v))) bad(f.type === 'integer' ? 'an integer' : 'a number');
      const n = v as number;
      const lo = f.exclusiveMinimum !== undefined ? `> ${f.exclusiveMinimum}` : `>= ${f.minimum ?? '-inf'}`;
      if ((f.minimum !== undefined && n < f.minimum) || (f.exclusiveMinimum !== undefined && n <= f.exclusiveMinimum) || (f.maximum !== undefined && n > f.maximum)) {
        bad(`${lo} and <= ${f.maximum ?? 'inf'}`);
      }
    }
  }
}

function checkObject(prefix: string, fields: Record<string, Field>, value: Record<string, unknown>, nested: Set<string>): void {
  for (const [k, v] of Object.entries(value)) {
    if (nested.has(k)) continue;
    const f = fields[k];
    if (f === undefined) throw new FaultSpecError(`unknown field "${prefix}${k}"`);
    if (v !== undefined) checkField(prefix + k, f, v);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A request from untrusted JSON: exactly what FAULT_REQUEST_SCHEMA accepts, then the checks that span fields
 * (validateFaultSpec). Throws FaultSpecError naming the field.
 */
export function parseFaultRequest(value: unknown, ignore: readonly string[] = []): FaultRequest {
  if (!isObject(value)) throw new FaultSpecError('the fault must be an object');
  const body = Object.fromEntries(Object.entries(value).filter(([k]) => !ignore.includes(k)));
  if (body.kind === undefined) throw new FaultSpecError('"kind" is required');
  checkObject('', SPEC_FIELDS, body, new Set(['trigger']));
  if (body.trigger !== undefined) {
    if (!isObject(body.trigger)) throw new FaultSpecError('"trigger" must be an object');
    checkObject('trigger.', TRIGGER_FIELDS, body.trigger, new Set());
  }
  const request = body as unknown as FaultRequest; // every field checked against its declared type above
  validateFaultSpec(request);
  return request;
}
