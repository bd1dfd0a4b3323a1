// The original autotest (CryptoDeviceTest.py) end to end through the CLI on a large file of repeated lines: hash
// it against an independent SHA-256, encrypt it in place (hash changes), decrypt it (byte-identical), then reset,
// status and devices.
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expectResetStatusDevices, runCli, useTestService } from './harness.js';

// The original wrote 1,000,000 lines of 1000 '1' characters (about 1 GB). 20,000 lines (about 20 MB) still span
// thousands of DMA pages and several request chunks.
const LINES = 20_000;
const LINE = '1'.repeat(1000) + '\n';

const svc = useTestService();

async function fileSha256(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

describe('the original autotest through `vscr` on a large file', () => {
  it('hash, encrypt in place, decrypt in place, reset, status, devices', async () => {
    const file = join(svc.dir, 'CryptoDeviceTestFile.txt');
    await writeFile(file, LINE.repeat(LINES));
    const original = await fileSha256(file);

    const hash = await runCli(['hash', file], svc.env);
    expect(hash.stderr).toBe('');
    expect(hash.code).toBe(0);
    expect(hash.stdout).toBe(`${file} : ${original}\n`);

    const enc = await runCli(['encrypt', file], svc.env);
    expect(enc.code, enc.stderr).toBe(0);
    expect(enc.stdout).toContain(`File '${file}' encrypted`);
    const encrypted = await fileSha256(file);
    expect(encrypted).not.toBe(original);
    // 20,020,000 bytes are a multiple of 16: no padding, a 16-byte trailer, strip count 16.
    expect((await stat(file)).size).toBe(LINES * LINE.length + 16);
    expect(enc.stdout).toContain('File padding: 16 byte(s)');

    const dec = await runCli(['decrypt', file], svc.env);
    expect(dec.code, dec.stderr).toBe(0);
    expect(dec.stdout).toContain(`File '${file}' decrypted`);
    expect((await stat(file)).size).toBe(LINES * LINE.length);
    expect(await fileSha256(file)).toBe(original);

    await expectResetStatusDevices(svc.env);
  }, 180_000);

});
