// The JSON-RPC 2.0 codec of the /v1/pcsc transport: frame parsing, request validation, result and error
// objects, parameter readers and lowercase hex. Pure functions, no sockets (docs/style.md convention 6).

import { parseHex, toHex } from '../../../kernel/bytes.js';

/** JSON-RPC 2.0 error codes (spec §5.1). PC/SC outcomes never use them: they are results with `rv`. */
export const JSONRPC_ERROR = {
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL_ERROR: -32603,
} as const;

export type JsonRpcId = string | number | null;

export interface JsonRpcRequest {
  /** Undefined for a notification (no response is sent). */
  id: JsonRpcId | undefined;
  method: string;
  params: Record<string, unknown>;
}

export interface JsonRpcErrorObject {
  code: number;
  message: string;
  data?: unknown;
}

export type JsonRpcResponse =
  | { jsonrpc: '2.0'; id: JsonRpcId; result: unknown }
  | { jsonrpc: '2.0'; id: JsonRpcId; error: JsonRpcErrorObject };

export type ParsedItem = { ok: true; request: JsonRpcRequest } | { ok: false; response: JsonRpcResponse };

export type ParsedFrame =
  | { kind: 'single'; item: ParsedItem }
  | { kind: 'batch'; items: ParsedItem[] }
  | { kind: 'invalid'; response: JsonRpcResponse };

export function resultResponse(id: JsonRpcId, result: unknown): JsonRpcResponse {
  return { jsonrpc: '2.0', id, result };
}

export function errorResponse(id: JsonRpcId, code: number, message: string, data?: unknown): JsonRpcResponse {
  const error: JsonRpcErrorObject = { code, message };
  if (data !== undefined) error.data = data;
  return { jsonrpc: '2.0', id, error };
}

function isValidId(v: unknown): v is JsonRpcId {
  return v === null || typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** One request object → a request, or the -32600/-32602 response it deserves (spec §4, §4.2). */
export function validateRequest(value: unknown): ParsedItem {
  if (!isPlainObject(value)) return { ok: false, response: errorResponse(null, JSONRPC_ERROR.INVALID_REQUEST, 'Invalid Request: not an object') };
  const id = 'id' in value ? value.id : undefined;
  const replyId: JsonRpcId = isValidId(id) ? id : null;
  if (id !== undefined && !isValidId(id)) {
    return { ok: false, response: errorResponse(null, JSONRPC_ERROR.INVALID_REQUEST, 'Invalid Request: id must be a string, a number or null') };
  }
  if (value.jsonrpc !== '2.0') return { ok: false, response: errorResponse(replyId, JSONRPC_ERROR.INVALID_REQUEST, 'Invalid Request: "jsonrpc" must be "2.0"') };
  if (typeof value.method !== 'string' || value.method.length === 0) {
    return { ok: false, response: errorResponse(replyId, JSONRPC_ERROR.INVALID_REQUEST, 'Invalid Request: "method" must be a non-empty string') };
  }
  let params: Record<string, unknown> = {};
  if ('params' in value && value.params !== undefined) {
    if (!isPlainObject(value.params)) {
      return { ok: false, response: errorResponse(replyId, JSONRPC_ERROR.INVALID_PARAMS, 'Invalid params: params must be an object (by-name parameters)') };
    }
    params = value.params;
  }
  return { ok: true, request: { id: id as JsonRpcId | undefined, method: value.method, params } };
}

/** A text frame → one request, a batch (spec §6), or a parse/invalid-request error. */
export function parseFrame(text: string): ParsedFrame {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { kind: 'invalid', response: errorResponse(null, JSONRPC_ERROR.PARSE_ERROR, `Parse error: ${(err as Error).message}`) };
  }
  if (Array.isArray(value)) {
    if (value.length === 0) return { kind: 'invalid', response: errorResponse(null, JSONRPC_ERROR.INVALID_REQUEST, 'Invalid Request: empty batch') };
    return { kind: 'batch', items: value.map(validateRequest) };
  }
  return { kind: 'single', item: validateRequest(value) };
}

/** Thrown by ParamReader; becomes a -32602 response naming the parameter. */
export class InvalidParamsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidParamsError';
  }
}

/** Thrown by a method for a request it cannot run (not a PC/SC outcome); becomes that JSON-RPC error. */
export class JsonRpcMethodError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
    this.name = 'JsonRpcMethodError';
  }
}

/** Lowercase hex, the transport's byte-string form; hex in (either case, even length, nothing else) or null. */
export { toHex as encodeHex, parseHex as decodeHex };

/** The names of P's fields whose value is a T; any name when P is an untyped record. */
type FieldOf<P, T> = string extends keyof P ? string : { [K in keyof P]-?: NonNullable<P[K]> extends T ? K : never }[keyof P] & string;
/** The params type of a nested object (an element type for arrays). */
type Nested<P, K extends string, Element extends boolean> = string extends keyof P
  ? Record<string, unknown>
  : K extends keyof P ? (Element extends true ? (NonNullable<P[K]> extends readonly (infer E)[] ? E : never) : NonNullable<P[K]>) : never;

/**
 * Typed access to by-name params; every failure names the parameter (like noble's abytes(x, n, 'iv')). P is the
 * method's params type from the contract (service/contract/json-rpc.ts): each accessor takes only the names of
 * fields of its type, so a handler cannot read a param the contract does not have.
 */
export class ParamReader<P = Record<string, unknown>> {
  constructor(private readonly params: Record<string, unknown>) {}

  /** The params object as sent, for a method that validates it as a whole. */
  all(): Readonly<Record<string, unknown>> {
    return this.params;
  }

  private need(name: string): unknown {
    if (!(name in this.params) || this.params[name] === undefined) throw new InvalidParamsError(`Invalid params: "${name}" is required`);
    return this.params[name];
  }

  /** A DWORD: integer 0..0xFFFFFFFF. */
  u32(name: FieldOf<P, number>): number {
    return asU32(this.need(name), name);
  }

  optU32(name: FieldOf<P, number>, fallback: number): number {
    const v = this.params[name];
    return v === undefined || v === null ? fallback : asU32(v, name);
  }

  string(name: FieldOf<P, string>): string {
    const v = this.need(name);
    if (typeof v !== 'string') throw new InvalidParamsError(`Invalid params: "${name}" must be a string`);
    return v;
  }

  hex(name: FieldOf<P, string>): Uint8Array {
    const v = this.need(name);
    if (typeof v !== 'string') throw new InvalidParamsError(`Invalid params: "${name}" must be a hex string`);
    const bytes = parseHex(v);
    if (!bytes) throw new InvalidParamsError(`Invalid params: "${name}" is not valid hex (pairs of 0-9a-f)`);
    return bytes;
  }

  optStringArray(name: FieldOf<P, readonly string[]>): string[] | null {
    const v = this.params[name];
    if (v === undefined || v === null) return null;
    if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) throw new InvalidParamsError(`Invalid params: "${name}" must be an array of strings`);
    return v as string[];
  }

  object<K extends FieldOf<P, object>>(name: K): ParamReader<Nested<P, K, false>> {
    const v = this.need(name);
    if (!isPlainObject(v)) throw new InvalidParamsError(`Invalid params: "${name}" must be an object`);
    return new ParamReader(v);
  }

  objectArray<K extends FieldOf<P, readonly object[]>>(name: K, maxLength: number): ParamReader<Nested<P, K, true>>[] {
    const v = this.need(name);
    if (!Array.isArray(v)) throw new InvalidParamsError(`Invalid params: "${name}" must be an array`);
    if (v.length > maxLength) throw new InvalidParamsError(`Invalid params: "${name}" has more than ${maxLength} entries`);
    return v.map((item, i) => {
      if (!isPlainObject(item)) throw new InvalidParamsError(`Invalid params: "${name}[${i}]" must be an object`);
      return new ParamReader(item);
    });
  }
}

function asU32(v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) {
    throw new InvalidParamsError(`Invalid params: "${name}" must be an integer between 0 and 4294967295`);
  }
  return v;
}
