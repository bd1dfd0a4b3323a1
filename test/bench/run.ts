// Benchmark runner (`npm run bench [-- --json] [-- --quick]`): runs every test/bench/*.bench.ts in name order and
// calls its runBench; progress and timing go to stderr so stdout stays parseable with --json. With more than one
// file, each runs in a process of its own: the crypto bench leaves a large heap and a warm allocator behind, and
// the pcsc bench measured a sixth slower after it in the same process.

import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';

interface BenchOptions {
  json: boolean;
  quick: boolean;
}

type BenchModule = { runBench?: (opts: BenchOptions) => Promise<void> };

export function parseBenchArgs(argv: readonly string[]): BenchOptions & { only: string[] } {
  const opts = { json: false, quick: false, only: [] as string[] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--json') opts.json = true;
    else if (arg === '--quick') opts.quick = true;
    else if (arg.startsWith('--only=')) opts.only.push(...arg.slice('--only='.length).split(','));
    else if (arg === '--only' && i + 1 < argv.length) opts.only.push(...argv[++i].split(','));
    else if (arg === '--help' || arg === '-h') {
      process.stderr.write('usage: npm run bench -- [--json] [--quick] [--only[=| ]crypto-device,service]\n');
      process.exit(0);
    } else {
      process.stderr.write(`bench: unknown argument ${arg}\n`);
      process.exit(2);
    }
  }
  return opts;
}

async function main(): Promise<void> {
  const opts = parseBenchArgs(process.argv.slice(2));
  const dir = path.dirname(fileURLToPath(import.meta.url));
  const files = (await readdir(dir))
    .filter((f) => f.endsWith('.bench.ts'))
    .filter((f) => opts.only.length === 0 || opts.only.includes(f.replace(/\.bench\.ts$/, '')))
    .sort();
  let failures = 0;
  const started = performance.now();
  for (const file of files) {
    if (files.length > 1) {
      const name = file.replace(/\.bench\.ts$/, '');
      const args = ['--import', 'tsx', fileURLToPath(import.meta.url), '--only', name, ...(opts.json ? ['--json'] : []), ...(opts.quick ? ['--quick'] : [])];
      const code = await new Promise<number | null>((resolve) => spawn(process.execPath, args, { stdio: 'inherit' }).on('close', resolve));
      if (code !== 0) failures++;
      continue;
    }
    process.stderr.write(`[bench] ${file}: running${opts.quick ? ' (quick)' : ''}…\n`);
    const t0 = performance.now();
    try {
      const mod = (await import(pathToFileURL(path.join(dir, file)).href)) as BenchModule;
      if (typeof mod.runBench !== 'function') throw new Error('does not export runBench(opts)');
      await mod.runBench({ json: opts.json, quick: opts.quick });
      process.stderr.write(`[bench] ${file}: done in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    } catch (err) {
      failures++;
      process.stderr.write(`[bench] ${file}: FAILED after ${((performance.now() - t0) / 1000).toFixed(1)} s: ${(err as Error).stack ?? String(err)}\n`);
    }
  }
  process.stderr.write(`[bench] ${files.length} file(s), ${failures} failed, ${((performance.now() - started) / 1000).toFixed(1)} s total\n`);
  process.exitCode = failures > 0 ? 1 : 0;
}

await main();
