// opensc-tool (OpenSC) through our socket: reader list, ATR, and APDUs to the card's crypto applet.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gate, type InteropService, rest, run, startInteropService } from './support.js';

const g = gate([['opensc-tool', 'opensc']]);

const SELECT_CRYPTO = '00 A4 04 00 06 F0 76 73 63 72 01';
const spaced = (hex: string): string => hex.toUpperCase().match(/../g)!.join(' ');

describe.skipIf(g.skip)('opensc-tool', () => {
  let svc: InteropService;
  let atrHex: string;

  beforeAll(async () => {
    if (g.missing) throw new Error(g.missing);
    svc = await startInteropService();
    const { body } = await rest(svc.url, 'GET', '/v1/readers');
    atrHex = (body as { readers: { atr: string }[] }).readers[0].atr;
  });

  afterAll(async () => {
    await svc?.close();
  });

  it('-l lists both readers, with the card in reader 0', async () => {
    const r = await run('opensc-tool', ['-l'], svc.env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^0\s+Yes\s+.*vscr Virtual Reader 00 00$/m);
    expect(r.stdout).toMatch(/^1\s+No\s+.*vscr Virtual Reader 01 00$/m);
  });

  it('-a prints the ATR the service reports', async () => {
    const r = await run('opensc-tool', ['-a'], svc.env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().toLowerCase()).toBe(atrHex.match(/../g)!.join(':'));
  });

  it('-s: SELECT the crypto applet, PSO:HASH of "abc" gives the SHA-256 known answer', async () => {
    const digest = createHash('sha256').update('abc').digest('hex');
    const r = await run('opensc-tool', ['-r', '0', '-s', SELECT_CRYPTO, '-s', '00 2A 90 80 03 61 62 63 00', '-s', '00 2A 90 80 00'], svc.env);
    expect(r.code, r.stderr).toBe(0);
    const blocks = r.stdout.split(/^Sending: /m).slice(1);
    expect(blocks).toHaveLength(3);
    expect(blocks[0]).toMatch(/Received \(SW1=0x90, SW2=0x00\)/);
    expect(blocks[1]).toMatch(/Received \(SW1=0x90, SW2=0x00\)/);
    // opensc prints 16 bytes per line followed by an ASCII column; keep only the hex columns.
    const hexLines = (block: string) =>
      block
        .split('\n')
        .slice(2)
        .map((l) => l.slice(0, 48).trim())
        .filter((l) => l.length > 0)
        .join(' ');
    expect(hexLines(blocks[1])).toBe(spaced(digest));
    expect(hexLines(blocks[2])).toBe(spaced(createHash('sha256').update('').digest('hex')));
  });
});
