// vscr.deviceFault.arm / list / clear: device faults on demand over the JSON-RPC transport, the same objects and
// rules as REST /v1/devices/:id/faults (docs/faults.md "Device faults", docs/json-rpc.md).

import { DeviceFaultSpecError, type DeviceFaultSpec } from '../../../crypto-device/index.js';
import type { DeviceFaultHost, DeviceFaultRequest } from '../../runtime/device-faults.js';
import { InvalidParamsError, type ParamReader } from './codec.js';
import type { ExtraMethods } from './methods.js';

const TRIGGER_FIELDS: Record<string, 'number' | 'string'> = { nth: 'number', command: 'string', afterMs: 'number', probability: 'number', seed: 'number' };

function typed(p: ParamReader, name: string, type: 'boolean' | 'number' | 'string'): unknown {
  const v = p.opt(name);
  if (v !== undefined && typeof v !== type) throw new InvalidParamsError(`Invalid params: "${name}" must be a ${type}`);
  return v;
}

/** The arm params as a request; ranges and combinations are the injector's to check. */
function armRequest(p: ParamReader): DeviceFaultRequest {
  const request: Record<string, unknown> = { kind: p.string('kind') };
  for (const [name, type] of [['once', 'boolean'], ['now', 'boolean'], ['code', 'number'], ['holdMs', 'number']] as const) {
    const v = typed(p, name, type);
    if (v !== undefined) request[name] = v;
  }
  const trigger = p.opt('trigger');
  if (trigger !== undefined) {
    if (typeof trigger !== 'object' || Array.isArray(trigger)) throw new InvalidParamsError('Invalid params: "trigger" must be an object');
    for (const [key, value] of Object.entries(trigger as Record<string, unknown>)) {
      if (!Object.hasOwn(TRIGGER_FIELDS, key)) throw new InvalidParamsError(`Invalid params: "trigger.${key}" is not a trigger field`);
      if (typeof value !== TRIGGER_FIELDS[key]) throw new InvalidParamsError(`Invalid params: "trigger.${key}" must be a ${TRIGGER_FIELDS[key]}`);
    }
    request.trigger = { ...(trigger as DeviceFaultSpec['trigger']) };
  }
  return request as unknown as DeviceFaultRequest; // shape checked above, values by the injector
}

export function deviceFaultMethods(host: DeviceFaultHost): ExtraMethods {
  const device = (p: ParamReader): number => {
    const index = p.u32('device');
    if (!host.has(index)) throw new InvalidParamsError(`Invalid params: no crypto device ${index}`);
    return index;
  };
  return {
    'vscr.deviceFault.arm'(_s, p) {
      const index = device(p);
      try {
        return { fault: host.arm(index, armRequest(p)) };
      } catch (err) {
        if (err instanceof DeviceFaultSpecError) throw new InvalidParamsError(`Invalid params: ${err.message}`);
        throw err;
      }
    },
    'vscr.deviceFault.list'(_s, p) {
      return { faults: host.list(device(p)) };
    },
    'vscr.deviceFault.clear'(_s, p) {
      const index = device(p);
      const id = p.opt('id') === undefined ? undefined : p.u32('id');
      return { cleared: host.clear(index, id) };
    },
  };
}
