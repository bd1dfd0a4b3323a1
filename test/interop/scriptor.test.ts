// scriptor (pcsc-tools) sends a script of APDUs through our socket; every response is checked.
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gate, type InteropService, run, startInteropService } from './support.js';

const g = gate([['scriptor', 'pcsc-tools']]);

const spaced = (hex: string): string => hex.toUpperCase().match(/../g)!.join(' ');

describe.skipIf(g.skip)('scriptor', () => {
  let svc: InteropService;
  let dir: string;

  beforeAll(async () => {
    if (g.missing) throw new Error(g.missing);
    svc = await startInteropService();
    dir = await mkdtemp(path.join(tmpdir(), 'vscr-scriptor-'));
  });

  afterAll(async () => {
    await svc?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('runs a script: SELECT, PSO:HASH, an unknown INS, reset, SELECT + HASH again', async () => {
    const script = path.join(dir, 'apdus.txt');
    await writeFile(
      script,
      [
        '# crypto applet, hash "abc", then an instruction the card does not know',
        '00 A4 04 00 06 F0 76 73 63 72 01',
        '00 2A 90 80 03 61 62 63 00',
        '00 FF 00 00',
        'reset',
        '00 A4 04 00 06 F0 76 73 63 72 01',
        '00 2A 90 80 05 68 65 6C 6C 6F 00',
        '',
      ].join('\n'),
    );
    const r = await run('scriptor', ['-r', 'vscr Virtual Reader 00 00', script], svc.env);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    // Responses are printed as "< XX XX … : description", 16 bytes per line.
    const responses = r.stdout
      .split(/^> /m)
      .slice(1)
      .map((block) => {
        const m = block.match(/< ([0-9A-F ]+?(?:\n[0-9A-F ]+?)*) :/);
        return m ? m[1].replace(/\s+/g, ' ').trim() : block;
      });
    const abc = spaced(createHash('sha256').update('abc').digest('hex'));
    const hello = spaced(createHash('sha256').update('hello').digest('hex'));
    expect(responses).toHaveLength(6);
    expect(responses[0]).toMatch(/^(90 00|61 [0-9A-F]{2})$/);
    expect(responses[1]).toBe(`${abc} 90 00`);
    expect(responses[2]).toBe('6D 00');
    // scriptor's "reset" is SCardReconnect(RESET) and prints the ATR from SCardStatus.
    expect(responses[3]).toMatch(/^RESET\n< OK: 3B [0-9A-F ]+\n/);
    expect(responses[4]).toMatch(/^(90 00|61 [0-9A-F]{2})$/);
    expect(responses[5]).toBe(`${hello} 90 00`);
  });
});
