// The device worker starts from .ts sources under tsx (as `npm start` runs it) and from the compiled JavaScript
// build (tsc into a temporary outDir, removed afterwards), each in a process of its own driving 300 requests.
// `npm test` still starts a device from sources under tsx through `vscr serve` (test/clients/cli/serve.test.ts).

import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, SHA_123, run, script } from './worker-launch-support.js';

describe('device worker launch', () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'vscr-device-launch-'));
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it('runs from .ts sources under tsx', async () => {
    const file = join(tmp, 'tsx-run.mts');
    await writeFile(file, script(pathToFileURL(join(ROOT, 'crypto-device/device/index.ts')).href));
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
    const { stdout } = await run(process.execPath, ['--import', tsx, file], { cwd: tmp, timeout: 30_000 });
    expect(stdout.trim()).toBe(`2 ${SHA_123}`);
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
