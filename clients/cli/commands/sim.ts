// Simulation commands: `vscr transcript`, `vscr script load|verdict`, `vscr replay`, `vscr relay` (docs/simulation.md).

import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { type Command, Option } from 'commander';
import type { ScriptVerdict, TranscriptEntry } from '../../sdk/sim-types.js';
import { transcriptText } from '../../../smcard/sim/transcript.js';
import { parsePositiveInt, readerArg, stdio, withClient, withClientOptions, type ClientFlags, type Io } from '../context.js';
import { LocalError, VerdictFailedError } from '../exit-codes.js';

interface TranscriptFlags extends ClientFlags {
  follow?: boolean;
  save?: string;
  scriptor?: boolean;
  session?: number;
  clear?: boolean;
}

async function readLocal(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new LocalError(`cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
}

async function writeLocal(file: string, text: string, append = false): Promise<void> {
  try {
    await (append ? appendFile(file, text) : writeFile(file, text));
  } catch (err) {
    throw new LocalError(`cannot write ${file}: ${(err as Error).message}`, { cause: err });
  }
}

/** The verdict as a few lines a CI log shows. */
export function describeVerdict(v: ScriptVerdict): string[] {
  const lines = [`${v.passed ? 'PASSED' : 'FAILED'}: script "${v.script}" (${v.mode}${v.strict ? ', strict' : ''}): ${v.consumed}/${v.rules} rules used, ${v.exchanges} exchanges, ${v.unmatched} unmatched, stage ${v.stage}`];
  if (v.mismatch) {
    lines.push(`first mismatch at exchange ${v.mismatch.exchange} (stage ${v.mismatch.stage}):`);
    lines.push(`  expected: ${v.mismatch.expected.join(' | ')}`);
    lines.push(`  actual:   ${v.mismatch.actual}`);
  }
  for (const r of v.unconsumed.slice(0, 10)) lines.push(`unused rule ${r.index}${r.line ? ` (line ${r.line})` : ''}${r.name ? ` "${r.name}"` : ''}: ${r.command || '(any command)'}`);
  if (v.unconsumed.length > 10) lines.push(`… and ${v.unconsumed.length - 10} more unused rules`);
  return lines;
}

export function registerSimCommands(program: Command, io: Io = stdio): void {
  withClientOptions(program.command('transcript'))
    .description('print a reader\'s transcript (scriptor-style > / < lines), follow it live, or save it as JSON Lines')
    .argument('<reader>', 'reader index or exact name')
    .option('-f, --follow', 'keep printing new exchanges as they happen (Ctrl-C ends)')
    .option('--save <file>', 'write the transcript as JSON Lines (with --follow: and append new entries)')
    .option('--scriptor', 'print a scriptor input script (commands only, PIN-masked ones as comments)')
    .addOption(new Option('--session <n>', 'only this card session').argParser(parsePositiveInt))
    .option('--clear', 'forget the transcript entries kept so far')
    .addHelpText('after', '\nPIN bytes of VERIFY, CHANGE REFERENCE DATA and RESET RETRY COUNTER show as ?? unless the service runs with --raw-transcripts.')
    .action((reader: string, flags: TranscriptFlags) => withClient(flags, io, async (c) => {
      const ref = readerArg(reader);
      if (flags.clear) {
        await c.clearTranscript(ref);
        if (flags.json) io.out(JSON.stringify({ cleared: true }));
        else io.out('transcript cleared');
        return;
      }
      const query = flags.session !== undefined ? { session: flags.session } : {};
      const page = await c.transcript(ref, query);
      if (flags.save) {
        await writeLocal(flags.save, await c.transcriptAs(ref, 'jsonl', query));
        if (!flags.follow) io.err(`saved ${page.entries.length} entries to ${flags.save}`);
      }
      if (flags.scriptor) io.write(await c.transcriptAs(ref, 'scriptor', query));
      else if (flags.json && !flags.follow) io.out(JSON.stringify(page));
      else if (flags.json) for (const e of page.entries) io.out(JSON.stringify(e));
      else if (!flags.save || flags.follow) io.write(transcriptText(page.entries));
      if (!flags.follow) return;
      const since = page.entries.at(-1)?.seq ?? 0;
      const controller = new AbortController();
      const stop = (): void => controller.abort();
      process.once('SIGINT', stop);
      try {
        for await (const e of c.followTranscript(ref, { since }, { signal: controller.signal })) {
          if (flags.session !== undefined && e.session !== flags.session) continue;
          if (flags.save) await writeLocal(flags.save, JSON.stringify(e) + '\n', true);
          io.out(flags.json ? JSON.stringify(e) : transcriptText([e as TranscriptEntry]).trimEnd());
        }
      } catch (err) {
        if (!controller.signal.aborted) throw err;
      } finally {
        process.off('SIGINT', stop);
      }
    }));

  const script = program.command('script').description('scripted cards: load a script into a reader, read its verdict');
  withClientOptions(script.command('load'))
    .description('insert a card answering from a script file (YAML or JSON; see docs/simulation.md)')
    .argument('<reader>', 'reader index or exact name')
    .argument('<file>', 'the script file')
    .option('--replace', 'remove the card in the reader first')
    .action((reader: string, file: string, flags: ClientFlags & { replace?: boolean }) => withClient(flags, io, async (c) => {
      const loaded = await c.loadScript(readerArg(reader), await readLocal(file), { replace: flags.replace });
      if (flags.json) io.out(JSON.stringify(loaded));
      else io.out(`Script "${loaded.script}" (${loaded.rules} rules) inserted in ${loaded.reader.name}${loaded.reader.atr ? `  ATR: ${loaded.reader.atr.toUpperCase()}` : ''}`);
    }));
  withClientOptions(script.command('verdict'))
    .description('print the verdict of the reader\'s scripted or replayed card; exit 5 unless it passed')
    .argument('<reader>', 'reader index or exact name')
    .action((reader: string, flags: ClientFlags) => withClient(flags, io, async (c) => {
      const v = await c.verdict(readerArg(reader));
      if (flags.json) io.out(JSON.stringify({ verdict: v }));
      else for (const line of describeVerdict(v)) io.out(line);
      if (!v.passed) throw new VerdictFailedError(v.mismatch?.message ?? `${v.rules - v.consumed} rules unused`);
    }));
  for (const cmd of script.commands) cmd.exitOverride().showHelpAfterError('(run with --help for usage)');

  withClientOptions(program.command('replay'))
    .description('insert a card that replays a saved transcript (JSON Lines from `vscr transcript --save`)')
    .argument('<reader>', 'reader index or exact name')
    .argument('<file>', 'the JSON Lines transcript')
    .addOption(new Option('--mode <mode>', 'ordered: the recorded order; by-command: each command gets its recorded answers').choices(['ordered', 'by-command']).default('ordered'))
    .addOption(new Option('--session <n>', 'replay this session of the file (default: the last with exchanges)').argParser(parsePositiveInt))
    .option('--replace', 'remove the card in the reader first')
    .action((reader: string, file: string, flags: ClientFlags & { mode: 'ordered' | 'by-command'; session?: number; replace?: boolean }) => withClient(flags, io, async (c) => {
      const loaded = await c.replay(readerArg(reader), await readLocal(file), { mode: flags.mode, session: flags.session, replace: flags.replace });
      if (flags.json) io.out(JSON.stringify(loaded));
      else io.out(`Replaying ${loaded.rules} exchanges (${flags.mode}) in ${loaded.reader.name}${loaded.reader.atr ? `  ATR: ${loaded.reader.atr.toUpperCase()}` : ''}; \`vscr script verdict ${reader}\` reports divergence`);
    }));

  withClientOptions(program.command('relay'))
    .description('make a reader hold a card of another PC/SC daemon (pcscd or another vscr), over its pcsc-lite socket')
    .argument('<reader>', 'local reader index or exact name')
    .argument('[socket]', 'the remote daemon\'s socket, e.g. /run/pcscd/pcscd.comm (omit to show the relay)')
    .option('--remote-reader <name>', 'the remote reader (default: its first reader)')
    .option('--replace', 'remove the card in the local reader first')
    .option('--stop', 'stop relaying (the relayed card is removed)')
    .action((reader: string, socket: string | undefined, flags: ClientFlags & { remoteReader?: string; replace?: boolean; stop?: boolean }) => withClient(flags, io, async (c) => {
      const ref = readerArg(reader);
      if (flags.stop) {
        await c.stopRelay(ref);
        if (flags.json) io.out(JSON.stringify({ relay: null }));
        else io.out('relay stopped');
        return;
      }
      if (socket === undefined) {
        const relay = await c.relayStatus(ref);
        if (flags.json) io.out(JSON.stringify({ relay }));
        else io.out(relay ? `relaying "${relay.remoteReader}" at ${relay.socket}; card ${relay.cardPresent ? 'present' : 'absent'}` : 'no relay');
        return;
      }
      const r = await c.startRelay(ref, socket, { remoteReader: flags.remoteReader, replace: flags.replace });
      if (flags.json) io.out(JSON.stringify(r));
      else io.out(`${r.reader.name} relays "${r.relay.remoteReader}" at ${r.relay.socket}; card ${r.relay.cardPresent ? `present  ATR: ${(r.reader.atr ?? '').toUpperCase()}` : 'absent'}`);
    }));
}
