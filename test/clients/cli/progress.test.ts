// The progress bar of long device operations: bytes done/total, rate and ETA, only above the threshold, and only
// on a terminal unless forced (--progress).
import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { createProgress, formatBytes, PROGRESS_THRESHOLD } from '../../../clients/cli/progress.js';

function capture(isTTY: boolean): { stream: NodeJS.WriteStream; text(): string } {
  let text = '';
  const w = new Writable({ write(chunk: Buffer, _enc, cb) { text += chunk.toString(); cb(); } });
  Object.assign(w, { isTTY });
  return { stream: w as unknown as NodeJS.WriteStream, text: () => text };
}

describe('createProgress', () => {
  it('draws bytes, rate and ETA when forced, ending at 100%', () => {
    const c = capture(false);
    const total = 8 * 1024 * 1024;
    const p = createProgress('hash', total, { force: true, stream: c.stream });
    p.add(total / 2);
    p.add(total / 2);
    p.stop();
    const lines = c.text().split('\n').filter(Boolean);
    expect(lines[0]).toMatch(/^hash \[.*\] 0% \| 0 B\/8\.0 MiB \| 0 B\/s \| ETA /);
    expect(lines.at(-1)).toMatch(/^hash \[.*\] 100% \| 8\.0 MiB\/8\.0 MiB \| [\d.]+ [KMGT]?i?B\/s \| ETA \d+s$/);
  });

  it('stays silent below the threshold, and without a terminal unless forced', () => {
    const small = capture(true);
    const p1 = createProgress('hash', PROGRESS_THRESHOLD - 1, { stream: small.stream });
    p1.add(100);
    p1.stop();
    expect(small.text()).toBe('');
    const pipe = capture(false);
    const p2 = createProgress('hash', PROGRESS_THRESHOLD * 2, { stream: pipe.stream });
    p2.add(PROGRESS_THRESHOLD);
    p2.stop();
    expect(pipe.text()).toBe('');
  });

  it('formats byte counts in binary units', () => {
    expect([formatBytes(0), formatBytes(1023), formatBytes(1536), formatBytes(5 * 1024 ** 3)]).toEqual(['0 B', '1023 B', '1.5 KiB', '5.0 GiB']);
  });
});
