// JSON-RPC 2.0 framing for the /v1/pcsc WebSocket (docs/json-rpc.md): pure functions, no socket code.

export type JsonRpcParams = Record<string, unknown>;

export interface JsonRpcSuccess {
  kind: 'result';
  id: number;
  result: Record<string, unknown>;
}
export interface JsonRpcFailure {
  kind: 'error';
  id: number | null;
  code: number;
  message: string;
  data?: unknown;
}
/** A server-initiated message (a method call or notification); the contract defines none, so clients ignore it. */
export interface JsonRpcNotification {
  kind: 'notification';
  method: string;
}
export type JsonRpcReply = JsonRpcSuccess | JsonRpcFailure | JsonRpcNotification;

/** One request frame. */
export function encodeRequest(id: number, method: string, params: JsonRpcParams): string {
  return JSON.stringify({ jsonrpc: '2.0', id, method, params });
}

/** Decodes one reply frame; throws TypeError when it is not a JSON-RPC 2.0 response. */
export function decodeReply(text: string): JsonRpcReply {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    throw new TypeError(`JSON-RPC reply is not JSON: ${text.slice(0, 80)}`);
  }
  if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) throw new TypeError('JSON-RPC reply is not an object');
  const m = msg as Record<string, unknown>;
  if (m.jsonrpc !== '2.0') throw new TypeError('JSON-RPC reply lacks jsonrpc: "2.0"');
  const id = m.id;
  if (typeof m.method === 'string' && m.result === undefined && m.error === undefined) return { kind: 'notification', method: m.method };
  if (m.error !== undefined) {
    const e = m.error as Record<string, unknown> | null;
    if (typeof e !== 'object' || e === null || typeof e.code !== 'number') throw new TypeError('JSON-RPC error without a numeric code');
    if (id !== null && typeof id !== 'number') throw new TypeError('JSON-RPC reply id must be a number or null');
    return { kind: 'error', id, code: e.code, message: typeof e.message === 'string' ? e.message : '', ...(e.data !== undefined ? { data: e.data } : {}) };
  }
  if (typeof id !== 'number') throw new TypeError('JSON-RPC result id must be a number');
  if (typeof m.result !== 'object' || m.result === null) throw new TypeError('JSON-RPC result must be an object');
  return { kind: 'result', id, result: m.result as Record<string, unknown> };
}
