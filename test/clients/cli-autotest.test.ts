// The original autotest (CryptoDeviceTest.py) end to end through the CLI: make a large file of repeated lines,
// hash it against an independent SHA-256, encrypt it in place (hash changes), decrypt it (byte-identical), then
// reset, status and devices — plus the file format's known answer and --out.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCipheriv, createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliEnv, runCli, startTestService, type TestService } from './cli-harness.js';

// The original wrote 1,000,000 lines of 1000 '1' characters (about 1 GB). 20,000 lines (about 20 MB) keep this
// suite fast on a 2-core CI machine while still spanning thousands of DMA pages and several request chunks.
const LINES = 20_000;
const LINE = '1'.repeat(1000) + '\n';

let ts: TestService;
let dir: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  ts = await startTestService();
  dir = await mkdtemp(join(tmpdir(), 'vscr-autotest-'));
  env = cliEnv(ts.service.url);
});
afterAll(async () => {
  await ts?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function fileSha256(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

describe('the original autotest through `vscr`', () => {
  it('hash, encrypt in place, decrypt in place, reset, status, devices', async () => {
    const file = join(dir, 'CryptoDeviceTestFile.txt');
    await writeFile(file, LINE.repeat(LINES));
    const original = await fileSha256(file);

    const hash = await runCli(['hash', file], env);
    expect(hash.stderr).toBe('');
    expect(hash.code).toBe(0);
    expect(hash.stdout).toBe(`${file} : ${original}\n`);

    const enc = await runCli(['encrypt', file], env);
    expect(enc.code, enc.stderr).toBe(0);
    expect(enc.stdout).toContain(`File '${file}' encrypted`);
    const encrypted = await fileSha256(file);
    expect(encrypted).not.toBe(original);
    // 20,020,000 bytes are a multiple of 16: no padding, a 16-byte trailer, strip count 16.
    expect((await stat(file)).size).toBe(LINES * LINE.length + 16);
    expect(enc.stdout).toContain('File padding: 16 byte(s)');

    const dec = await runCli(['decrypt', file], env);
    expect(dec.code, dec.stderr).toBe(0);
    expect(dec.stdout).toContain(`File '${file}' decrypted`);
    expect((await stat(file)).size).toBe(LINES * LINE.length);
    expect(await fileSha256(file)).toBe(original);

    const reset = await runCli(['reset'], env);
    expect([reset.code, reset.stdout]).toEqual([0, 'Reset done\n']);

    const status = await runCli(['status'], env);
    expect([status.code, status.stdout]).toEqual([0, 'State: ReadyState (0)\nError: no error (0)\n']);

    const devices = await runCli(['devices'], env);
    expect(devices.code).toBe(0);
    expect(devices.stdout).toMatch(/^0: PCI\\VEN_1111&DEV_2222&REV_00 .*State: ReadyState \(0\)/);
  }, 180_000);

  it('encrypts in the original format: zero padding, then a trailer with the strip count, in one CBC pass', async () => {
    const file = join(dir, 'abc.txt');
    const out = join(dir, 'abc.enc');
    await writeFile(file, '123');
    const r = await runCli(['encrypt', file, '--out', out, '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ plainSize: 3, encryptedSize: 32, padding: 29 });
    expect(await readFile(file, 'utf8')).toBe('123'); // --out leaves the input alone
    // Independent reference: AES-256-CBC, key SHA-256("secret"), the device's fixed IV (docs/crypto-device.md).
    const plain = Buffer.alloc(32);
    plain.write('123');
    plain.writeUInt16LE(29, 16);
    const key = createHash('sha256').update('secret').digest();
    const iv = Buffer.from('32ad5cdf529aae2be15c7e2ea19e5163', 'hex');
    const expected = createCipheriv('aes-256-cbc', key, iv).setAutoPadding(false).update(plain);
    const actual = await readFile(out);
    expect(actual.toString('hex')).toBe(expected.toString('hex'));
    // The first block is the known answer for "123" (docs/crypto-device.md "Known answers").
    expect(actual.subarray(0, 16).toString('hex')).toBe('13933c64935f9001534e01365105aa56');

    const back = join(dir, 'abc.back');
    const d = await runCli(['decrypt', out, '--out', back], env);
    expect(d.code, d.stderr).toBe(0);
    expect(await readFile(back, 'utf8')).toBe('123');
    expect((await readFile(out)).equals(actual)).toBe(true);
  });

  it('round-trips an empty file and a size just past a block boundary', async () => {
    // Every residue mod 16 is covered by the pure layout tests (file-format.test.ts); each spawn here costs ~2 s.
    for (const size of [0, 4097]) {
      const file = join(dir, `size-${size}.bin`);
      const data = createHash('sha512').update(String(size)).digest().toString('hex').repeat(100).slice(0, size);
      await writeFile(file, data);
      const e = await runCli(['encrypt', file], env);
      expect(e.code, e.stderr).toBe(0);
      expect((await stat(file)).size).toBe(Math.ceil(size / 16) * 16 + 16);
      const d = await runCli(['decrypt', file], env);
      expect(d.code, d.stderr).toBe(0);
      expect(await readFile(file, 'utf8')).toBe(data);
    }
  }, 120_000);

  it('refuses to decrypt a file that is not in the format, leaving it unchanged (exit 1)', async () => {
    const odd = join(dir, 'odd.bin');
    await writeFile(odd, 'seventeen bytes!!');
    const r1 = await runCli(['decrypt', odd], env);
    expect(r1.code).toBe(1);
    expect(r1.stderr).toMatch(/multiple of 16/);

    const plain = join(dir, 'plain.bin');
    const content = Buffer.alloc(64, 0x41);
    await writeFile(plain, content);
    const r2 = await runCli(['decrypt', plain], env);
    expect(r2.code).toBe(1);
    expect(r2.stderr).toMatch(/unchanged/);
    expect((await readFile(plain)).equals(content)).toBe(true);
  }, 120_000);

  it('hashes standard input with `hash -`', async () => {
    const { spawnCli, collect } = await import('./cli-harness.js');
    const child = spawnCli(['hash', '-', '--json'], env);
    child.stdin.end('123');
    const r = await collect(child, 30_000);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ file: '-', digest: 'a665a45920422f9d417e4867efdc4fb8a04a1f3fff1fa07e998e86f7f7a27ae3' });
  });
});
