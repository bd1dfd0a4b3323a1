// The driven pyscard process (pyscard-driven.py) as the fault suites use it: one JSON command in, one JSON answer
// out, with pyscard's stderr in the error when it does not answer.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PYTHON } from './support.js';

const SCRIPT = fileURLToPath(new URL('./pyscard-driven.py', import.meta.url));

export type Answer = Record<string, unknown> & { rv: number };

export class Py {
  private buffered = '';
  private waiting: ((line: string) => void)[] = [];
  private lines: string[] = [];
  stderr = '';

  /** Starts pyscard-driven.py with `env` (PCSCLITE_CSOCK_NAME pointing at the socket under test). */
  static start(env: NodeJS.ProcessEnv): Py {
    return new Py(spawn(PYTHON, [SCRIPT], { env }));
  }

  constructor(readonly child: ChildProcessWithoutNullStreams) {
    child.stderr.on('data', (d: Buffer) => (this.stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      this.buffered += d.toString();
      const parts = this.buffered.split('\n');
      this.buffered = parts.pop() ?? '';
      for (const l of parts.filter(Boolean)) {
        const w = this.waiting.shift();
        if (w) w(l);
        else this.lines.push(l);
      }
    });
  }

  next(ms = 20_000): Promise<Answer> {
    const queued = this.lines.shift();
    if (queued !== undefined) return Promise.resolve(JSON.parse(queued) as Answer);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`pyscard did not answer; stderr: ${this.stderr}`)), ms);
      this.waiting.push((l) => {
        clearTimeout(timer);
        resolve(JSON.parse(l) as Answer);
      });
    });
  }

  send(cmd: Record<string, unknown>): Promise<Answer> {
    this.child.stdin.write(`${JSON.stringify(cmd)}\n`);
    return this.next();
  }
}
