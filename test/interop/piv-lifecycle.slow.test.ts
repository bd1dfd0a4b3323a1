// The PIV card's life with OpenSC and OpenSSH on our socket: RSA decryption on 9D, an ssh login to a throwaway
// sshd authenticated only by the card (PIN through SSH_ASKPASS), the card pulled out over REST in the middle of
// an ssh-agent session (the agent refuses, nothing hangs), and the same keys after re-insertion and after a
// service restart on the same data directory (PIN counter included).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gate, type InteropService, rest, run, startInteropService, Watched } from './support.js';

const MODULE = '/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so';
const SSHD = '/usr/sbin/sshd';
const g = gate([
  ['pkcs11-tool', 'opensc'],
  ['openssl', 'openssl'],
  ['ssh', 'openssh-client'],
  ['ssh-agent', 'openssh-client'],
  [SSHD, 'openssh-server'],
  ['yubico-piv-tool', 'yubico-piv-tool'],
]);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

describe.skipIf(g.skip)('PIV card lifecycle with OpenSC and OpenSSH', () => {
  let svc: InteropService;
  let work: string;
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  let sshd: Watched | undefined;
  let agent: Watched | undefined;
  let port: number;
  let sshKeys: string;
  const file = (name: string) => path.join(work, name);
  const start = async () => {
    svc = await startInteropService({ cardReaders: ['piv'], readers: 0, defaultCard: null, dataDir });
    env = { ...svc.env, XDG_CACHE_HOME: work, HOME: work, SSH_ASKPASS: file('askpass'), SSH_ASKPASS_REQUIRE: 'force', DISPLAY: '' };
  };
  /** `ssh-keygen -D`: one line per certificate on the card (type, key, OpenSC's label). */
  const cardKeyLines = async () => {
    const r = await run('ssh-keygen', ['-D', MODULE], env);
    expect(r.code, r.stderr).toBe(0);
    return r.stdout;
  };
  /** The keys alone, sorted: what must not change. */
  const cardKeys = async () =>
    (await cardKeyLines())
      .trim()
      .split('\n')
      .map((l) => l.split(' ').slice(0, 2).join(' '))
      .sort()
      .join('\n');
  const sshArgs = (extra: string[]) => [
    '-F', '/dev/null', '-p', String(port), '-o', 'StrictHostKeyChecking=no', '-o', `UserKnownHostsFile=${file('known_hosts')}`,
    '-o', 'PasswordAuthentication=no', '-o', 'KbdInteractiveAuthentication=no', '-o', 'IdentityFile=none', '-o', 'ConnectTimeout=10',
    ...extra, `${userInfo().username}@127.0.0.1`, 'echo', 'logged-in-with-the-card',
  ];

  beforeAll(async () => {
    if (g.missing) throw new Error(g.missing);
    work = await mkdtemp(path.join(tmpdir(), 'vscr-piv-life-'));
    dataDir = await mkdtemp(path.join(tmpdir(), 'vscr-pivd-'));
    await writeFile(file('askpass'), '#!/bin/sh\necho 123456\n');
    await chmod(file('askpass'), 0o755);
    await writeFile(file('msg'), 'for the key management key\n');
    await start();
    const lines = await cardKeyLines();
    sshKeys = await cardKeys();
    // sshd's privilege separation directory is made by its service unit, which nothing runs here.
    if (!existsSync('/run/sshd') && process.getuid?.() === 0) await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
    spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', file('hostkey')]);
    // The 9A (PIV Authentication) key only.
    const auth = lines.split('\n').find((l) => l.endsWith('PIV AUTH pubkey'));
    expect(auth).toMatch(/^ssh-rsa /);
    await writeFile(file('authorized_keys'), `${auth}\n`);
    port = await freePort();
    await writeFile(
      file('sshd_config'),
      [
        `Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${file('hostkey')}`, `AuthorizedKeysFile ${file('authorized_keys')}`,
        'PubkeyAuthentication yes', 'PasswordAuthentication no', 'KbdInteractiveAuthentication no', 'UsePAM no', 'StrictModes no',
        'PermitRootLogin prohibit-password', 'PidFile none', '',
      ].join('\n'),
    );
    sshd = Watched.spawn(SSHD, ['-D', '-e', '-f', file('sshd_config')], env);
    await sshd.waitFor(/Server listening on 127\.0\.0\.1/);
  });

  afterAll(async () => {
    await agent?.stop();
    await sshd?.stop();
    await svc?.close();
    if (work) await rm(work, { recursive: true, force: true });
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('pkcs11-tool --decrypt RSA-PKCS on 9D gives back what openssl encrypted to its certificate', async () => {
    const c = await run('pkcs11-tool', ['--module', MODULE, '--read-object', '--type', 'cert', '--id', '03', '-o', file('c03.der')], env);
    expect(c.code, c.stderr).toBe(0);
    await run('openssl', ['x509', '-inform', 'der', '-in', file('c03.der'), '-pubkey', '-noout', '-out', file('p03.pem')], env);
    const e = await run('openssl', ['pkeyutl', '-encrypt', '-pubin', '-inkey', file('p03.pem'), '-in', file('msg'), '-out', file('ct')], env);
    expect(e.code, e.stderr).toBe(0);
    const d = await run('pkcs11-tool', ['--module', MODULE, '--login', '--pin', '123456', '--decrypt', '--id', '03', '-m', 'RSA-PKCS', '-i', file('ct'), '-o', file('pt')], env);
    expect(d.code, d.stderr).toBe(0);
    expect(await readFile(file('pt'), 'utf8')).toBe('for the key management key\n');
  });

  it('ssh logs in to a throwaway sshd with the 9A key alone, the PIN coming from SSH_ASKPASS', async () => {
    const r = await run('setsid', ['ssh', ...sshArgs(['-o', `PKCS11Provider=${MODULE}`])], env, 30_000, '');
    expect(r.stdout.trim(), r.stderr).toBe('logged-in-with-the-card');
    // Without the card's provider the same login is refused: nothing else authenticates.
    const none = await run('setsid', ['ssh', ...sshArgs([])], env, 30_000, '');
    expect(none.code).not.toBe(0);
    expect(none.stderr).toMatch(/Permission denied \(publickey\)/);
  });

  it('card removed over REST in the middle of an ssh-agent session: the agent refuses, then re-insertion gives the same keys', async () => {
    const sock = file('agent.sock');
    agent = Watched.spawn('ssh-agent', ['-D', '-a', sock], env);
    await agent.waitFor(/SSH_AUTH_SOCK/);
    const aenv = { ...env, SSH_AUTH_SOCK: sock };
    const add = await run('setsid', ['ssh-add', '-s', MODULE], aenv, 30_000, '');
    expect(add.stdout + add.stderr).toMatch(/Card added/);
    const listed = await run('ssh-add', ['-L'], aenv);
    expect(listed.stdout).toMatch(/^ssh-rsa /m);
    const viaAgent = sshArgs(['-o', `IdentityAgent=${sock}`]);
    expect((await run('setsid', ['ssh', ...viaAgent], aenv, 30_000, '')).stdout.trim()).toBe('logged-in-with-the-card');

    expect((await rest(svc.url, 'DELETE', '/v1/readers/0/card')).status).toBe(200);
    const refused = await run('setsid', ['ssh', ...viaAgent], aenv, 30_000, '');
    expect(refused.code).not.toBe(0);
    expect(refused.stdout).not.toMatch(/logged-in/);
    const l = await run('pkcs11-tool', ['--module', MODULE, '-L'], env);
    expect(l.stdout).toMatch(/\(empty\)/);

    expect((await rest(svc.url, 'POST', '/v1/readers/0/card', { profile: 'piv' })).status).toBe(201);
    expect(await cardKeys()).toBe(sshKeys);
  });

  it('after a service restart on the same data directory: same keys and the same PIN counter', async () => {
    const wrong = await run('yubico-piv-tool', ['-r', 'vscr PIV Reader 00', '-a', 'verify-pin', '-P', '000000'], env);
    expect(wrong.stdout + wrong.stderr).toMatch(/2 tries left/);
    await agent?.stop();
    agent = undefined;
    await svc.close();
    await start();
    expect(await cardKeys()).toBe(sshKeys);
    const status = await run('yubico-piv-tool', ['-r', 'vscr PIV Reader 00', '-a', 'status'], env);
    expect(status.stdout).toMatch(/^PIN tries left:\s+2$/m);
  });
});
