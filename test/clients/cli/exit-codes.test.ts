// `vscr` exit codes (docs/cli.md): 0 ok, 1 local error, 2 usage, 3 unreachable, 4 device/card error, 130
// cancelled — in process through the CLI entry, with a usage error and Ctrl-C through the real binary — and --help
// for every command.
import { describe, expect, it } from 'vitest';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { buildProgram } from '../../../clients/cli/program.js';
import { collect, runCliProcess, spawnCli, useTestService, waitForOutput } from './harness.js';

const svc = useTestService();

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** The CLI in this process with stdout/stderr captured (cheap; the spawned tests cover the real binary). */
const inProcess = (args: string[]) => svc.cli(args);

describe('exit codes of the real binary', () => {
  it('2 for a usage error, with a hint', async () => {
    const r = await runCliProcess(['status', '--device', 'x'], svc.env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not a non-negative integer/);
  });

  it('130 when Ctrl-C interrupts a device operation, after resetting the device', async () => {
    const child = spawnCli(['hash', '-', '--progress'], svc.env);
    child.stdin.write('partial input that never ends');
    await waitForOutput(child.stderr, /reading standard input/);
    const done = collect(child, 30_000);
    child.kill('SIGINT');
    const r = await done;
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/Cancelled: resetting the device[\s\S]*Reset done/);
    child.stdin.destroy();
  });

});

describe('exit codes in process', () => {
  it('3 when the service is unreachable, saying how to start it', async () => {
    const r = await inProcess(['status', '--url', `http://127.0.0.1:${await freePort()}`]);
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/cannot reach the vscr service .*ECONNREFUSED.*vscr serve/);
  });

  it('4 for a device error (unknown device), with the service code', async () => {
    const r = await inProcess(['status', '--device', '7']);
    expect(r.code).toBe(4);
    expect(r.err).toMatch(/VSCR_ERR_UNKNOWN_DEVICE, HTTP 404/);
  });

  it('0 and usage text for --help', async () => {
    const r = await inProcess(['hash', '--help']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Usage: vscr hash \[options\] <file>/);
  });

  it('2 for unknown commands, unknown options, bad hex and missing arguments', async () => {
    expect((await inProcess(['bogus'])).code).toBe(2);
    expect((await inProcess(['status', '--nope'])).code).toBe(2);
    expect((await inProcess(['insert'])).code).toBe(2);
    const bad = await inProcess(['apdu', '0', '00a4zz']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/not a hex string/);
    expect((await inProcess(['apdu', '0', '00a4'])).code).toBe(2);
    expect((await inProcess(['scan', '--count', '0'])).code).toBe(2);
    expect((await inProcess(['status', '--url', 'ftp://x'])).code).toBe(2);
  });

  it('4 for card errors: insert into an occupied reader, remove from an empty one, APDU to an empty reader', async () => {
    const occupied = await inProcess(['insert', '0']);
    expect(occupied.code).toBe(4);
    expect(occupied.err).toMatch(/VSCR_ERR_CARD_PRESENT, HTTP 409/);
    const empty = await inProcess(['remove', '1']);
    expect(empty.code).toBe(4);
    expect(empty.err).toMatch(/VSCR_ERR_NO_CARD/);
    const apdu = await inProcess(['apdu', '1', '00a4040000']);
    expect(apdu.code).toBe(4);
    expect(apdu.err).toBe('error: SCardConnect failed: SCARD_E_NO_SMARTCARD (0x8010000C)\nhint: insert a card with `vscr insert <reader>`\n');
    const unknownReader = await inProcess(['trace', 'no such reader']);
    expect(unknownReader.code).toBe(4);
    expect(unknownReader.err).toMatch(/VSCR_ERR_UNKNOWN_READER/);
  });

  it('1 for a missing local file', async () => {
    const r = await inProcess(['hash', '/nonexistent/file']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/no such file: \/nonexistent\/file/);
  });
});

describe('--help', () => {
  it('exists for every command and lists the common options of client commands', () => {
    const program = buildProgram();
    const names = program.commands.map((c) => c.name());
    expect(names).toEqual(['hash', 'encrypt', 'decrypt', 'status', 'reset', 'devices', 'readers', 'insert', 'remove', 'trace', 'pinpad', 'fault', 'scan', 'apdu', 'transcript', 'script', 'replay', 'relay', 'serve']);
    // A command group (pinpad, fault, script) is checked through its sub-commands, which carry the client options.
    const leaves = program.commands.flatMap((c) => (c.commands.length > 0 ? c.commands : [c]));
    for (const group of program.commands.filter((c) => c.commands.length > 0)) expect(group.description().length, group.name()).toBeGreaterThan(10);
    for (const cmd of leaves) {
      const help = cmd.helpInformation();
      expect(help, cmd.name()).toMatch(new RegExp(`^Usage: vscr (${cmd.parent?.name()} )?${cmd.name()}`));
      expect(cmd.description().length, cmd.name()).toBeGreaterThan(10);
      if (cmd.name() !== 'serve') expect(help, cmd.name()).toMatch(/--url <url>[\s\S]*--token <token>[\s\S]*--json/);
    }
    expect(program.helpInformation()).toMatch(/Commands:[\s\S]*scan/);
  });

  it('`vscr serve --help` prints the service\'s own flags and exits 0', async () => {
    const r = await inProcess(['serve', '--help']); // the service's parser prints through the injected stdout
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Usage: vscr-service \[options\]/);
    expect(r.out).toMatch(/--data-dir <dir>/);
    expect(r.err).toBe('');
  });
});
