// The service's flag parser in process: --help prints every flag through the injected output and ends with
// commander's help outcome instead of exiting. Real processes (SIGTERM, exit codes, `npm start`) are in
// cli.slow.test.ts; `vscr serve` with Ctrl-C is in test/clients/cli/serve.test.ts.

import { CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { runServiceCli } from '../../../service/main.js';

describe('service CLI', () => {
  it('--help lists the flags', async () => {
    let out = '';
    let err = '';
    const run = runServiceCli(['--help'], {}, { writeOut: (s) => void (out += s), writeErr: (s) => void (err += s) });
    await expect(run).rejects.toBeInstanceOf(CommanderError);
    await expect(run).rejects.toMatchObject({ code: 'commander.helpDisplayed', exitCode: 0 });
    expect(out).toMatch(/^Usage: vscr-service \[options\]/);
    expect(out).toMatch(/--data-dir <dir>/);
    expect(out).toMatch(/--interrupt-mode <mode>/);
    expect(err).toBe('');
  });
});
