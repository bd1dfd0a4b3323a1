// The reader commands' successful output (readers, insert, apdu, trace, remove) and how every client command finds
// the service (--url over VSCR_URL over the default http://127.0.0.1:8790). Run in process for speed; the
// spawned suites cover the real binary.
import { describe, expect, it } from 'vitest';
import { createServer, type AddressInfo } from 'node:net';
import { resolveUrl } from '../../../clients/cli/context.js';
import { EXIT } from '../../../clients/cli/exit-codes.js';
import { DEFAULT_URL } from '../../../clients/sdk/client.js';
import { cliEnv, runCli, useTestService } from './harness.js';

const svc = useTestService();

/** Runs the CLI in this process with stdout/stderr captured and VSCR_URL set as given (undefined = unset). */
async function cli(args: string[], vscrUrl: string | undefined = svc.service.url): Promise<{ code: number; out: string; err: string }> {
  const r = await runCli(args, cliEnv(vscrUrl));
  return { code: r.code ?? -1, out: r.stdout, err: r.stderr };
}

async function deadUrl(): Promise<string> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return `http://127.0.0.1:${port}`;
}

describe('reader commands', () => {
  it('readers, insert, apdu, trace and remove print what they did', async () => {
    const list = await cli(['readers']);
    expect(list.code, list.err).toBe(0);
    expect(list.out).toMatch(/^0: vscr Virtual Reader 00 00 {2}card: present \(default\) {2}ATR: 3B( [0-9A-F]{2})+\n1: vscr Virtual Reader 01 00 {2}card: absent\n$/);
    const json = await cli(['readers', '--json']);
    expect((JSON.parse(json.out) as { readers: { name: string }[] }).readers.map((r) => r.name)).toEqual(['vscr Virtual Reader 00 00', 'vscr Virtual Reader 01 00']);

    const ins = await cli(['insert', '1']);
    expect(ins.code, ins.err).toBe(0);
    expect(ins.out).toMatch(/^Card inserted: vscr Virtual Reader 01 00 {2}ATR: 3B( [0-9A-F]{2})+\n$/);

    // Like scriptor: the command, then the response with the status word's meaning; an error SW still exits 0.
    const apdu = await cli(['apdu', 'vscr Virtual Reader 01 00', '00 84 00 00 08', '00FF0000']);
    expect(apdu.code, apdu.err).toBe(0);
    expect(apdu.out).toMatch(/^Using T=[01] protocol on vscr Virtual Reader 01 00\n> 00 84 00 00 08\n< ([0-9A-F]{2} ){8}90 00 : Normal processing\.\n> 00 FF 00 00\n< 6D 00 : Checking error: instruction code not supported or invalid\.\n$/);
    const apduJson = await cli(['apdu', '1', '0084000004', '--json']);
    expect(apduJson.code, apduJson.err).toBe(0);
    const parsed = JSON.parse(apduJson.out) as { reader: string; results: { command: string; response: string; sw: string; meaning: string }[] };
    expect(parsed.reader).toBe('vscr Virtual Reader 01 00');
    expect(parsed.results).toHaveLength(1);
    expect(parsed.results[0]).toMatchObject({ command: '0084000004', sw: '9000', meaning: 'Normal processing.' });
    expect(parsed.results[0].response).toMatch(/^[0-9a-f]{8}9000$/);

    const trace = await cli(['trace', '1']);
    expect(trace.code, trace.err).toBe(0);
    expect(trace.out).toMatch(/IOCTL_SMARTCARD_TRANSMIT/);
    const traceJson = await cli(['trace', '1', '--json']);
    expect((JSON.parse(traceJson.out) as { entries: unknown[] }).entries.length).toBeGreaterThan(0);

    const rm = await cli(['remove', '1']);
    expect([rm.code, rm.out]).toEqual([0, 'Card removed: vscr Virtual Reader 01 00\n']);
  });

  it('insert --device names a crypto device the service must have: an unknown one is the service\'s 404', async () => {
    const r = await cli(['insert', '1', '--device', '7']);
    expect(r.code).toBe(EXIT.SERVICE_ERROR);
    expect(r.err).toMatch(/VSCR_ERR_UNKNOWN_DEVICE/);
    expect(r.err).toMatch(/no crypto device with id 7/);
    const bad = await cli(['insert', '1', '--device', 'x']);
    expect(bad.code).toBe(2);
  });

  it('apdu to an unknown reader index is a usage error that says how to list readers', async () => {
    const r = await cli(['apdu', '9', '00a4040000']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/no reader with index 9; `vscr readers` lists them/);
  });
});

describe('--json', () => {
  it('every one-shot client command prints one JSON document', async () => {
    const shapes: [string[], (v: Record<string, unknown>) => void][] = [
      [['status', '--json'], (v) => expect(v).toEqual({ state: 0, stateName: 'ReadyState', errorCode: 0, errorName: 'no error' })],
      [['reset', '--json'], (v) => expect(v).toMatchObject({ state: 0, errorCode: 0 })],
      [['devices', '--json'], (v) => expect(v.devices).toHaveLength(1)],
      [['readers', '--json'], (v) => expect(v.readers).toHaveLength(2)],
      [['insert', '1', '--json'], (v) => expect(v.reader).toMatchObject({ index: 1, cardPresent: true })],
      [['remove', '1', '--json'], (v) => expect(v.reader).toMatchObject({ index: 1, cardPresent: false })],
      [['trace', '0', '--json'], (v) => expect(Array.isArray(v.entries)).toBe(true)],
      [['apdu', '0', '0084000008', '--json'], (v) => expect(v.results).toHaveLength(1)],
    ];
    for (const [args, check] of shapes) {
      const r = await cli(args);
      expect(r.code, `${args.join(' ')}: ${r.err}`).toBe(0);
      expect(r.out.endsWith('\n') && r.out.indexOf('\n') === r.out.length - 1, args.join(' ')).toBe(true);
      check(JSON.parse(r.out) as Record<string, unknown>);
    }
  });
});

describe('finding the service', () => {
  it('--url wins over VSCR_URL', async () => {
    const r = await cli(['readers', '--json', '--url', svc.service.url], await deadUrl());
    expect(r.code, r.err).toBe(0);
  });

  it('VSCR_URL is used without --url', async () => {
    const dead = await deadUrl();
    const r = await cli(['readers'], dead);
    expect(r.code).toBe(3);
    expect(r.err).toContain(`cannot reach the vscr service at ${dead}`);
  });

  it('the default is http://127.0.0.1:8790', () => {
    expect(DEFAULT_URL).toBe('http://127.0.0.1:8790');
    expect(resolveUrl({}, {})).toBe('http://127.0.0.1:8790');
    expect(resolveUrl({ url: 'http://h:1' }, {})).toBe('http://h:1');
    expect(resolveUrl({}, { VSCR_URL: 'http://env:2/' })).toBe('http://env:2');
  });
});
