// The PIV card through unmodified yubico-piv-tool (libykpiv 2.2.0) on our socket: status, PIN and PUK changes,
// wrong PIN down to blocked and the PUK unblock, key generation with certificates made by openssl, test
// signatures and deciphering, attestation, a new management key, and reset back to factory state after blocking
// PIN and PUK.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gate, type InteropService, run, startInteropService } from './support.js';

const g = gate([
  ['yubico-piv-tool', 'yubico-piv-tool'],
  ['openssl', 'openssl'],
]);
const READER = 'vscr PIV Reader 00';
const NEW_KEY = '0A0B0C0D0E0F101112131415161718191A1B1C1D1E1F2021';

describe.skipIf(g.skip)('PIV card with yubico-piv-tool', () => {
  let svc: InteropService;
  let work: string;
  const file = (name: string) => path.join(work, name);
  const ykpiv = (...args: string[]) => run('yubico-piv-tool', ['-r', READER, ...args], svc.env);
  const out = (r: { stdout: string; stderr: string }) => r.stdout + r.stderr;

  beforeAll(async () => {
    if (g.missing) throw new Error(g.missing);
    svc = await startInteropService({ cardReaders: ['piv'], readers: 0, defaultCard: null });
    work = await mkdtemp(path.join(tmpdir(), 'vscr-piv-ykpiv-'));
  });

  afterAll(async () => {
    await svc?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('-a status shows vscr\'s version, the serial, CHUID, CCC, the four provisioned slots and 3 PIN tries', async () => {
    const r = await ykpiv('-a', 'status');
    expect(r.code, out(r)).toBe(0);
    expect(r.stdout).toMatch(/^Version:\s+0\.1\.0$/m);
    expect(r.stdout).toMatch(/^Serial Number:\s+\d+$/m);
    expect(r.stdout).toMatch(/^CHUID:\s+3019d4e739da739ced39ce739d836858210842108421c84210c3eb3410[0-9a-f]{32}/m);
    expect(r.stdout).toMatch(/^CCC:\s+f015a000000116ff02/m);
    for (const [slot, alg] of [['9a', 'RSA2048'], ['9c', 'ECCP256'], ['9d', 'RSA2048'], ['9e', 'ECCP256']]) {
      expect(r.stdout).toMatch(new RegExp(`^Slot ${slot}:\\s*\\n\\s+Algorithm:\\s+${alg}`, 'm'));
    }
    expect(r.stdout).toMatch(/^PIN tries left:\s+3$/m);
  });

  it('verify-pin, change-pin, change-puk', async () => {
    expect(out(await ykpiv('-a', 'verify-pin', '-P', '123456'))).toMatch(/Successfully verified PIN/);
    expect(out(await ykpiv('-a', 'change-pin', '-P', '123456', '-N', '24681357'))).toMatch(/Successfully changed the pin code/);
    expect(out(await ykpiv('-a', 'verify-pin', '-P', '24681357'))).toMatch(/Successfully verified PIN/);
    expect(out(await ykpiv('-a', 'change-pin', '-P', '24681357', '-N', '123456'))).toMatch(/Successfully changed the pin code/);
    expect(out(await ykpiv('-a', 'change-puk', '-P', '12345678', '-N', '87654321'))).toMatch(/Successfully changed the puk code/);
    expect(out(await ykpiv('-a', 'change-puk', '-P', '87654321', '-N', '12345678'))).toMatch(/Successfully changed the puk code/);
  });

  it('a wrong PIN three times: 2 left (63C2), 1 left (63C1), blocked (6983); unblock-pin with the PUK', async () => {
    expect(out(await ykpiv('-a', 'verify-pin', '-P', '000000'))).toMatch(/2 tries left before pin is blocked/);
    expect(out(await ykpiv('-a', 'verify-pin', '-P', '000000'))).toMatch(/1 tries left before pin is blocked/);
    expect(out(await ykpiv('-a', 'verify-pin', '-P', '000000'))).toMatch(/Pin code blocked/);
    expect(out(await ykpiv('-a', 'verify-pin', '-P', '123456'))).toMatch(/Pin code blocked/);
    expect((await ykpiv('-a', 'status')).stdout).toMatch(/^PIN tries left:\s+0$/m);
    expect(out(await ykpiv('-a', 'unblock-pin', '-P', '12345678', '-N', '123456'))).toMatch(/Successfully unblocked the pin code/);
    expect(out(await ykpiv('-a', 'verify-pin', '-P', '123456'))).toMatch(/Successfully verified PIN/);
  });

  /** generate → public key; openssl makes a certificate for it; import-certificate; read-certificate gives it back. */
  async function generateWithCert(slot: string, alg: string, keyOpt: string): Promise<string> {
    const g1 = await ykpiv('-a', 'generate', '-s', slot, '-A', alg, '-o', file(`pub${slot}.pem`));
    expect(g1.code, out(g1)).toBe(0);
    expect(await readFile(file(`pub${slot}.pem`), 'utf8')).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    // selfsign-certificate is broken in Debian 12's build; openssl signs with a throwaway key and puts ours in.
    const req = await run('openssl', ['req', '-new', '-newkey', keyOpt, '-nodes', '-keyout', file(`any${slot}.key`), '-subj', `/CN=slot ${slot}`, '-out', file(`req${slot}.csr`)], svc.env);
    expect(req.code, req.stderr).toBe(0);
    const x = await run('openssl', ['x509', '-req', '-in', file(`req${slot}.csr`), '-signkey', file(`any${slot}.key`), '-force_pubkey', file(`pub${slot}.pem`), '-days', '30', '-out', file(`cert${slot}.pem`)], svc.env);
    expect(x.code, x.stderr).toBe(0);
    expect(out(await ykpiv('-a', 'import-certificate', '-s', slot, '-i', file(`cert${slot}.pem`)))).toMatch(/Successfully imported a new certificate/);
    const back = await ykpiv('-a', 'read-certificate', '-s', slot);
    expect(back.stdout).toBe(await readFile(file(`cert${slot}.pem`), 'utf8'));
    return file(`cert${slot}.pem`);
  }

  it('generate ECCP256 on 9c and RSA2048 on 9a, import certificates, test-signature with each', async () => {
    const c9c = await generateWithCert('9c', 'ECCP256', 'ec:' + (await ecParams()));
    expect(out(await ykpiv('-a', 'verify-pin', '-a', 'test-signature', '-s', '9c', '-P', '123456', '-i', c9c))).toMatch(/Successful ECDSA verification/);
    const c9a = await generateWithCert('9a', 'RSA2048', 'rsa:2048');
    expect(out(await ykpiv('-a', 'verify-pin', '-a', 'test-signature', '-s', '9a', '-P', '123456', '-i', c9a))).toMatch(/Successful RSA verification/);
  });

  it('test-decipher: RSA with the provisioned 9d key, then ECDH with a generated one', async () => {
    const cert = await ykpiv('-a', 'read-certificate', '-s', '9d', '-o', file('prov9d.pem'));
    expect(cert.code, out(cert)).toBe(0);
    expect(out(await ykpiv('-a', 'verify-pin', '-a', 'test-decipher', '-s', '9d', '-P', '123456', '-i', file('prov9d.pem')))).toMatch(/Successfully performed RSA decryption/);
    const c9d = await generateWithCert('9d', 'ECCP256', 'ec:' + (await ecParams()));
    expect(out(await ykpiv('-a', 'verify-pin', '-a', 'test-decipher', '-s', '9d', '-P', '123456', '-i', c9d))).toMatch(/Successfully performed ECDH exchange with card/);
  });

  it('attest: the certificate for 9c verifies (openssl) against the attestation certificate read from f9', async () => {
    const a = await ykpiv('-a', 'attest', '-s', '9c', '-o', file('att9c.pem'));
    expect(a.code, out(a)).toBe(0);
    const ca = await ykpiv('-a', 'read-certificate', '-s', 'f9', '-o', file('f9.pem'));
    expect(ca.code, out(ca)).toBe(0);
    const v = await run('openssl', ['verify', '-partial_chain', '-CAfile', file('f9.pem'), file('att9c.pem')], svc.env);
    expect(v.stdout.trim(), v.stderr).toBe(`${file('att9c.pem')}: OK`);
    // It certifies the key generated in 9c.
    const pubAtt = await run('openssl', ['x509', '-in', file('att9c.pem'), '-pubkey', '-noout'], svc.env);
    expect(pubAtt.stdout).toBe(await readFile(file('pub9c.pem'), 'utf8'));
  });

  it('set-mgm-key: the old key stops working, the new one works', async () => {
    expect(out(await ykpiv('-a', 'set-mgm-key', '-n', NEW_KEY))).toMatch(/Successfully set new management key/);
    expect(out(await ykpiv('-a', 'generate', '-s', '9e', '-A', 'ECCP256'))).toMatch(/Failed authentication with the application/);
    const g2 = await ykpiv(`--key=${NEW_KEY}`, '-a', 'generate', '-s', '9e', '-A', 'ECCP256');
    expect(g2.code, out(g2)).toBe(0);
  });

  it('reset needs PIN and PUK blocked; then the card is back to factory state', async () => {
    expect(out(await ykpiv('-a', 'reset'))).toMatch(/Reset failed/);
    for (let i = 0; i < 3; i++) await ykpiv('-a', 'verify-pin', '-P', '000000');
    for (let i = 0; i < 3; i++) await ykpiv('-a', 'unblock-pin', '-P', '00000000', '-N', '123456');
    expect(out(await ykpiv('-a', 'reset'))).toMatch(/Successfully reset the application/);
    const s = await ykpiv('-a', 'status');
    expect(s.stdout).toMatch(/^PIN tries left:\s+3$/m);
    expect(s.stdout).not.toMatch(/^Slot 9/m);
    expect(out(await ykpiv('-a', 'verify-pin', '-P', '123456'))).toMatch(/Successfully verified PIN/);
    // The default management key is back.
    const g3 = await ykpiv('-a', 'generate', '-s', '9a', '-A', 'ECCP256');
    expect(g3.code, out(g3)).toBe(0);
  });

  async function ecParams(): Promise<string> {
    const p = file('p256.pem');
    await run('openssl', ['ecparam', '-name', 'prime256v1', '-out', p], svc.env);
    return p;
  }
});
