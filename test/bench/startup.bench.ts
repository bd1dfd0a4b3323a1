// Start-up benchmarks: `npm start` on defaults until its "listening" log line, the CPU time that took, and the
// service's RSS once idle; beside each, a bare fastify process (node + fastify, one route) started the same way
// in the same run, so a loaded machine shows up in the baseline too.

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

interface Opts { json: boolean; quick: boolean }

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** How long the process sits idle after listening before its RSS is read. */
const IDLE_MS = 3000;
const TARGET = { startupMs: 500, idleRssMiB: 100 };

function report(opts: Opts, name: string, value: number, unit: string, extra: Record<string, unknown> = {}): void {
  if (opts.json) console.log(JSON.stringify({ bench: 'startup', name, value: Number(value.toFixed(3)), unit, ...extra }));
  else console.log(`startup  ${name.padEnd(44)} ${value.toFixed(2).padStart(12)} ${unit}${Object.keys(extra).length ? `  ${JSON.stringify(extra)}` : ''}`);
}

const BARE_SOURCE = `
import Fastify from 'fastify';
const app = Fastify();
app.get('/', async () => ({ status: 'ok' }));
await app.listen({ host: '127.0.0.1', port: 0 });
console.log(JSON.stringify({ msg: 'listening on ' + app.server.address().port }));
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
`;

interface Sample { ms: number; cpuMs: number; rssMiB: number }

/** utime + stime of `pid` in ms (clock ticks are 100 Hz on Linux). */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

/** The node process npm started: the start script `exec`s node, so npm's shell child becomes node itself. */
function nodeChild(pid: number): number {
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  for (const child of children) if (readFileSync(`/proc/${child}/comm`, 'utf8').trim() === 'node') return child;
  throw new Error(`no node child under ${pid}: ${children.join(',')}`);
}

/** Starts `cmd`, waits for the listening line, reads CPU time then (and RSS after IDLE_MS), then stops it. */
async function sample(cmd: string, args: string[], viaNpm: boolean, cwd = ROOT): Promise<Sample> {
  const t0 = performance.now();
  const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_config_loglevel: 'silent', VSCR_LOG_FORMAT: 'json' } });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  try {
    const ms = await new Promise<number>((resolve, reject) => {
      let pending = '';
      child.stdout.on('data', (d: Buffer) => {
        pending += d.toString();
        if (/"msg":"listening on /.test(pending)) resolve(performance.now() - t0);
        pending = pending.slice(-200);
      });
      child.once('exit', (code) => reject(new Error(`${cmd} exited ${code} before listening: ${stderr.slice(-1000)}`)));
    });
    const pid = viaNpm ? nodeChild(child.pid!) : child.pid!;
    const cpu = cpuMs(pid);
    await new Promise((r) => setTimeout(r, IDLE_MS));
    return { ms, cpuMs: cpu, rssMiB: rssMiB(pid) };
  } finally {
    const exited = new Promise((r) => child.once('close', r));
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  }
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const r1 = (x: number): number => Math.round(x * 10) / 10;

/** package.json's start script, run by `sh` as npm runs it (its environment defaults included), without npm. */
function startScript(): string {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } };
  if (!/\bexec\s+node\s/.test(pkg.scripts.start)) throw new Error(`unexpected start script (it must exec node): ${pkg.scripts.start}`);
  return pkg.scripts.start;
}

export async function runBench(opts: Opts): Promise<void> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'vscr-startb-'));
  const serviceArgs = ['--port', '0', '--data-dir', dataDir];
  const npmArgs = ['start', '--', ...serviceArgs];
  // `sh -c 'script "$@"' sh args…`: the script's own `exec` makes the shell become node.
  const shArgs = ['-c', `${startScript()} "$@"`, 'sh', ...serviceArgs];
  const bareDir = await mkdtemp(path.join(tmpdir(), 'vscr-startb-bare-'));
  try {
    // The baseline started by npm too: npm's own start-up, which a target in absolute ms includes, is in both.
    await writeFile(path.join(bareDir, 'bare.mjs'), BARE_SOURCE);
    await writeFile(path.join(bareDir, 'package.json'), JSON.stringify({ name: 'bare-fastify', private: true, scripts: { start: 'exec node bare.mjs' } }));
    // The bare app imports fastify from this project's node_modules.
    await symlink(path.join(ROOT, 'node_modules'), path.join(bareDir, 'node_modules'));
    // Unmeasured: the first start creates the card state files and (re)builds the cached bundle.
    await sample('npm', npmArgs, true);
    const rounds = opts.quick ? 3 : 5;
    const ours: Sample[] = [];
    const direct: Sample[] = [];
    const bare: Sample[] = [];
    const bareNpm: Sample[] = [];
    for (let i = 0; i < rounds; i++) {
      // Alternate, so a burst of load on the machine hits every variant.
      bare.push(await sample(process.execPath, ['--input-type=module', '-e', BARE_SOURCE], false));
      ours.push(await sample('npm', npmArgs, true));
      direct.push(await sample('sh', shArgs, false));
      bareNpm.push(await sample('npm', ['start'], true, bareDir));
    }
    const spread = (xs: number[]) => ({ min: r1(Math.min(...xs)), max: r1(Math.max(...xs)) });
    const row = (name: string, pick: (s: Sample) => number, unit: string, o: { target?: number; samples?: Sample[]; viaNpm?: boolean } = {}) => {
      const samples = o.samples ?? ours;
      // Like against like: a row started by npm against the bare app started by npm, a direct start against a direct one.
      const baselines = o.viaNpm === false ? bare : bareNpm;
      const value = median(samples.map(pick));
      const baseline = median(baselines.map(pick));
      report(opts, name, value, unit, {
        baseline: r1(baseline),
        ratio: Number((value / baseline).toFixed(3)),
        ...(o.target === undefined ? {} : { target: `< ${o.target}`, met: value < o.target }),
        rounds,
        spread: spread(samples.map(pick)),
        baselineIs: `node + fastify, one route, ${o.viaNpm === false ? 'started directly' : 'started by npm start'}, same run`,
      });
    };
    row('npm start → listening (defaults)', (s) => s.ms, 'ms', { target: TARGET.startupMs });
    // The absolute target applied to the baseline itself: whether this machine can meet it at all.
    row('bare fastify: npm start → listening', (s) => s.ms, 'ms', { target: TARGET.startupMs, samples: bareNpm });
    row('npm start: CPU time until listening', (s) => s.cpuMs, 'ms');
    row(`npm start: idle RSS (${IDLE_MS / 1000} s after listening)`, (s) => s.rssMiB, 'MiB', { target: TARGET.idleRssMiB });
    // The same command without npm (whose own start-up is part of the rows above), against the bare app started alike.
    row('start script without npm → listening', (s) => s.ms, 'ms', { samples: direct, viaNpm: false });
  } finally {
    await rm(dataDir, { recursive: true, force: true });
    await rm(bareDir, { recursive: true, force: true });
  }
}

// Runnable on its own: `npx tsx test/bench/startup.bench.ts [--json] [--quick]`.
if (process.argv[1] !== undefined && import.meta.url.endsWith(path.basename(process.argv[1]))) {
  await runBench({ json: process.argv.includes('--json'), quick: process.argv.includes('--quick') });
}
