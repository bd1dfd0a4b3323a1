// Builds the `vscr` commander program: one sub-command per console/reader action, each with --help.

import { Command } from 'commander';
import { registerApduCommand } from './commands/apdu.js';
import { registerDeviceCommands } from './commands/device.js';
import { registerFaultCommands } from './commands/fault.js';
import { registerPinpadCommands } from './commands/pinpad.js';
import { registerReaderCommands } from './commands/readers.js';
import { registerScanCommand } from './commands/scan.js';
import { registerServeCommand } from './commands/serve.js';
import { registerSimCommands } from './commands/sim.js';
import { stdio, type Io } from './context.js';

export const VERSION = '0.1.0';

export function buildProgram(io: Io = stdio): Command {
  const program = new Command('vscr')
    .description('Client for the vscr virtual smart card reader and crypto device service.')
    .addHelpText('after', [
      '',
      'Client commands find the service with --url or $VSCR_URL (default http://127.0.0.1:8790)',
      'and send --token or $VSCR_TOKEN when the service requires one.',
      '',
      'Exit codes: 0 ok, 1 local file error, 2 usage error, 3 service unreachable,',
      '            4 device/card/service error, 5 script verdict failed, 130 cancelled (Ctrl-C).',
      'See docs/cli.md; transcripts, scripts, replay and relay: docs/simulation.md.',
    ].join('\n'))
    .version(VERSION, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.write(s),
      writeErr: (s) => io.writeErr(s),
    });
  registerDeviceCommands(program, io);
  registerReaderCommands(program, io);
  registerPinpadCommands(program, io);
  registerFaultCommands(program, io);
  registerScanCommand(program, io);
  registerApduCommand(program, io);
  registerSimCommands(program, io);
  registerServeCommand(program, io);
  // Sub-commands inherit exitOverride only when set before they are added; set it on each explicitly.
  for (const cmd of program.commands) cmd.exitOverride().showHelpAfterError('(run with --help for usage)');
  return program;
}
