// The fault request parser (JSON-RPC) and the JSON schema (REST) built from one field table: what each accepts,
// the field named in every refusal, and the slow fault's bounded per-byte delay.

import { describe, expect, it } from 'vitest';
import { FieldError } from '../../../../kernel/field-table.js';
import { FAULT_REQUEST_SCHEMA, parseFaultRequest } from '../../../../smcard/reader/faults/fault-request.js';
import { FaultSpecError, MAX_FAULT_DELAY_MS, slowDelayMs } from '../../../../smcard/reader/faults/reader-faults.js';

/** The refusal's class (FieldError: what REST's schema refuses; FaultSpecError: the checks across fields) and message. */
const refusal = (body: unknown, ignore: string[] = []): string => {
  try {
    parseFaultRequest(body, ignore);
  } catch (err) {
    if (!(err instanceof FieldError || err instanceof FaultSpecError)) throw err;
    return `${err.name}: ${err.message}`;
  }
  throw new Error(`accepted ${JSON.stringify(body)}`);
};

describe('parseFaultRequest', () => {
  it('accepts every field the schema declares, with the reader ignored when asked', () => {
    const body = { reader: 'x', kind: 'slow', once: false, delayMs: 10, perByteMs: 0.5, trigger: { nth: 2, match: '00a4..0c', afterMs: 0, probability: 0.5, seed: 7 } };
    const { reader: _r, ...rest } = body;
    expect(parseFaultRequest(body, ['reader'])).toEqual(rest);
    expect(Object.keys(FAULT_REQUEST_SCHEMA.properties).sort()).toEqual(['corruption', 'delayMs', 'kind', 'now', 'once', 'perByteMs', 'replugMs', 'sw', 'trigger']);
    expect(FAULT_REQUEST_SCHEMA).toMatchObject({ additionalProperties: false, required: ['kind'], properties: { trigger: { additionalProperties: false } } });
    expect(parseFaultRequest({ kind: 'power-fail', now: true })).toEqual({ kind: 'power-fail', now: true });
  });

  it('names the field it refuses', () => {
    expect(refusal(null)).toBe('FieldError: the fault must be an object');
    expect(refusal({})).toBe('FieldError: "kind" is required');
    expect(refusal({ kind: 'sw', sw: 'zz' })).toMatch(/^FieldError: "sw" must be a string matching/);
    expect(refusal({ kind: 'mute', once: 1 })).toBe('FieldError: "once" must be a boolean');
    expect(refusal({ kind: 'mute', delayMs: 1.5 })).toBe('FieldError: "delayMs" must be an integer');
    expect(refusal({ kind: 'mute', trigger: { probability: 0 } })).toBe('FieldError: "trigger.probability" must be > 0 and <= 1');
    expect(refusal({ kind: 'mute', trigger: [] })).toBe('FieldError: "trigger" must be an object');
    expect(refusal({ kind: 'mute', reader: 1 })).toBe('FieldError: unknown field "reader"');
    expect(refusal({ kind: 'slow', perByteMs: 1000.5 })).toBe('FieldError: "perByteMs" must be >= 0 and <= 1000');
    expect(refusal({ kind: 'corrupt', perByteMs: 1 })).toBe('FaultSpecError: perByteMs applies to a slow fault only');
  });
});

describe('slow fault delay', () => {
  it('fixed part plus bytes × perByteMs, capped at the longest delay', () => {
    expect(slowDelayMs({ kind: 'slow', delayMs: 10 }, 300)).toBe(10);
    expect(slowDelayMs({ kind: 'slow', delayMs: 10, perByteMs: 0.5 }, 300)).toBe(160);
    expect(slowDelayMs({ kind: 'slow', perByteMs: 1000 }, 65_546)).toBe(MAX_FAULT_DELAY_MS);
  });
});
