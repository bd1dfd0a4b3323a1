// The request that arms a crypto-device fault, described once as a field table (kernel/field-table.ts): REST
// validates its body with the table's JSON schema, JSON-RPC parses its params with the table's parser, so both
// refuse the same values with the same code.

import { sharedTriggerFields } from '../../kernel/fault-trigger.js';
import { objectSchema, parseFields, type Field, type FieldTable } from '../../kernel/field-table.js';
import { DEVICE_FAULT_COMMANDS, DEVICE_FAULT_KINDS, MAX_DEVICE_FAULT_DELAY_MS, validateDeviceFaultSpec, type DeviceFaultSpec } from './fault-injector.js';
import { ERROR } from './registers.js';

/** A spec plus `now`: latched-error and never-ready act at once instead of on a command. */
export type DeviceFaultRequest = DeviceFaultSpec & { now?: boolean };

const delay = (description: string): Field => ({ type: 'integer', minimum: 0, maximum: MAX_DEVICE_FAULT_DELAY_MS, description });

const { nth, ...timing } = sharedTriggerFields(MAX_DEVICE_FAULT_DELAY_MS, 'the Nth command the fault can act on (1 = the next)');
const TRIGGER_FIELDS: FieldTable = {
  nth,
  command: { type: 'string', enum: Object.keys(DEVICE_FAULT_COMMANDS), description: 'only this command' },
  ...timing,
};

const SPEC_FIELDS: FieldTable = {
  kind: { type: 'string', enum: DEVICE_FAULT_KINDS },
  once: { type: 'boolean', description: 'one-shot (default) or until cleared' },
  now: { type: 'boolean', description: 'latched-error, never-ready: at once, without a command' },
  code: { type: 'integer', minimum: ERROR.DMA, maximum: ERROR.INTERNAL, description: 'latched-error: the ErrorCode (default 4, internal error)' },
  holdMs: delay('never-ready: how long the device stays unresponsive (default 10000)'),
};

/** JSON schema of `trigger`. */
export const DEVICE_FAULT_TRIGGER_SCHEMA = objectSchema(TRIGGER_FIELDS);
/** JSON schema of the whole arm request (REST body, JSON-RPC params less `device`). */
export const DEVICE_FAULT_REQUEST_SCHEMA = { ...objectSchema(SPEC_FIELDS, { trigger: DEVICE_FAULT_TRIGGER_SCHEMA }), required: ['kind'] };

/**
 * A request from untrusted JSON: exactly what DEVICE_FAULT_REQUEST_SCHEMA accepts (else FieldError), then the
 * checks that span fields (DeviceFaultSpecError). Both name the field.
 */
export function parseDeviceFaultRequest(value: unknown, ignore: readonly string[] = []): DeviceFaultRequest {
  const body = parseFields(value, SPEC_FIELDS, { what: 'the fault', required: ['kind'], nested: { trigger: TRIGGER_FIELDS }, ignore });
  const request = structuredClone(body) as unknown as DeviceFaultRequest; // every field checked against its declared type above
  const { now: _now, ...spec } = request;
  validateDeviceFaultSpec(spec);
  return request;
}
