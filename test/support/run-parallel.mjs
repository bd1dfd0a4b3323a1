// Runs npm scripts side by side and exits non-zero if any failed. `npm test` runs its static checks (typecheck,
// lint, import direction) next to the test suite: the suite spends much of its time waiting on sockets, workers
// and timers, and the single-threaded checks fill those gaps on two cores. A name prefixed with `+` streams its
// output as it comes (the test suite); the others print theirs whole when they end, so lines never interleave.
// Each script's command line runs in a shell with node_modules/.bin on PATH, as `npm run` would run it, without
// starting npm once more per script.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '../..');
const commands = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).scripts;
const env = { ...process.env, PATH: `${path.join(root, 'node_modules', '.bin')}${path.delimiter}${process.env.PATH ?? ''}` };
const scripts = process.argv.slice(2);
const started = Date.now();
const results = await Promise.all(
  scripts.map(
    (arg) =>
      new Promise((resolve) => {
        const live = arg.startsWith('+');
        const name = live ? arg.slice(1) : arg;
        if (typeof commands[name] !== 'string') throw new Error(`no script "${name}" in package.json`);
        const child = spawn(commands[name], { shell: true, cwd: root, env, stdio: ['ignore', live ? 'inherit' : 'pipe', live ? 'inherit' : 'pipe'] });
        let out = '';
        child.stdout?.on('data', (d) => (out += d));
        child.stderr?.on('data', (d) => (out += d));
        child.on('close', (code) => {
          const seconds = ((Date.now() - started) / 1000).toFixed(1);
          process.stdout.write(`== ${name}: ${code === 0 ? 'ok' : `failed (${code})`} after ${seconds} s\n${out}`);
          resolve(code === 0);
        });
      }),
  ),
);
const failed = scripts.filter((_, i) => !results[i]).map((s) => s.replace(/^\+/, ''));
if (failed.length > 0) process.stdout.write(`== failed: ${failed.join(', ')}\n`);
process.exitCode = failed.length === 0 ? 0 : 1;
