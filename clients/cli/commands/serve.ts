// `vscr serve [flags]`: starts the service in this process, exactly as `npm start` does (same flags, same
// environment variables); `vscr serve --help` prints the service's own flag list.

import type { Command } from 'commander';
import type { Io } from '../context.js';

export function registerServeCommand(program: Command, io: Io): void {
  program.command('serve')
    .description('start the vscr service in the foreground (same flags as `npm start`; `vscr serve --help` lists them)')
    .argument('[flags...]', 'service flags, e.g. --port 8790 --data-dir ./.vscr-data --readers 2')
    // Every flag belongs to the service's own parser (service/main.ts), including --help and --token.
    .helpOption(false)
    .allowUnknownOption(true)
    .allowExcessArguments(true)
    .action(async (flags: string[]) => {
      // Imported lazily: client commands must not pay for loading the whole service.
      const { runServiceCli } = await import('../../../service/main.js');
      await runServiceCli(flags, io.env, { writeOut: io.write, writeErr: io.writeErr });
      // The service now runs until SIGINT/SIGTERM; its own handlers shut it down and exit the process.
      await new Promise<never>(() => undefined);
    });
}
