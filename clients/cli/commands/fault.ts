// `vscr fault …`: arm, list and clear faults on a reader over REST (docs/faults.md).

import { type Command, InvalidArgumentError } from 'commander';
import type { FaultInfo, FaultRequest } from '../../sdk/types.js';
import { parseIndex, parsePositiveInt, readerArg, stdio, withClient, withClientOptions, type ClientFlags, type Io } from '../context.js';
import { UsageError } from '../exit-codes.js';
import { DEVICE_KINDS, armDeviceFault, clearDeviceFaults, listDeviceFaults, type DeviceArmFlags } from './device-fault.js';

const KINDS = ['remove-card', 'mute', 'slow', 'sw', 'corrupt', 'unplug', 'reset-card', 'power-fail'] as const;

interface ArmFlags extends ClientFlags, DeviceArmFlags {
  nth?: number;
  match?: string;
  after?: number;
  probability?: number;
  seed?: number;
  sticky?: boolean;
  now?: boolean;
  delay?: number;
  perByte?: number;
  sw?: string;
  truncate?: boolean;
  replug?: number;
}

function parseProbability(value: string): number {
  const p = Number(value);
  if (!(p > 0 && p <= 1)) throw new InvalidArgumentError(`"${value}" is not a probability in (0, 1]`);
  return p;
}

function parsePerByte(value: string): number {
  const ms = Number(value);
  if (!(value.trim() !== '' && Number.isFinite(ms) && ms >= 0)) throw new InvalidArgumentError(`"${value}" is not a delay in ms (>= 0)`);
  return ms;
}

function describe(f: FaultInfo): string {
  const t = f.trigger ?? {};
  const when = Object.entries(t).map(([k, v]) => `${k}=${String(v)}`).join(' ') || 'next APDU';
  return `${f.id}: ${f.kind}  [${when}]  ${f.once ? 'once' : 'until cleared'}  seen ${f.seen}  fired ${f.fired}`;
}

function armReaderFault(reader: string, kind: FaultRequest['kind'], flags: ArmFlags, io: Io): Promise<void> {
  const trigger: NonNullable<FaultRequest['trigger']> = {};
  if (flags.nth !== undefined) trigger.nth = flags.nth;
  if (flags.match !== undefined) trigger.match = flags.match;
  if (flags.after !== undefined) trigger.afterMs = flags.after;
  if (flags.probability !== undefined) trigger.probability = flags.probability;
  if (flags.seed !== undefined) trigger.seed = flags.seed;
  const request: FaultRequest = { kind };
  if (Object.keys(trigger).length > 0) request.trigger = trigger;
  if (flags.sticky) request.once = false;
  if (flags.now) request.now = true;
  if (flags.delay !== undefined) request.delayMs = flags.delay;
  if (flags.perByte !== undefined) request.perByteMs = flags.perByte;
  if (flags.sw !== undefined) request.sw = flags.sw;
  if (flags.truncate) request.corruption = 'truncate';
  if (flags.replug !== undefined) request.replugMs = flags.replug;
  return withClient(flags, io, async (c) => {
    const f = await c.armFault(readerArg(reader), request);
    io.out(flags.json ? JSON.stringify({ fault: f }) : `Armed ${describe(f)}`);
  });
}

function listReaderFaults(reader: string, flags: ClientFlags, io: Io): Promise<void> {
  return withClient(flags, io, async (c) => {
    const faults = await c.faults(readerArg(reader));
    if (flags.json) io.out(JSON.stringify({ faults }));
    else if (faults.length === 0) io.out('no faults armed');
    else for (const f of faults) io.out(describe(f));
  });
}

export function registerFaultCommands(program: Command, io: Io = stdio): void {
  const fault = program.command('fault').description('faults on demand: arm, list and clear them on a reader or crypto device (docs/faults.md)');

  withClientOptions(fault.command('arm'))
    .description('arm a fault on a reader, or with --device on a crypto device')
    .argument('<reader>', 'reader index or exact name (with --device: the kind)')
    .argument('[kind]', `what goes wrong: ${KINDS.join(', ')}; device: ${DEVICE_KINDS.join(', ')}`)
    .option('--device <n>', 'arm on crypto device n instead of a reader', parseIndex)
    .option('--command <name>', 'device: only on this command (reset, encrypt, decrypt, sha256)')
    .option('--code <n>', 'latched-error: the ErrorCode 1..4 (default 4)', parsePositiveInt)
    .option('--hold <ms>', 'never-ready: how long the device hangs (default 10000)', parseIndex)
    .option('--nth <n>', 'fire on the Nth APDU after arming', parsePositiveInt)
    .option('--match <hex>', 'fire on an APDU starting with these bytes (.. = any byte)')
    .option('--after <ms>', 'not before this many ms', parseIndex)
    .option('--probability <p>', 'fire with this probability per APDU', parseProbability)
    .option('--seed <n>', 'seed of the probability and of the flipped bit', parseIndex)
    .option('--sticky', 'fire until cleared (default: once)')
    .option('--now', 'remove-card, unplug, reset-card, power-fail: at once')
    .option('--delay <ms>', 'slow: added delay; mute: how long the reader waits', parseIndex)
    .option('--per-byte <ms>', 'slow: added delay per command and response byte (may be fractional)', parsePerByte)
    .option('--sw <hex>', 'sw: the status word to answer')
    .option('--truncate', 'corrupt: drop the last byte instead of flipping a bit')
    .option('--replug <ms>', 'unplug: plug back after this many ms', parseIndex)
    .action((reader: string, kindArg: string | undefined, flags: ArmFlags) => {
      const readerOnly = [flags.match, flags.delay, flags.perByte, flags.sw, flags.truncate, flags.replug].some((v) => v !== undefined);
      const deviceOnly = [flags.command, flags.code, flags.hold].some((v) => v !== undefined);
      if (flags.device !== undefined) {
        if (kindArg !== undefined || readerOnly) throw new UsageError('with --device: `fault arm --device <n> <kind>`, without --match, --delay, --per-byte, --sw, --truncate or --replug');
        return armDeviceFault(flags.device, reader, flags, io);
      }
      if (deviceOnly) throw new UsageError('--command, --code and --hold are for device faults (--device <n>)');
      if (kindArg === undefined || !(KINDS as readonly string[]).includes(kindArg)) throw new UsageError(`the kind must be one of ${KINDS.join(', ')}`);
      return armReaderFault(reader, kindArg as FaultRequest['kind'], flags, io);
    });

  withClientOptions(fault.command('list'))
    .description('list the faults armed on a reader, or with --device on a crypto device')
    .argument('[reader]', 'reader index or exact name (not with --device)')
    .option('--device <n>', 'the faults of crypto device n', parseIndex)
    .action((reader: string | undefined, flags: ClientFlags & { device?: number }) => {
      if ((flags.device === undefined) === (reader === undefined)) throw new UsageError('give a reader, or --device <n>');
      if (flags.device !== undefined) return listDeviceFaults(flags.device, flags, io);
      return listReaderFaults(reader!, flags, io);
    });

  withClientOptions(fault.command('clear'))
    .description('clear one fault, or every fault of the reader (with --device: of the crypto device, ending a hang)')
    .argument('[reader]', 'reader index or exact name (with --device: the fault id)')
    .argument('[id]', 'the fault id (see `vscr fault list`)', parsePositiveInt)
    .option('--device <n>', 'clear on crypto device n', parseIndex)
    .action((reader: string | undefined, id: number | undefined, flags: ClientFlags & { device?: number }) => {
      if (flags.device !== undefined) {
        if (id !== undefined) throw new UsageError('with --device: `fault clear --device <n> [id]`');
        if (reader !== undefined && !/^[1-9]\d{0,8}$/.test(reader)) throw new UsageError(`"${reader}" is not a fault id`);
        return clearDeviceFaults(flags.device, reader === undefined ? undefined : Number(reader), flags, io);
      }
      if (reader === undefined) throw new UsageError('give a reader, or --device <n>');
      return withClient(flags, io, async (c) => {
        const cleared = await c.clearFaults(readerArg(reader), id);
        io.out(flags.json ? JSON.stringify({ cleared }) : `Cleared ${cleared} fault(s)`);
      });
    });
}
