// Byte progress for long device operations: a cli-progress bar on stderr (bytes, rate, ETA) when stderr is a TTY
// or --progress was given, and only for inputs above a threshold, as the original console showed elapsed time.

import cliProgress from 'cli-progress';

/** Files above this get a progress bar ("a few MiB"). */
export const PROGRESS_THRESHOLD = 4 * 1024 * 1024;

export interface Progress {
  add(bytes: number): void;
  stop(): void;
}

const NONE: Progress = { add: () => undefined, stop: () => undefined };

export function createProgress(label: string, totalBytes: number, opts: { force?: boolean; stream?: NodeJS.WriteStream }): Progress {
  const stream = opts.stream ?? process.stderr;
  if (!(opts.force || stream.isTTY) || totalBytes < PROGRESS_THRESHOLD) return NONE;
  const bar = new cliProgress.SingleBar({
    stream,
    // Without a TTY (--progress into a pipe or log) cli-progress would draw nothing; noTTYOutput prints lines.
    noTTYOutput: !stream.isTTY,
    notTTYSchedule: 1000,
    hideCursor: true,
    format: `${label} [{bar}] {percentage}% | {done}/{size} | {rate}/s | ETA {eta_formatted}`,
  }, cliProgress.Presets.shades_classic);
  const start = Date.now();
  let done = 0;
  bar.start(totalBytes, 0, { done: formatBytes(0), size: formatBytes(totalBytes), rate: formatBytes(0) });
  return {
    add(bytes: number) {
      done += bytes;
      const seconds = Math.max((Date.now() - start) / 1000, 0.001);
      bar.update(Math.min(done, totalBytes), { done: formatBytes(done), size: formatBytes(totalBytes), rate: formatBytes(done / seconds) });
    },
    stop() {
      bar.stop();
    },
  };
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${Math.round(n)} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}
