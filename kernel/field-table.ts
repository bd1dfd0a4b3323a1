// A flat JSON request described once as a table of fields: the JSON schema a REST route validates its body with,
// and the parser a transport without a schema validator (JSON-RPC) uses. Built from the same table, the two accept
// and refuse the same values, and both report a shape error apart from the checks that span fields.

export interface Field {
  type: 'integer' | 'number' | 'boolean' | 'string';
  minimum?: number;
  maximum?: number;
  /** number fields: the lower bound itself is refused. */
  exclusiveMinimum?: number;
  pattern?: string;
  enum?: readonly string[];
  description?: string;
}

export type FieldTable = Readonly<Record<string, Field>>;

/** A value that does not have the shape the table describes (what a schema validator would refuse). */
export class FieldError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FieldError';
  }
}

function fieldSchema(f: Field): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(f)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k, k === 'enum' ? [...(v as readonly string[])] : v]),
  );
}

/** The JSON schema of an object with exactly these fields (plus `nested` sub-schemas). */
export function objectSchema(fields: FieldTable, nested: Record<string, unknown> = {}) {
  return {
    type: 'object',
    additionalProperties: false,
    properties: { ...Object.fromEntries(Object.entries(fields).map(([k, f]) => [k, fieldSchema(f)])), ...nested },
  } as const;
}

function checkField(name: string, f: Field, v: unknown): void {
  const bad = (what: string): never => {
    throw new FieldError(`"${name}" must be ${what}`);
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

export const isJsonObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Checks every field of `value` against the table; names in `nested` are left to the caller. Throws FieldError
 * naming the field (with `prefix`, e.g. "trigger.").
 */
export function checkFields(prefix: string, fields: FieldTable, value: Readonly<Record<string, unknown>>, nested: readonly string[] = []): void {
  for (const [k, v] of Object.entries(value)) {
    if (nested.includes(k)) continue;
    const f = fields[k];
    if (f === undefined) throw new FieldError(`unknown field "${prefix}${k}"`);
    if (v !== undefined) checkField(prefix + k, f, v);
  }
}

/** An object with `required` present and every field as the table and the nested table (if any) describe. */
export function parseFields(
  value: unknown,
  fields: FieldTable,
  opts: { what: string; required?: readonly string[]; nested?: Readonly<Record<string, FieldTable>>; ignore?: readonly string[] },
): Record<string, unknown> {
  if (!isJsonObject(value)) throw new FieldError(`${opts.what} must be an object`);
  const ignore = opts.ignore ?? [];
  const body = Object.fromEntries(Object.entries(value).filter(([k]) => !ignore.includes(k)));
  for (const name of opts.required ?? []) if (body[name] === undefined) throw new FieldError(`"${name}" is required`);
  const nested = opts.nested ?? {};
  checkFields('', fields, body, Object.keys(nested));
  for (const [name, table] of Object.entries(nested)) {
    const sub = body[name];
    if (sub === undefined) continue;
    if (!isJsonObject(sub)) throw new FieldError(`"${name}" must be an object`);
    checkFields(`${name}.`, table, sub);
  }
  return body;
}
