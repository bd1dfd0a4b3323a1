#!/usr/bin/env node
// The `vscr` npm bin: runs the compiled CLI from dist/ when it exists, else the TypeScript source through tsx.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const compiled = new URL('../dist/clients/cli/main.js', import.meta.url);

let mod;
if (existsSync(fileURLToPath(compiled))) {
  mod = await import(compiled.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  mod = await import(pathToFileURL(`${root}clients/cli/main.ts`).href);
}
const code = await mod.runCli(process.argv.slice(2));
// Exit explicitly: idle keep-alive sockets would otherwise hold the process open for seconds. Exit only once
// stdout and stderr have drained, so piped output is never cut short.
process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
