// The device worker starts from .ts sources under tsx (vitest covers every other test); the compiled JavaScript
// build is worker-launch.slow.test.ts.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
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

});
