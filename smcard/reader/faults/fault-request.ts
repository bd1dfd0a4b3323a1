// The request that arms a reader fault, described once as a field table (kernel/field-table.ts): REST validates
// its body with the table's JSON schema, JSON-RPC parses its params with the table's parser.

import { sharedTriggerFields } from '../../../kernel/fault-trigger.js';
import { objectSchema, parseFields, type Field, type FieldTable } from '../../../kernel/field-table.js';
import { type FaultSpec, MAX_FAULT_DELAY_MS, MAX_PER_BYTE_MS, READER_FAULT_KINDS, validateFaultSpec } from './reader-faults.js';

/** A spec plus `now`: an event fault (remove-card, unplug, reset-card, power-fail) carried out at once. */
export type FaultRequest = FaultSpec & { now?: boolean };

const delay = (description: string): Field => ({ type: 'integer', minimum: 0, maximum: MAX_FAULT_DELAY_MS, description });

const { nth, ...timing } = sharedTriggerFields(MAX_FAULT_DELAY_MS, 'the Nth APDU after arming (1 = the next)');
const TRIGGER_FIELDS: FieldTable = {
  nth,
  match: { type: 'string', pattern: '^([0-9a-fA-F]{2}|\\.\\.){1,64}$', description: 'hex prefix of the command APDU; ".." matches any byte' },
  ...timing,
};

const SPEC_FIELDS: FieldTable = {
  kind: { type: 'string', enum: READER_FAULT_KINDS },
  once: { type: 'boolean', description: 'one-shot (default) or until cleared' },
  now: { type: 'boolean', description: 'remove-card, unplug, reset-card, power-fail: carry it out at once' },
  delayMs: delay('slow: added delay; mute: how long the reader waits (default 2000)'),
  perByteMs: { type: 'number', minimum: 0, maximum: MAX_PER_BYTE_MS, description: 'slow: added delay per command and response byte' },
  sw: { type: 'string', pattern: '^[0-9a-fA-F]{4}$' },
  corruption: { type: 'string', enum: ['bitflip', 'truncate'] },
  replugMs: delay('unplug: plug back after this many ms'),
};

/** JSON schema of `trigger`. */
export const FAULT_TRIGGER_SCHEMA = objectSchema(TRIGGER_FIELDS);
/** JSON schema of the whole arm request (REST body, JSON-RPC params less `reader`). */
export const FAULT_REQUEST_SCHEMA = { ...objectSchema(SPEC_FIELDS, { trigger: FAULT_TRIGGER_SCHEMA }), required: ['kind'] };

/**
 * A request from untrusted JSON: exactly what FAULT_REQUEST_SCHEMA accepts (else FieldError, what REST's schema
 * refuses with VSCR_ERR_VALIDATION), then the checks that span fields (validateFaultSpec: FaultSpecError, REST's
 * VSCR_ERR_BAD_FAULT). Both name the field.
 */
export function parseFaultRequest(value: unknown, ignore: readonly string[] = []): FaultRequest {
  const body = parseFields(value, SPEC_FIELDS, { what: 'the fault', required: ['kind'], nested: { trigger: TRIGGER_FIELDS }, ignore });
  const request = body as unknown as FaultRequest; // every field checked against its declared type above
  validateFaultSpec(request);
  return request;
}
