// vscr.fault.arm / vscr.fault.list / vscr.fault.clear on /v1/pcsc: reader faults armed by a JSON-RPC client,
// with the request parsed exactly as REST validates its body (smcard/reader/faults/fault-request.ts).

import type { VirtualReader } from '../../../smcard/reader/contract.js';
import { FieldError } from '../../../kernel/field-table.js';
import { FaultSpecError } from '../../../smcard/reader/faults/reader-faults.js';
import { parseFaultRequest, type FaultRequest } from '../../../smcard/reader/faults/fault-request.js';
import { JSONRPC_ERROR, JsonRpcMethodError, type ParamReader } from './codec.js';
import type { ExtraMethodHandler } from './methods.js';
import type { ReaderFaultMethod } from '../../contract/json-rpc.js';

/** What the service's fault host offers (service/runtime/faults.ts FaultHost fits). */
export interface FaultControl {
  find(ref: string): VirtualReader | undefined;
  arm(reader: VirtualReader, request: FaultRequest): Promise<object>;
  list(reader: VirtualReader): object[];
  listAll(): object[];
  clear(reader: VirtualReader, id?: number): number;
}

/** Implementation-defined errors (JSON-RPC 2.0 reserves -32000..-32099; -32000 is "server busy"). */
export const FAULT_RPC_ERROR = { UNKNOWN_READER: -32001, UNKNOWN_FAULT: -32002 } as const;

const invalid = (message: string, code = 'VSCR_ERR_BAD_FAULT'): JsonRpcMethodError =>
  new JsonRpcMethodError(JSONRPC_ERROR.INVALID_PARAMS, `Invalid params: ${message}`, { code });

/** `reader`: a unit number or a reader name, as REST's `:reader`. */
function readerOf(faults: FaultControl, p: ParamReader): VirtualReader {
  const ref = p.all().reader;
  if (ref === undefined) throw invalid('"reader" is required', 'VSCR_ERR_VALIDATION');
  if (!(typeof ref === 'string' || (typeof ref === 'number' && Number.isSafeInteger(ref) && ref >= 0))) {
    throw invalid('"reader" must be a unit number or a reader name', 'VSCR_ERR_VALIDATION');
  }
  const reader = faults.find(String(ref));
  if (reader === undefined) throw new JsonRpcMethodError(FAULT_RPC_ERROR.UNKNOWN_READER, `no reader ${JSON.stringify(ref)}`, { code: 'VSCR_ERR_UNKNOWN_READER' });
  return reader;
}

/** The codes REST gives the same body: its schema refuses a FieldError's values, validateFaultSpec the rest. */
const specError = (err: unknown): never => {
  if (err instanceof FieldError) throw invalid(err.message, 'VSCR_ERR_VALIDATION');
  if (!(err instanceof FaultSpecError)) throw err;
  if (err.scard === undefined) throw invalid(err.message);
  // A PC/SC result made the fault impossible: its SCARD_* name rides beside the code, as in REST's body.
  throw new JsonRpcMethodError(JSONRPC_ERROR.INVALID_PARAMS, `Invalid params: ${err.message}`, { code: 'VSCR_ERR_BAD_FAULT', scard: err.scard });
};

export function faultMethods(faults: FaultControl): Record<ReaderFaultMethod, ExtraMethodHandler> {
  return {
    async 'vscr.fault.arm'(_s, p) {
      const reader = readerOf(faults, p);
      let request: FaultRequest;
      try {
        request = parseFaultRequest(p.all(), ['reader']);
      } catch (err) {
        return specError(err);
      }
      return { fault: await faults.arm(reader, request).catch(specError) };
    },

    'vscr.fault.list'(_s, p) {
      return { faults: p.all().reader === undefined ? faults.listAll() : faults.list(readerOf(faults, p)) };
    },

    'vscr.fault.clear'(_s, p) {
      const reader = readerOf(faults, p);
      const id = p.all().id;
      if (id === undefined) return { cleared: faults.clear(reader) };
      if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 1) throw invalid('"id" must be an integer >= 1', 'VSCR_ERR_VALIDATION');
      const cleared = faults.clear(reader, id);
      if (cleared === 0) throw new JsonRpcMethodError(FAULT_RPC_ERROR.UNKNOWN_FAULT, `no fault ${id} armed on reader ${reader.unitNo}`, { code: 'VSCR_ERR_UNKNOWN_FAULT' });
      return { cleared };
    },
  };
}
