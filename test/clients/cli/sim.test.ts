// `vscr transcript`, `vscr script load|verdict`, `vscr replay` and `vscr relay` against an in-process service:
// output, --json, saved files, the verdict's exit code, and errors with line and field.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTestService } from './harness.js';

const svc = useTestService();

const cli = (...args: string[]) => svc.cli(args);

describe('vscr script / transcript / replay', () => {
  it('loads a YAML script, records the exchanges, and reports the verdict (exit 5 on failure)', async () => {
    const file = path.join(svc.dir, 'card.yaml');
    await writeFile(file, ['name: ping', 'mode: unordered', 'strict: true', 'rules:', '  - command: 80 01 00 00', '    response: CA FE 90 00', '  - command: 80 02 *', '    response: 90 00', ''].join('\n'));
    const loaded = await cli('script', 'load', '1', file);
    expect(loaded.code, loaded.err).toBe(0);
    expect(loaded.out).toMatch(/^Script "ping" \(2 rules\) inserted in vscr Virtual Reader 01 00 {2}ATR: 3B/);

    const apdu = await cli('apdu', '1', '80 01 00 00', '80 03 00 00');
    expect(apdu.code, apdu.err).toBe(0);

    const text = await cli('transcript', '1');
    expect(text.code).toBe(0);
    expect(text.out).toContain('# session 1: card inserted (script:ping)');
    expect(text.out).toContain('> 80 01 00 00');
    expect(text.out).toContain('< CA FE 90 00 : Normal processing.');
    expect(text.out).toContain('< 6D 00 : Checking error: instruction code not supported or invalid.');

    const verdict = await cli('script', 'verdict', '1');
    expect(verdict.code).toBe(5);
    expect(verdict.out.split('\n').slice(0, 4)).toEqual([
      'FAILED: script "ping" (unordered, strict): 1/2 rules used, 2 exchanges, 1 unmatched, stage start',
      'first mismatch at exchange 2 (stage start):',
      '  expected: 80 01 00 00 | 80 02 *',
      '  actual:   80 03 00 00',
    ]);
    const json = await cli('script', 'verdict', '1', '--json');
    expect(JSON.parse(json.out)).toMatchObject({ verdict: { passed: false, mismatch: { actual: '80 03 00 00' } } });

    // Save the session, replay it, run the same commands: the verdict passes.
    const saved = path.join(svc.dir, 'ping.jsonl');
    const save = await cli('transcript', '1', '--save', saved);
    expect(save.code, save.err).toBe(0);
    expect((await readFile(saved, 'utf8')).split('\n')[0]).toMatch(/^\{"format":"vscr-transcript","version":1,/);
    const replay = await cli('replay', '1', saved, '--replace', '--json');
    expect(replay.code, replay.err).toBe(0);
    expect(JSON.parse(replay.out)).toMatchObject({ rules: 2, reader: { profile: 'replay:ordered' } });
    const again = await cli('apdu', '1', '80 01 00 00', '80 03 00 00', '--json');
    expect(again.code, again.err).toBe(0);
    expect(again.out).toContain('cafe9000');
    const ok = await cli('script', 'verdict', '1');
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/^PASSED: script "replay of session 1" \(ordered, strict\): 2\/2 rules used, 2 exchanges/);

    const scriptor = await cli('transcript', '1', '--scriptor', '--session', '2');
    expect(scriptor.out).toContain('\n80 01 00 00\n80 03 00 00\n');
  });

  it('a bad script is refused with its line and field (exit 4), and the service keeps running', async () => {
    const file = path.join(svc.dir, 'bad.yaml');
    await writeFile(file, 'rules:\n  - command: 80 01\n    response: 9000\n    then: missing-stage\n  - command: 80 0\n    response: 9000\n');
    const r = await cli('script', 'load', '1', file, '--replace');
    expect(r.code).toBe(4);
    expect(r.err).toContain('line 5, rules[1].command: odd number of hex digits (3) in "80 0" [VSCR_ERR_BAD_SCRIPT, HTTP 400]');
    const missing = await cli('script', 'load', '1', path.join(svc.dir, 'nope.yaml'));
    expect(missing.code).toBe(1);
    expect((await cli('readers')).code).toBe(0);
  });

  it('relay without a socket shows no relay; help lists every command', async () => {
    const status = await cli('relay', '0', '--json');
    expect(JSON.parse(status.out)).toEqual({ relay: null });
    for (const args of [['transcript'], ['script', 'load'], ['script', 'verdict'], ['replay'], ['relay']]) {
      const help = await cli(...args, '--help');
      expect(help.code).toBe(0);
      expect(help.out).toContain('--json');
    }
  });
});
