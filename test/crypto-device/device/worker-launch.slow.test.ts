// The device worker starts from the compiled JavaScript build (tsc into a temporary outDir, removed afterwards).

import { execFile } from 'node:child_process';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const SHA_123 = 'a665a45920422f9d417e4867efdc4fb8a04a1f3fff1fa07e998e86f7f7a27ae3';

/** A script that hashes "123" on a fresh device, programming BAR0 directly, and prints the digest. */
const script = (indexUrl: string) => `
import { createPciCryptoDevice, REG } from ${JSON.stringify(indexUrl)};
const dev = await createPciCryptoDevice({ keyString: 'secret', guestMemoryBytes: 1 << 20 });
dev.setInterruptMode('msi-multi');
dev.mmioWrite(REG.INTERRUPT_FLAG.offset, 1, 0xff);
const [list, data, olist, out] = dev.memory.allocPages(4);
dev.memory.bytes.set([0x31, 0x32, 0x33], data);
const view = new DataView(dev.memory.sab);
view.setUint32(list, data, true);
view.setUint32(olist, out, true);
let onIrq = () => {};
dev.connectInterrupt((id) => (onIrq(id), true));
// Many back-to-back requests: the idle worker is unref'd between them, and the process must neither exit early
// (an interrupt still in flight) nor hang after destroy().
let v;
for (let i = 0; i < 300; i++) {
  const vector = new Promise((res) => (onIrq = res));
  dev.mmioWrite(REG.DMA_IN_ADDRESS.offset, 4, list / 4096);
  dev.mmioWrite(REG.DMA_IN_SIZE.offset, 4, 3);
  dev.mmioWrite(REG.DMA_OUT_ADDRESS.offset, 4, olist / 4096);
  dev.mmioWrite(REG.DMA_OUT_SIZE.offset, 4, 32);
  dev.mmioWrite(REG.COMMAND.offset, 1, 4);
  v = await vector;
}
console.log(v, Buffer.from(dev.memory.bytes.subarray(out, out + 32)).toString('hex'));
await dev.destroy();
`;

describe('device worker launch', () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'vscr-device-launch-'));
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it('runs from the compiled JavaScript build', async () => {
    const out = join(tmp, 'build');
    await writeFile(join(tmp, 'package.json'), JSON.stringify({ type: 'module' }));
    await symlink(join(ROOT, 'node_modules'), join(tmp, 'node_modules'), 'dir'); // so the build resolves @noble/*
    await writeFile(
      join(tmp, 'tsconfig.json'),
      JSON.stringify({
        extends: join(ROOT, 'tsconfig.json'),
        compilerOptions: { noEmit: false, outDir: out, rootDir: ROOT, declaration: false, sourceMap: false },
        include: [join(ROOT, 'crypto-device/device'), join(ROOT, 'crypto-device/engines')],
      }),
    );
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    await run(process.execPath, [tsc, '-p', join(tmp, 'tsconfig.json')], { cwd: tmp, timeout: 120_000 });
    const file = join(tmp, 'js-run.mjs');
    await writeFile(file, script(pathToFileURL(join(out, 'crypto-device/device/index.js')).href));
    const { stdout } = await run(process.execPath, [file], { cwd: tmp, timeout: 30_000 });
    expect(stdout.trim()).toBe(`2 ${SHA_123}`);
  });
});
