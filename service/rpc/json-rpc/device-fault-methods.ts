// vscr.deviceFault.arm / list / clear on /v1/pcsc: crypto-device faults armed by a JSON-RPC client, the same
// objects and rules as REST /v1/devices/:id/faults (docs/faults.md "Device faults", docs/json-rpc.md).

import { DeviceFaultSpecError, FieldError, parseDeviceFaultRequest } from '../../../crypto-device/index.js';
import type { DeviceFaultRequest } from '../../runtime/device-faults.js';
import { JSONRPC_ERROR, JsonRpcMethodError, type ParamReader } from './codec.js';
import { FAULT_RPC_ERROR } from './fault-methods.js';
import type { ExtraMethodHandler } from './methods.js';
import type { DeviceFaultMethod } from '../../contract/json-rpc.js';

/** What the service's device fault host offers (service/runtime/device-faults.ts DeviceFaultHost fits). */
export interface DeviceFaultControl {
  has(device: number): boolean;
  arm(device: number, request: DeviceFaultRequest): object;
  list(device: number): object[];
  clear(device: number, id?: number): number;
}

/** Beside the reader faults' -32001 (unknown reader) and -32002 (unknown fault). */
export const DEVICE_FAULT_RPC_ERROR = { UNKNOWN_DEVICE: -32003 } as const;

const invalid = (message: string, code = 'VSCR_ERR_BAD_FAULT'): JsonRpcMethodError =>
  new JsonRpcMethodError(JSONRPC_ERROR.INVALID_PARAMS, `Invalid params: ${message}`, { code });

/** `device`: an id from GET /v1/devices. */
function deviceOf(faults: DeviceFaultControl, p: ParamReader): number {
  const device = p.all().device;
  if (device === undefined) throw invalid('"device" is required', 'VSCR_ERR_VALIDATION');
  if (typeof device !== 'number' || !Number.isSafeInteger(device) || device < 0) throw invalid('"device" must be a device id (0, 1, …)', 'VSCR_ERR_VALIDATION');
  if (!faults.has(device)) throw new JsonRpcMethodError(DEVICE_FAULT_RPC_ERROR.UNKNOWN_DEVICE, `no crypto device ${device}`, { code: 'VSCR_ERR_UNKNOWN_DEVICE' });
  return device;
}

export function deviceFaultMethods(faults: DeviceFaultControl): Record<DeviceFaultMethod, ExtraMethodHandler> {
  return {
    'vscr.deviceFault.arm'(_s, p) {
      const device = deviceOf(faults, p);
      try {
        return { fault: faults.arm(device, parseDeviceFaultRequest(p.all(), ['device'])) };
      } catch (err) {
        // The codes REST gives the same body: its schema refuses a FieldError's values, the injector the rest.
        if (err instanceof FieldError) throw invalid(err.message, 'VSCR_ERR_VALIDATION');
        if (err instanceof DeviceFaultSpecError) throw invalid(err.message);
        throw err;
      }
    },

    'vscr.deviceFault.list'(_s, p) {
      return { faults: faults.list(deviceOf(faults, p)) };
    },

    'vscr.deviceFault.clear'(_s, p) {
      const device = deviceOf(faults, p);
      const id = p.all().id;
      if (id === undefined) return { cleared: faults.clear(device) };
      if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 1) throw invalid('"id" must be an integer >= 1', 'VSCR_ERR_VALIDATION');
      const cleared = faults.clear(device, id);
      if (cleared === 0) throw new JsonRpcMethodError(FAULT_RPC_ERROR.UNKNOWN_FAULT, `no fault ${id} armed on device ${device}`, { code: 'VSCR_ERR_UNKNOWN_DEVICE_FAULT' });
      return { cleared };
    },
  };
}
