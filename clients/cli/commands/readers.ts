// Reader commands over REST: readers, insert, remove, trace.

import type { Command } from 'commander';
import type { ReaderInfo } from '../../sdk/types.js';
import { parseIndex, readerArg, stdio, withClient, withClientOptions, type ClientFlags, type Io } from '../context.js';

export function registerReaderCommands(program: Command, io: Io = stdio): void {
  withClientOptions(program.command('readers'))
    .description('list the virtual readers, their cards and why a reader is not published')
    .action((flags: ClientFlags) => withClient(flags, io, async (c) => {
      const readers = await c.readers();
      if (flags.json) io.out(JSON.stringify({ readers }));
      else if (readers.length === 0) io.out('no readers (start the service with --readers <n>, or add one with POST /v1/readers)');
      else for (const r of readers) io.out(describeReader(r));
    }));

  withClientOptions(program.command('insert'))
    .description('insert a virtual card into a reader')
    .argument('<reader>', 'reader index or exact name (see `vscr readers`)')
    .argument('[profile]', 'card profile (default: the service\'s "default")')
    .option('--device <n>', 'the crypto device the card uses (default 0; see `vscr devices`)', parseIndex)
    .action((reader: string, profile: string | undefined, flags: ClientFlags & { device?: number }) => withClient(flags, io, async (c) => {
      const r = await c.insertCard(readerArg(reader), profile, flags.device === undefined ? undefined : { device: flags.device });
      if (flags.json) io.out(JSON.stringify({ reader: r }));
      else io.out(`Card inserted: ${r.name}${r.atr ? `  ATR: ${spacedHex(r.atr)}` : ''}`);
    }));

  withClientOptions(program.command('remove'))
    .description('remove the card from a reader')
    .argument('<reader>', 'reader index or exact name')
    .action((reader: string, flags: ClientFlags) => withClient(flags, io, async (c) => {
      const r = await c.removeCard(readerArg(reader));
      if (flags.json) io.out(JSON.stringify({ reader: r }));
      else io.out(`Card removed: ${r.name}`);
    }));

  withClientOptions(program.command('trace'))
    .description('print the reader\'s IRP log (every IOCTL with status and duration, like a debugger log)')
    .argument('<reader>', 'reader index or exact name')
    .action((reader: string, flags: ClientFlags) => withClient(flags, io, async (c) => {
      if (flags.json) io.out(JSON.stringify({ entries: await c.trace(readerArg(reader)) }));
      else {
        const text = await c.traceText(readerArg(reader));
        io.write(text.endsWith('\n') || text === '' ? text : text + '\n');
      }
    }));
}

export function describeReader(r: ReaderInfo): string {
  const card = r.cardPresent ? `card: present${r.profile ? ` (${r.profile})` : ''}` : 'card: absent';
  const parts = [`${r.index}: ${r.name}`, card];
  if (r.atr) parts.push(`ATR: ${spacedHex(r.atr)}`);
  if (!r.published) parts.push('NOT PUBLISHED');
  if (r.failure) parts.push(`failure: ${r.failure}`);
  return parts.join('  ');
}

export function spacedHex(hex: string): string {
  return (hex.toUpperCase().match(/../g) ?? []).join(' ');
}
