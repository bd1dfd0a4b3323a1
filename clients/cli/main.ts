// Entry of the `vscr` CLI: parses argv, runs the command, and turns the outcome into an exit code (docs/cli.md).

import { CommanderError } from 'commander';
import { describeError, EXIT, exitCodeFor } from './exit-codes.js';
import { stdio, type Io } from './context.js';
import { buildProgram } from './program.js';
import { isMainModule } from '../../service/main-module.js';

/** Runs the CLI with `argv` (without node and the script) on `io`; resolves with the exit code. */
export async function runCli(argv: string[], io: Io = stdio): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT.OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are successful outcomes; every other commander error is a usage error (already printed).
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return EXIT.OK;
      return err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    }
    const code = exitCodeFor(err);
    if (code !== EXIT.CANCELLED) io.err(describeError(err));
    return code;
  }
}

if (isMainModule(import.meta.url)) {
  runCli(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
