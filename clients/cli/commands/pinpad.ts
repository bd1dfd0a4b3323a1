// `vscr pinpad …`: add a PIN-pad reader and drive its keypad over REST (docs/pinpad.md).

import { type Command, InvalidArgumentError } from 'commander';
import type { PinpadStatus } from '../../sdk/types.js';
import { parseIndex, readerArg, stdio, withClient, withClientOptions, type ClientFlags, type Io } from '../context.js';

interface WaitFlags extends ClientFlags {
  wait?: number;
}

function parseDigits(value: string): string {
  if (!/^[0-9]{1,32}$/.test(value)) throw new InvalidArgumentError(`"${value}" must be 1..32 digits 0-9`);
  return value;
}

function describe(p: PinpadStatus): string {
  const entry = p.prompting ? `asking for ${p.stage === 'pin' ? 'the PIN' : `the ${p.stage} PIN`}, ${p.digitsEntered} digit(s) typed` : 'idle';
  return `PIN pad: ${entry}; ${p.queued} queued; ${p.entries} entries so far`;
}

export function registerPinpadCommands(program: Command, io: Io = stdio): void {
  const pinpad = program.command('pinpad').description('PIN-pad readers: add one, type on its keypad, queue PINs (docs/pinpad.md)');
  const show = (flags: ClientFlags, p: PinpadStatus): void => io.out(flags.json ? JSON.stringify({ pinpad: p }) : describe(p));

  withClientOptions(pinpad.command('add'))
    .description('add a PIN-pad reader')
    .action((flags: ClientFlags) => withClient(flags, io, async (c) => {
      const r = await c.addReader({ pinpad: true });
      io.out(flags.json ? JSON.stringify({ reader: r }) : `PIN-pad reader added: ${r.index}: ${r.name}`);
    }));

  withClientOptions(pinpad.command('status'))
    .description('show the keypad state (never the digits)')
    .argument('<reader>', 'reader index or exact name')
    .option('--wait <ms>', 'first wait (up to 30000 ms) for the pad to ask for a PIN', parseIndex)
    .action((reader: string, flags: WaitFlags) => withClient(flags, io, async (c) => show(flags, await c.pinpadStatus(readerArg(reader), flags.wait ?? 0))));

  withClientOptions(pinpad.command('type'))
    .description('type digits on the keypad, then optionally press OK or Cancel')
    .argument('<reader>', 'reader index or exact name')
    .argument('<digits>', 'the digits (visible in the process list: for test PINs only)', parseDigits)
    .option('--ok', 'press OK after the digits')
    .option('--cancel', 'press Cancel after the digits')
    .option('--wait <ms>', 'first wait (up to 30000 ms) for the pad to ask for a PIN', parseIndex)
    .action((reader: string, digits: string, flags: WaitFlags & { ok?: boolean; cancel?: boolean }) => withClient(flags, io, async (c) => {
      if (flags.ok && flags.cancel) throw new InvalidArgumentError('--ok and --cancel exclude each other');
      if (flags.wait) await c.pinpadStatus(readerArg(reader), flags.wait);
      show(flags, await c.pinpadPress(readerArg(reader), { digits, key: flags.ok ? 'ok' : flags.cancel ? 'cancel' : undefined }));
    }));

  for (const key of ['ok', 'cancel', 'clear'] as const) {
    withClientOptions(pinpad.command(key))
      .description(key === 'clear' ? 'press the correction key (forget the digits typed so far)' : `press the ${key === 'ok' ? 'OK' : 'Cancel'} key`)
      .argument('<reader>', 'reader index or exact name')
      .option('--wait <ms>', 'first wait (up to 30000 ms) for the pad to ask for a PIN', parseIndex)
      .action((reader: string, flags: WaitFlags) => withClient(flags, io, async (c) => {
        if (flags.wait) await c.pinpadStatus(readerArg(reader), flags.wait);
        show(flags, await c.pinpadPress(readerArg(reader), { key }));
      }));
  }

  withClientOptions(pinpad.command('queue'))
    .description('queue an entry for the next PIN prompt (digits then OK), a Cancel, or drop the queue')
    .argument('<reader>', 'reader index or exact name')
    .argument('[digits]', 'the digits to enter (for test PINs only)', parseDigits)
    .option('--cancel', 'queue a Cancel instead of digits')
    .option('--clear', 'drop every queued entry')
    .action((reader: string, digits: string | undefined, flags: ClientFlags & { cancel?: boolean; clear?: boolean }) => withClient(flags, io, async (c) => {
      const ref = readerArg(reader);
      if (flags.clear) return show(flags, await c.pinpadClearQueue(ref));
      if (flags.cancel) return show(flags, await c.pinpadQueue(ref, { key: 'cancel' }));
      if (digits === undefined) throw new InvalidArgumentError('give the digits, --cancel or --clear');
      show(flags, await c.pinpadQueue(ref, { digits }));
    }));
}
