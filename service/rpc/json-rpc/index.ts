// Public entry of the JSON-RPC 2.0 PC/SC transport: the fastify plugin, its codec and method table.

export { jsonRpcPcscPlugin, DEFAULT_MAX_MESSAGE_BYTES, type JsonRpcPcscOptions } from './plugin.js';
export { JSONRPC_ERROR, encodeHex, decodeHex, parseFrame, validateRequest, resultResponse, errorResponse, ParamReader, InvalidParamsError } from './codec.js';
export type { JsonRpcId, JsonRpcRequest, JsonRpcResponse, JsonRpcErrorObject, ParsedFrame, ParsedItem } from './codec.js';
export { METHODS, hasMethod, runMethod, type MethodHandler, type MethodResult } from './methods.js';
export { MAX_IN_FLIGHT, SEND_HIGH_WATER, SEND_LOW_WATER, SERVER_BUSY } from './connection.js';
