// `vscr fault … --device N`: arm, list and clear faults on a crypto device over REST (docs/faults.md "Device faults").

import type { DeviceFaultInfo, DeviceFaultRequest } from '../../sdk/types.js';
import { withClient, type ClientFlags, type Io } from '../context.js';
import { UsageError } from '../exit-codes.js';

export const DEVICE_KINDS = ['dma-error', 'never-ready', 'latched-error', 'lost-interrupt'] as const;
const COMMANDS = ['reset', 'encrypt', 'decrypt', 'sha256'] as const;

export interface DeviceArmFlags extends ClientFlags {
  device?: number;
  nth?: number;
  command?: string;
  after?: number;
  probability?: number;
  seed?: number;
  sticky?: boolean;
  now?: boolean;
  code?: number;
  hold?: number;
}

export function describeDeviceFault(f: DeviceFaultInfo): string {
  const t = f.trigger ?? {};
  const when = Object.entries(t).map(([k, v]) => `${k}=${String(v)}`).join(' ') || 'next command';
  return `${f.id}: ${f.kind}  [${when}]  ${f.once ? 'once' : 'until cleared'}  seen ${f.seen}  fired ${f.fired}`;
}

/** `vscr fault arm --device N <kind>`. */
export function armDeviceFault(device: number, kind: string, flags: DeviceArmFlags, io: Io): Promise<void> {
  if (!(DEVICE_KINDS as readonly string[]).includes(kind)) throw new UsageError(`device fault kind must be one of ${DEVICE_KINDS.join(', ')} (got "${kind}")`);
  if (flags.command !== undefined && !(COMMANDS as readonly string[]).includes(flags.command)) {
    throw new UsageError(`--command must be one of ${COMMANDS.join(', ')}`);
  }
  const trigger: NonNullable<DeviceFaultRequest['trigger']> = {};
  if (flags.nth !== undefined) trigger.nth = flags.nth;
  if (flags.command !== undefined) trigger.command = flags.command as (typeof COMMANDS)[number];
  if (flags.after !== undefined) trigger.afterMs = flags.after;
  if (flags.probability !== undefined) trigger.probability = flags.probability;
  if (flags.seed !== undefined) trigger.seed = flags.seed;
  const request: DeviceFaultRequest = { kind: kind as DeviceFaultRequest['kind'] };
  if (Object.keys(trigger).length > 0) request.trigger = trigger;
  if (flags.sticky) request.once = false;
  if (flags.now) request.now = true;
  if (flags.code !== undefined) request.code = flags.code;
  if (flags.hold !== undefined) request.holdMs = flags.hold;
  return withClient(flags, io, async (c) => {
    const f = await c.armDeviceFault(device, request);
    io.out(flags.json ? JSON.stringify({ fault: f }) : `Armed ${describeDeviceFault(f)}`);
  });
}

export function listDeviceFaults(device: number, flags: ClientFlags, io: Io): Promise<void> {
  return withClient(flags, io, async (c) => {
    const faults = await c.deviceFaults(device);
    if (flags.json) io.out(JSON.stringify({ faults }));
    else if (faults.length === 0) io.out('no faults armed');
    else for (const f of faults) io.out(describeDeviceFault(f));
  });
}

export function clearDeviceFaults(device: number, id: number | undefined, flags: ClientFlags, io: Io): Promise<void> {
  return withClient(flags, io, async (c) => {
    const cleared = await c.clearDeviceFaults(device, id);
    io.out(flags.json ? JSON.stringify({ cleared }) : `Cleared ${cleared} fault(s)`);
  });
}
