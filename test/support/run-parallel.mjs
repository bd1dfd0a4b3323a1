// Runs npm scripts side by side and exits non-zero if any failed. `npm test` runs its static checks (typecheck,
// lint, import direction) next to the test suite: the suite spends much of its time waiting on sockets, workers
// and timers, and the single-threaded checks fill those gaps on two cores. A name prefixed with `+` streams its
// output as it comes (the test suite); the others print theirs whole when they end, so lines never interleave.
import { spawn } from 'node:child_process';

const scripts = process.argv.slice(2);
const started = Date.now();
const results = await Promise.all(
  scripts.map(
    (arg) =>
      new Promise((resolve) => {
        const live = arg.startsWith('+');
        const name = live ? arg.slice(1) : arg;
        const child = spawn('npm', ['run', '-s', name], { stdio: ['ignore', live ? 'inherit' : 'pipe', live ? 'inherit' : 'pipe'] });
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
