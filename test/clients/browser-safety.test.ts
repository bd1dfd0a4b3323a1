// The SDK and the winscard client must load in a browser: nothing they reach statically may import a Node
// built-in or a Node-only package. The Node WebSocket (`ws`) is loaded lazily with import() and is allowed.
// `import type` / `export type` lines are followed for their relative modules but their packages are not counted:
// TypeScript erases them (verbatimModuleSyntax keeps every other import), so they never reach a browser.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const STATIC_IMPORT = /^\s*(import|export)\s([^'"]*?)from\s+['"]([^'"]+)['"]/gm;

/** Every module reachable by static imports from `entry`, with the bare specifiers each one imports. */
function staticGraph(entry: string): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  const stack = [resolve(root, entry)];
  while (stack.length > 0) {
    const file = stack.pop()!;
    if (seen.has(file)) continue;
    const source = readFileSync(file, 'utf8');
    const bare: string[] = [];
    for (const match of source.matchAll(STATIC_IMPORT)) {
      const spec = match[3];
      if (spec.startsWith('.')) stack.push(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
      else if (!match[2].startsWith('type ')) bare.push(spec);
    }
    seen.set(file, bare);
  }
  return seen;
}

describe('browser safety of the client libraries', () => {
  for (const entry of ['clients/sdk/index.ts', 'clients/winscard/index.ts']) {
    it(`${entry} reaches no Node built-in or package by static import`, () => {
      const graph = staticGraph(entry);
      expect(graph.size).toBeGreaterThan(3);
      const offenders = [...graph].flatMap(([file, bare]) => bare.map((spec) => `${file.slice(root.length + 1)} -> ${spec}`));
      expect(offenders).toEqual([]);
    });
  }

  it('a type-only package import is erased: the REST contract\'s types come from json-schema-to-ts at compile time only', () => {
    const graph = staticGraph('clients/sdk/index.ts');
    const contract = resolve(root, 'service/contract/rest.ts');
    expect(graph.get(contract)).toEqual([]);
    expect(readFileSync(contract, 'utf8')).toMatch(/^import type \{ FromSchema \} from 'json-schema-to-ts';$/m);
  });

  it('the graph walker does see Node imports (guards the test itself)', () => {
    const graph = staticGraph('clients/cli/main.ts');
    const bare = [...graph.values()].flat();
    expect(bare.some((spec) => spec.startsWith('node:'))).toBe(true);
  });
});
