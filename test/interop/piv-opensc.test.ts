// The PIV card through unmodified OpenSC on our socket: opensc-tool names it, pkcs15-tool and pkcs11-tool list
// it, pkcs11-tool signs (RSA on 9A, ECDSA on 9C; openssl verifies against the certificate read from the card).
// Decryption, OpenSSH, removal and restarts are in piv-lifecycle.slow.test.ts.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gate, type InteropService, run, startInteropService } from './support.js';

const MODULE = '/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so';
const g = gate([
  ['opensc-tool', 'opensc'],
  ['pkcs11-tool', 'opensc'],
  ['pkcs15-tool', 'opensc'],
  ['openssl', 'openssl'],
]);

describe.skipIf(g.skip)('PIV card with OpenSC', () => {
  let svc: InteropService;
  let work: string;
  let env: NodeJS.ProcessEnv;
  const p11 = (...args: string[]) => run('pkcs11-tool', ['--module', MODULE, ...args], env);
  const file = (name: string) => path.join(work, name);

  beforeAll(async () => {
    if (g.missing) throw new Error(g.missing);
    // The PIV card alone, in reader 0: slot 0 for pkcs11-tool.
    svc = await startInteropService({ cardReaders: ['piv'], readers: 0, defaultCard: null });
    work = await mkdtemp(path.join(tmpdir(), 'vscr-piv-opensc-'));
    // Own cache directory: OpenSC may cache certificates per card serial.
    env = { ...svc.env, XDG_CACHE_HOME: work, HOME: work };
    await writeFile(file('msg'), 'signed by the virtual PIV card\n');
  });

  afterAll(async () => {
    await svc?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('opensc-tool -n names a PIV card; pkcs15-tool -D lists the PIN, PUK, four keys and certificates', async () => {
    const n = await run('opensc-tool', ['-n'], env);
    expect(n.code, n.stderr).toBe(0);
    expect(n.stdout.trim()).toBe('Personal Identity Verification Card');
    const d = await run('pkcs15-tool', ['-D'], env);
    expect(d.code, d.stderr).toBe(0);
    expect(d.stdout).toMatch(/PKCS#15 Card \[vscr PIV Authentication\]/);
    expect(d.stdout).toMatch(/PIN \[PIN\][\s\S]*?Reference\s+: 128 \(0x80\)/);
    expect(d.stdout).toMatch(/PIN \[PIV PUK\][\s\S]*?Reference\s+: 129 \(0x81\)/);
    for (const [kind, ref] of [['RSA', '0x9A'], ['EC', '0x9C'], ['RSA', '0x9D'], ['EC', '0x9E']]) {
      expect(d.stdout).toMatch(new RegExp(`Private ${kind} Key \\[[^\\]]+\\][\\s\\S]*?Key ref\\s+: \\d+ \\(${ref}\\)`));
    }
    expect(d.stdout.match(/X\.509 Certificate \[/g)).toHaveLength(4);
  });

  it('pkcs11-tool -L shows the token; -O lists keys and certificates with IDs 01..04', async () => {
    const l = await p11('-L');
    expect(l.code, l.stderr).toBe(0);
    expect(l.stdout).toMatch(/token label\s+: vscr PIV Authentication/);
    expect(l.stdout).toMatch(/token manufacturer\s+: piv_II/);
    const o = await p11('-O');
    expect(o.code, o.stderr).toBe(0);
    // One block per object, each starting at the left margin.
    const blocks = o.stdout.split(/^(?=\S)/m);
    const idsOf = (head: string) => blocks.filter((b) => b.startsWith(head)).map((b) => /^\s+ID:\s+(\w+)$/m.exec(b)?.[1]).sort();
    expect(idsOf('Certificate Object; type = X.509 cert')).toEqual(['01', '02', '03', '04']);
    expect(idsOf('Public Key Object')).toEqual(['01', '02', '03', '04']);
    expect(o.stdout).toMatch(/Public Key Object; RSA 2048 bits/);
    expect(o.stdout).toMatch(/Public Key Object; EC\s+EC_POINT 256 bits/);
  });

  /** Reads the certificate with this ID from the card and extracts its public key with openssl. */
  async function publicKeyOf(id: string): Promise<string> {
    const r = await p11('--read-object', '--type', 'cert', '--id', id, '-o', file(`cert${id}.der`));
    expect(r.code, r.stderr).toBe(0);
    const x = await run('openssl', ['x509', '-inform', 'der', '-in', file(`cert${id}.der`), '-pubkey', '-noout', '-out', file(`pub${id}.pem`)], env);
    expect(x.code, x.stderr).toBe(0);
    return file(`pub${id}.pem`);
  }

  it('--sign SHA256-RSA-PKCS with 9A (ID 01): openssl verifies it against the card certificate', async () => {
    const s = await p11('--login', '--pin', '123456', '--sign', '--id', '01', '-m', 'SHA256-RSA-PKCS', '-i', file('msg'), '-o', file('sig01'));
    expect(s.code, s.stderr).toBe(0);
    expect((await readFile(file('sig01'))).length).toBe(256);
    const v = await run('openssl', ['dgst', '-sha256', '-verify', await publicKeyOf('01'), '-signature', file('sig01'), file('msg')], env);
    expect(v.stdout.trim(), v.stderr).toBe('Verified OK');
  });

  it('--sign ECDSA-SHA256 with 9C (ID 02, PIN always): openssl verifies it', async () => {
    const s = await p11('--login', '--pin', '123456', '--sign', '--id', '02', '-m', 'ECDSA-SHA256', '--signature-format', 'openssl', '-i', file('msg'), '-o', file('sig02'));
    expect(s.code, s.stderr).toBe(0);
    const v = await run('openssl', ['dgst', '-sha256', '-verify', await publicKeyOf('02'), '-signature', file('sig02'), file('msg')], env);
    expect(v.stdout.trim(), v.stderr).toBe('Verified OK');
  });
});
