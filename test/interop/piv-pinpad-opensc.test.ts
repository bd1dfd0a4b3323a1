// OpenSC with enable_pinpad = true and the PIV card in a PIN-pad reader: the token announces a protected
// authentication path, and `pkcs11-tool --login` without --pin verifies the PIV PIN through the pad (OpenSC builds
// the PIN_VERIFY_STRUCTURE: ASCII, 8-byte block padded with FF). The PIN comes from the queue or is typed over
// REST while pkcs11-tool waits; a Cancel, a wrong PIN and the signature each give their exact outcome.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gate, type InteropService, rest, run, type RunResult, startInteropService } from './support.js';

const MODULE = '/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so';
const PIV_PIN = '123456';
const g = gate([
  ['pkcs11-tool', 'opensc'],
  ['openssl', 'openssl'],
]);

describe.skipIf(g.skip)('PIV PIN through the pad with OpenSC (enable_pinpad)', () => {
  let svc: InteropService;
  let work: string;
  let env: NodeJS.ProcessEnv;
  const file = (name: string) => path.join(work, name);
  const p11 = (...args: string[]) => run('pkcs11-tool', ['--module', MODULE, ...args], env, 45_000);
  const sign = (out: string) => p11('--login', '--sign', '--id', '01', '-m', 'SHA256-RSA-PKCS', '-i', file('msg'), '-o', file(out));
  const pad = (route: string, body?: unknown) => rest(svc.url, body === undefined ? 'GET' : 'POST', `/v1/readers/0/pinpad${route}`, body);

  beforeAll(async () => {
    if (g.missing) throw new Error(g.missing);
    // One reader, a PIN pad, holding the PIV card: pkcs11-tool's slot 0.
    svc = await startInteropService({ readers: 0, defaultCard: null, cardReaders: [] });
    const added = await rest(svc.url, 'POST', '/v1/readers', { pinpad: true });
    expect(added.status).toBe(201);
    expect((await rest(svc.url, 'POST', '/v1/readers/0/card', { profile: 'piv' })).status).toBe(201);
    work = await mkdtemp(path.join(tmpdir(), 'vscr-piv-pinpad-'));
    // A private OpenSC configuration: enable_pinpad on (it is OpenSC's default; stated so the test does not
    // depend on the system file), no file cache shared with other runs.
    await writeFile(file('opensc.conf'), 'app default {\n  reader_driver pcsc {\n    enable_pinpad = true;\n  }\n}\n');
    env = { ...svc.env, OPENSC_CONF: file('opensc.conf'), XDG_CACHE_HOME: work, HOME: work };
    await writeFile(file('msg'), 'signed after a PIN typed on the pad\n');
  });

  afterAll(async () => {
    await svc?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  /** The signature verifies with openssl against the certificate read from the card. */
  async function expectVerified(sig: string): Promise<void> {
    expect((await readFile(file(sig))).length).toBe(256);
    const r = await p11('--read-object', '--type', 'cert', '--id', '01', '-o', file('cert01.der'));
    expect(r.code, r.stderr).toBe(0);
    const x = await run('openssl', ['x509', '-inform', 'der', '-in', file('cert01.der'), '-pubkey', '-noout', '-out', file('pub01.pem')], env);
    expect(x.code, x.stderr).toBe(0);
    const v = await run('openssl', ['dgst', '-sha256', '-verify', file('pub01.pem'), '-signature', file(sig), file('msg')], env);
    expect(v.stdout.trim(), v.stderr).toBe('Verified OK');
  }

  /** Entries the pad has answered so far (each VERIFY through the pad is one). */
  const entries = async (): Promise<number> => ((await pad('')).body as { pinpad: { entries: number } }).pinpad.entries;

  it('the token has a protected authentication path on the PIN-pad reader', async () => {
    const l = await p11('-L');
    expect(l.code, l.stderr).toBe(0);
    expect(l.stdout).toMatch(/token label\s+: vscr PIV Authentication/);
    expect(l.stdout).toMatch(/token flags\s+:.*PIN pad present/);
  });

  it('a queued PIN: pkcs11-tool --login (no --pin) signs with 9A, openssl verifies', async () => {
    const before = await entries();
    expect((await pad('/queue', { digits: PIV_PIN })).status).toBe(201);
    const s = await sign('sig-queued');
    expect(s.code, s.stderr).toBe(0);
    // No PIN prompt on the terminal: the PIN went from the pad to the card.
    expect(s.stderr).toBe('Using slot 0 with a present token (0x0)\nUsing signature algorithm SHA256-RSA-PKCS\n');
    expect(await entries()).toBe(before + 1);
    // OpenSC sent FEATURE_VERIFY_PIN_DIRECT: a 19-byte PIN_VERIFY_STRUCTURE and the 13-byte VERIFY template
    // 00 20 00 80 08 with the 8-byte PIN block (PIV pads the PIN with FF to 8 bytes).
    const trace = (await rest(svc.url, 'GET', '/v1/readers/0/trace')).body as { entries: { ioControlCode: number; inputLength: number; statusName?: string }[] };
    expect(trace.entries.filter((e) => e.ioControlCode === 0x00313538).map((e) => [e.inputLength, e.statusName])).toEqual([[32, 'STATUS_SUCCESS']]);
    expect(((await pad('')).body as { pinpad: { queued: number } }).pinpad.queued).toBe(0);
    await expectVerified('sig-queued');
  });

  it('the PIN typed over REST while pkcs11-tool waits on the pad', async () => {
    const child = spawn('pkcs11-tool', ['--module', MODULE, '--login', '--sign', '--id', '01', '-m', 'SHA256-RSA-PKCS', '-i', file('msg'), '-o', file('sig-typed')], { env });
    const done = new Promise<RunResult>((resolve) => {
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), 45_000);
    try {
      const waited = await pad('?waitPrompt=20000');
      expect((waited.body as { pinpad: { prompting: boolean; stage: string; maxDigits: number } }).pinpad).toMatchObject({ prompting: true, stage: 'pin', maxDigits: 8 });
      expect((await pad('', { digits: PIV_PIN, key: 'ok' })).status).toBe(200);
      const s = await done;
      expect(s.code, s.stderr).toBe(0);
    } finally {
      clearTimeout(killer);
    }
    await expectVerified('sig-typed');
  });

  it('Cancel on the pad: C_Login fails with CKR_FUNCTION_CANCELED, no try spent', async () => {
    expect((await pad('/queue', { key: 'cancel' })).status).toBe(201);
    const s = await sign('sig-cancelled');
    expect(s.code).toBe(1);
    expect(s.stderr).toMatch(/C_Login failed: rv = CKR_FUNCTION_CANCELED \(0x50\)/);
    // The card never saw a VERIFY with a PIN: all 3 tries are left, so a right PIN still works.
    expect((await pad('/queue', { digits: PIV_PIN })).status).toBe(201);
    expect((await sign('sig-after-cancel')).code).toBe(0);
  });

  it('three digits are fewer than the 4 OpenSC asks of a PIV PIN: the pad answers 6403, C_Login CKR_PIN_LEN_RANGE', async () => {
    expect((await pad('/queue', { digits: '123' })).status).toBe(201);
    const s = await sign('sig-short');
    expect(s.code).toBe(1);
    expect(s.stderr).toMatch(/C_Login failed: rv = CKR_PIN_LEN_RANGE \(0xa2\)/);
  });

  it('a wrong PIN on the pad: CKR_PIN_INCORRECT; the right one afterwards resets the counter', async () => {
    expect((await pad('/queue', { digits: '654321' })).status).toBe(201);
    const s = await sign('sig-wrong');
    expect(s.code).toBe(1);
    expect(s.stderr).toMatch(/C_Login failed: rv = CKR_PIN_INCORRECT \(0xa0\)/);
    expect((await pad('/queue', { digits: PIV_PIN })).status).toBe(201);
    const ok = await sign('sig-after-wrong');
    expect(ok.code, ok.stderr).toBe(0);
    await expectVerified('sig-after-wrong');
  });
});
