// Runs npm scripts side by side (npm test's static checks: typecheck, lint, import direction), each one's output
// printed whole when it ends; exits non-zero if any failed. Two cores finish three single-threaded checks sooner.
import { spawn } from 'node:child_process';

const scripts = process.argv.slice(2);
const results = await Promise.all(
  scripts.map(
    (name) =>
      new Promise((resolve) => {
        const child = spawn('npm', ['run', '-s', name], { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        child.stdout.on('data', (d) => (out += d));
        child.stderr.on('data', (d) => (out += d));
        child.on('close', (code) => {
          process.stdout.write(`== ${name}: ${code === 0 ? 'ok' : `failed (${code})`}\n${out}`);
          resolve(code === 0);
        });
      }),
  ),
);
process.exitCode = results.every(Boolean) ? 0 : 1;
