// Relay through a real pcscd: Debian's pcscd 1.9.9 with the vsmartcard vpcd driver, our own vpcd bridge as the
// card, vscr's reader 1 relaying it over pcscd's socket. pcscd 1.9.9 always uses /run/pcscd, so it runs in a
// private mount namespace where a temporary directory is bound over /run/pcscd; its vpcd port is private too.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVirtualCard } from '../../smcard/card/index.js';
import { startVpcdBridge, type VpcdBridge } from '../../service/vpcd/bridge.js';
import { gate, PYTHON, rest, run, startInteropService, type InteropService } from './support.js';

const VPCD_DRIVER = '/usr/lib/pcsc/drivers/serial/libifdvpcd.so';
const g = gate([['pcscd', 'pcscd'], ['unshare', 'util-linux'], ['vpcd-config', 'vsmartcard-vpcd'], ['pyscard', 'python3-pyscard']]);
const SESSION = fileURLToPath(new URL('./sim-session.py', import.meta.url));
const REMOTE = 'Virtual PCD 00 00';

async function until(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timeout waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Whether a TCP port can be bound now (0 = any; resolves with the bound port, or null when taken). */
function bindable(port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(null));
    server.listen(port, () => {
      const bound = (server.address() as { port: number }).port;
      server.close(() => resolve(bound));
    });
  });
}

/** A port p where p and p+1 are free (vpcd listens on one port per slot), asked from the kernel. */
async function vpcdPort(): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const p = await bindable(0);
    if (p !== null && p < 65535 && (await bindable(p + 1)) !== null) return p;
  }
  throw new Error('no two adjacent free TCP ports');
}

describe.skipIf(g.skip)('relay: a card behind a real pcscd (vpcd driver, our vpcd bridge)', () => {
  let dir: string;
  let pcscd: ChildProcess | undefined;
  let pcscdLog = '';
  let bridge: VpcdBridge | undefined;
  let svc: InteropService;
  let socket: string;
  let port = 0;

  const attach = async (): Promise<VpcdBridge> => {
    const card = await createVirtualCard({ profile: 'default' });
    const b = startVpcdBridge({ card, port, reconnectMs: 100 });
    await b.whenConnected();
    return b;
  };

  beforeAll(async () => {
    if (g.missing) throw new Error(g.missing);
    if (!existsSync(VPCD_DRIVER)) throw new Error(`missing ${VPCD_DRIVER} (install the Debian package vsmartcard-vpcd)`);
    port = await vpcdPort();
    dir = await mkdtemp(path.join(tmpdir(), 'vscr-pcscd-'));
    const runDir = path.join(dir, 'run');
    const confDir = path.join(dir, 'reader.conf.d');
    await mkdir(runDir);
    await mkdir(confDir);
    await writeFile(path.join(confDir, 'vpcd'), `FRIENDLYNAME "Virtual PCD"\nDEVICENAME /dev/null:${port}\nLIBPATH ${VPCD_DRIVER}\nCHANNELID ${port}\n`);
    socket = path.join(runDir, 'pcscd.comm');
    // unshare execs sh, which execs pcscd: the child's pid is pcscd's, so killing it stops the daemon.
    pcscd = spawn('unshare', ['-m', '--propagation', 'private', 'sh', '-c', `mkdir -p /run/pcscd && mount --bind "${runDir}" /run/pcscd && exec pcscd -f -i -c "${confDir}"`]);
    pcscd.stdout?.on('data', (d: Buffer) => (pcscdLog += d.toString()));
    pcscd.stderr?.on('data', (d: Buffer) => (pcscdLog += d.toString()));
    await until(() => /daemon ready/.test(pcscdLog) || pcscd?.exitCode !== null, 'pcscd to start');
    if (!existsSync(socket) || /Virtual PCD init failed/.test(pcscdLog)) throw new Error(`pcscd did not start its vpcd reader:\n${pcscdLog}`);
    bridge = await attach();
    svc = await startInteropService();
  });

  afterAll(async () => {
    await svc?.close();
    await bridge?.close();
    if (pcscd && pcscd.exitCode === null) {
      const gone = new Promise((resolve) => pcscd!.once('exit', resolve));
      pcscd.kill('SIGTERM');
      const force = setTimeout(() => pcscd?.kill('SIGKILL'), 3000);
      await gone;
      clearTimeout(force);
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('relays connect, transmit and card events; the relayed session is recorded', async () => {
    // pcscd notices the card vpcd offers on its own polling schedule; under load that can take a few hundred ms.
    let direct = await run(PYTHON, [SESSION, REMOTE], { ...process.env, PCSCLITE_CSOCK_NAME: socket });
    for (let i = 0; i < 20 && direct.code !== 0 && /No smart card inserted/.test(direct.stderr); i++) {
      await new Promise((r) => setTimeout(r, 250));
      direct = await run(PYTHON, [SESSION, REMOTE], { ...process.env, PCSCLITE_CSOCK_NAME: socket });
    }
    expect(direct.code, direct.stderr + pcscdLog.slice(-2000)).toBe(0);
    const viaPcscd = JSON.parse(direct.stdout) as { atr: string; responses: string[] };

    const started = await rest(svc.url, 'POST', '/v1/readers/1/relay', { socket, reader: REMOTE });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    expect(started.body).toMatchObject({ relay: { remoteReader: REMOTE, cardPresent: true }, reader: { cardPresent: true, atr: viaPcscd.atr } });

    const relayed = await run(PYTHON, [SESSION, 'vscr Virtual Reader 01 00'], svc.env);
    expect(relayed.code, relayed.stderr).toBe(0);
    const viaVscr = JSON.parse(relayed.stdout) as { atr: string; responses: string[] };
    expect(viaVscr.atr).toBe(viaPcscd.atr);
    // Same card, same answers (GET CHALLENGE aside: fresh random bytes each time, same length and SW).
    for (const i of [0, 1, 2, 4]) expect(viaVscr.responses[i]).toBe(viaPcscd.responses[i]);
    expect(viaVscr.responses[3]).toMatch(/^[0-9a-f]{16}9000$/);
    expect(viaVscr.responses[2]).toBe('9000'); // VERIFY 1234 reached the card behind pcscd

    const t = (await rest(svc.url, 'GET', '/v1/readers/1/transcript')).body as { entries: { kind: string; command?: string; response?: string }[] };
    const apdus = t.entries.filter((e) => e.kind === 'apdu');
    expect(apdus.map((e) => e.response)).toEqual(viaVscr.responses);
    expect(apdus[2].command).toBe('0020008104????????');

    // The card leaves vpcd: pcscd sees a removal, and so does vscr's relay reader; then it comes back.
    await bridge!.close();
    bridge = undefined;
    await until(async () => !((await rest(svc.url, 'GET', '/v1/readers')).body as { readers: { cardPresent: boolean }[] }).readers[1].cardPresent, 'the relayed card to go');
    bridge = await attach();
    await until(async () => ((await rest(svc.url, 'GET', '/v1/readers')).body as { readers: { cardPresent: boolean }[] }).readers[1].cardPresent, 'the relayed card to come back');
    const again = await run(PYTHON, [SESSION, 'vscr Virtual Reader 01 00'], svc.env);
    expect(again.code, again.stderr).toBe(0);
    expect((JSON.parse(again.stdout) as { responses: string[] }).responses[4]).toBe('6d00');

    expect((await rest(svc.url, 'DELETE', '/v1/readers/1/relay')).status).toBe(204);
  });
});
