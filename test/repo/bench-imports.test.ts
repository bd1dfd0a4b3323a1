// The benchmarks and the soak run outside vitest (`npm run bench`, `npm run soak`), so nothing they import may
// import vitest: its `expect` throws at import time there. A shared test helper once did, and the service bench
// stopped running while every test stayed green.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Every project file `entry` reaches through relative imports, with the chain that reached it. */
function reachable(entry: string): Map<string, string[]> {
  const seen = new Map<string, string[]>([[entry, [entry]]]);
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.shift()!;
    for (const m of readFileSync(join(ROOT, file), 'utf8').matchAll(IMPORT)) {
      const spec = m[1] ?? m[2];
      if (!spec.startsWith('.')) continue;
      let target = join(dirname(file), spec);
      if (target.endsWith('.js') && !existsSync(join(ROOT, target))) target = target.replace(/\.js$/, '.ts');
      if (!existsSync(join(ROOT, target)) || seen.has(target)) continue;
      seen.set(target, [...seen.get(file)!, target]);
      queue.push(target);
    }
  }
  return seen;
}

const entries = [
  ...readdirSync(join(ROOT, 'test/bench')).filter((f) => f.endsWith('.ts')).map((f) => `test/bench/${f}`),
  'test/soak/soak.ts',
];

describe('modules run outside vitest', () => {
  it.each(entries)('%s reaches no module that imports vitest', (entry) => {
    const offenders: string[] = [];
    for (const [file, chain] of reachable(entry)) {
      if (/from\s+['"]vitest['"]/.test(readFileSync(join(ROOT, file), 'utf8'))) offenders.push(chain.join(' → '));
    }
    expect(offenders).toEqual([]);
  });
});
