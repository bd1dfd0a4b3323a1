// `vscr fault …`: arm, list and clear faults on a reader over REST (docs/faults.md).

import { Argument, type Command, InvalidArgumentError } from 'commander';
import type { FaultInfo, FaultRequest } from '../../sdk/types.js';
import { parseIndex, parsePositiveInt, readerArg, stdio, withClient, withClientOptions, type ClientFlags, type Io } from '../context.js';

const KINDS = ['remove-card', 'mute', 'slow', 'sw', 'corrupt', 'unplug', 'reset-card', 'power-fail'] as const;

interface ArmFlags extends ClientFlags {
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

export function registerFaultCommands(program: Command, io: Io = stdio): void {
  const fault = program.command('fault').description('faults on demand: arm, list and clear them on a reader (docs/faults.md)');

  withClientOptions(fault.command('arm'))
    .description('arm a fault on a reader')
    .argument('<reader>', 'reader index or exact name')
    .addArgument(new Argument('<kind>', 'what goes wrong').choices(KINDS))
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
    .action((reader: string, kind: FaultRequest['kind'], flags: ArmFlags) => withClient(flags, io, async (c) => {
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
      const f = await c.armFault(readerArg(reader), request);
      io.out(flags.json ? JSON.stringify({ fault: f }) : `Armed ${describe(f)}`);
    }));

  withClientOptions(fault.command('list'))
    .description('list the faults armed on a reader')
    .argument('<reader>', 'reader index or exact name')
    .action((reader: string, flags: ClientFlags) => withClient(flags, io, async (c) => {
      const faults = await c.faults(readerArg(reader));
      if (flags.json) io.out(JSON.stringify({ faults }));
      else if (faults.length === 0) io.out('no faults armed');
      else for (const f of faults) io.out(describe(f));
    }));

  withClientOptions(fault.command('clear'))
    .description('clear one fault, or every fault of the reader')
    .argument('<reader>', 'reader index or exact name')
    .argument('[id]', 'the fault id (see `vscr fault list`)', parsePositiveInt)
    .action((reader: string, id: number | undefined, flags: ClientFlags) => withClient(flags, io, async (c) => {
      const cleared = await c.clearFaults(readerArg(reader), id);
      io.out(flags.json ? JSON.stringify({ cleared }) : `Cleared ${cleared} fault(s)`);
    }));
}
