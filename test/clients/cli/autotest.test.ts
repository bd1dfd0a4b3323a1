// The original autotest's (CryptoDeviceTest.py) smaller steps through the CLI: reset, status and devices, the
// file format's known answer and --out, edge sizes and refusals. The large file runs in autotest.slow.test.ts.
import { describe, expect, it } from 'vitest';
import { createCipheriv, createHash } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expectResetStatusDevices, runCli, useTestService } from './harness.js';

const svc = useTestService();

describe('the original autotest through `vscr`', () => {
  it('reset, status and devices after the autotest steps', async () => {
    await expectResetStatusDevices(svc.env);
  });

  it('encrypts in the original format: zero padding, then a trailer with the strip count, in one CBC pass', async () => {
    const file = join(svc.dir, 'abc.txt');
    const out = join(svc.dir, 'abc.enc');
    await writeFile(file, '123');
    const r = await runCli(['encrypt', file, '--out', out, '--json'], svc.env);
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

    const back = join(svc.dir, 'abc.back');
    const d = await runCli(['decrypt', out, '--out', back], svc.env);
    expect(d.code, d.stderr).toBe(0);
    expect(await readFile(back, 'utf8')).toBe('123');
    expect((await readFile(out)).equals(actual)).toBe(true);
  });

  it('round-trips an empty file and a size just past a block boundary', async () => {
    // Every residue mod 16 is covered by the pure layout tests (file-format.test.ts); each spawn here costs ~2 s.
    for (const size of [0, 4097]) {
      const file = join(svc.dir, `size-${size}.bin`);
      const data = createHash('sha512').update(String(size)).digest().toString('hex').repeat(100).slice(0, size);
      await writeFile(file, data);
      const e = await runCli(['encrypt', file], svc.env);
      expect(e.code, e.stderr).toBe(0);
      expect((await stat(file)).size).toBe(Math.ceil(size / 16) * 16 + 16);
      const d = await runCli(['decrypt', file], svc.env);
      expect(d.code, d.stderr).toBe(0);
      expect(await readFile(file, 'utf8')).toBe(data);
    }
  }, 120_000);

  it('refuses to decrypt a file that is not in the format, leaving it unchanged (exit 1)', async () => {
    const odd = join(svc.dir, 'odd.bin');
    await writeFile(odd, 'seventeen bytes!!');
    const r1 = await runCli(['decrypt', odd], svc.env);
    expect(r1.code).toBe(1);
    expect(r1.stderr).toMatch(/multiple of 16/);

    const plain = join(svc.dir, 'plain.bin');
    const content = Buffer.alloc(64, 0x41);
    await writeFile(plain, content);
    const r2 = await runCli(['decrypt', plain], svc.env);
    expect(r2.code).toBe(1);
    expect(r2.stderr).toMatch(/unchanged/);
    expect((await readFile(plain)).equals(content)).toBe(true);
  }, 120_000);

  it('hashes standard input with `hash -`', async () => {
    const r = await runCli(['hash', '-', '--json'], svc.env, '123');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ file: '-', digest: 'a665a45920422f9d417e4867efdc4fb8a04a1f3fff1fa07e998e86f7f7a27ae3' });
  });
});
