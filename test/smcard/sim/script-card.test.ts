// Scripted cards: parsing errors with line and field, libpcsc-mock's ordered scripts (empty = any, wrap-around),
// wildcards, stages, unordered counts, strict verdicts naming expected and actual.
import { describe, expect, it } from 'vitest';
import { parseCardScript, ScriptError } from '../../../smcard/sim/card-script.js';
import { matchesPattern, parsePattern } from '../../../smcard/sim/hex-pattern.js';
import { transcriptToScript } from '../../../smcard/sim/replay.js';
import { ScriptCard } from '../../../smcard/sim/script-card.js';
import type { TranscriptEntry } from '../../../smcard/sim/transcript.js';

const h = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const send = async (card: ScriptCard, cmd: string): Promise<string> => hex(await card.transmit(h(cmd)));

function scriptError(text: string): ScriptError {
  try {
    parseCardScript(text);
  } catch (err) {
    if (err instanceof ScriptError) return err;
    throw err;
  }
  throw new Error('script accepted');
}

describe('patterns', () => {
  it('matches exact hex, wildcard nibbles and bytes, a trailing *, and empty = any', () => {
    const m = (p: string, c: string): boolean => matchesPattern(parsePattern(p), h(c));
    expect(m('00 A4 04 00', '00a40400')).toBe(true);
    expect(m('00 A4 04 00', '00a4040000')).toBe(false);
    expect(m('00 A4 ?? 0?', '00a4010c')).toBe(true);
    expect(m('00 A4 ?? 0?', '00a4011c')).toBe(false);
    expect(m('00 xx', '0012')).toBe(true);
    expect(m('00 A4 *', '00a4040007a0000002471001')).toBe(true);
    expect(m('00 A4 *', '00b0')).toBe(false);
    expect(m('', '80ca9f7f00')).toBe(true);
    expect(parsePattern('00a4 ??0c *').text).toBe('00 A4 ?? 0C *');
  });
});

describe('parse errors name the line and the field', () => {
  it('odd hex in a rule', () => {
    const e = scriptError('name: t\nrules:\n  - command: 00 A4\n    response: 9000\n  - command: 00 B0 0\n    response: 9000\n');
    expect(e.message).toBe('line 5, rules[1].command: odd number of hex digits (5) in "00 B0 0"');
    expect([e.line, e.field]).toEqual([5, 'rules[1].command']);
  });
  it('YAML that does not parse', () => {
    const e = scriptError('rules:\n  - command: 00\n   response: [9000\n');
    expect(e.line).toBe(3);
    expect(e.message).toMatch(/^line 3: does not parse: /);
  });
  it('JSON is read too, with its lines', () => {
    const e = scriptError('{\n  "rules": [\n    {"command": "00", "response": "90"}\n  ]\n}\n');
    expect(e.message).toBe('line 3, rules[0].response: a response needs at least the two status-word bytes');
  });
  it('unknown stage (declared list, and never entered)', () => {
    expect(scriptError('stages: [start, open]\nrules:\n  - {command: "00", response: "9000", when: opne}\n').message)
      .toBe('line 3, rules[0].when: unknown stage "opne"; declared stages: start, open');
    expect(scriptError('rules:\n  - {command: "00", response: "9000", then: a}\n  - {command: "01", response: "9000", when: b}\n').message)
      .toBe('line 3, rules[1].when: unknown stage "b"; no rule moves to it (stages: start, a)');
  });
  it('unknown fields, a bad ATR, a bad mode, a missing rules list', () => {
    expect(scriptError('rules: []\nstrcit: true\n').message).toMatch(/^line 2, strcit: unknown field/);
    expect(scriptError('atr: 3B 88\nrules: []\n').message).toMatch(/^line 1, atr: not a valid ATR/);
    expect(scriptError('mode: random\nrules: []\n').message).toBe('line 1, mode: must be "ordered" or "unordered", not "random"');
    expect(scriptError('name: x\n').message).toBe('line 1, rules: missing: a script needs a list of rules');
  });
});

describe('ordered scripts (libpcsc-mock semantics)', () => {
  it('answers in order; an empty expected command matches any; wrap-around restarts the list', async () => {
    const card = new ScriptCard(parseCardScript('wrap: true\nrules:\n  - {command: 00 A4 04 00 *, response: 9000}\n  - {command: "", response: 6A82}\n'));
    expect(await send(card, '00a4040002aabb')).toBe('9000');
    expect(await send(card, 'ffffffff')).toBe('6a82');
    expect(await send(card, '00a4040000')).toBe('9000'); // wrapped
    expect(card.verdict()).toMatchObject({ passed: true, complete: true, consumed: 2, exchanges: 3, mismatch: null });
  });
  it('strict: the first unexpected command fails with expected and actual; the default answers it', async () => {
    const card = new ScriptCard(parseCardScript('strict: true\ndefault: 6F00\nrules:\n  - {command: 00 A4 04 00, response: 9000}\n  - {command: 00 B0 00 00 ??, response: 01029000}\n'));
    expect(await send(card, '00a40400')).toBe('9000');
    expect(await send(card, '00b0000102')).toBe('6f00');
    expect(await send(card, '00b0000002')).toBe('01029000'); // still waiting for rule 2
    expect(await send(card, '00b0000002')).toBe('6f00'); // end of script, no wrap
    const v = card.verdict();
    expect(v.passed).toBe(false);
    expect(v.complete).toBe(true);
    expect(v.mismatch).toEqual({
      exchange: 2,
      expected: ['00 B0 00 00 ??'],
      actual: '00 B0 00 01 02',
      stage: 'start',
      message: 'exchange 2: expected 00 B0 00 00 ??, got 00 B0 00 01 02',
    });
    expect(v.unmatched).toBe(2);
  });
  it('reports unconsumed rules with their lines', async () => {
    const card = new ScriptCard(parseCardScript('rules:\n  - {command: "01", response: 9000}\n  - name: second\n    command: "02"\n    response: 9000\n'));
    await send(card, '01');
    expect(card.verdict()).toMatchObject({ passed: false, complete: false, consumed: 1, unconsumed: [{ index: 1, line: 3, name: 'second', command: '02' }] });
  });
  it('the default unmatched answer is 6D00', async () => {
    const card = new ScriptCard(parseCardScript('rules: []\n'));
    expect(await send(card, '00c0000000')).toBe('6d00');
  });
});

describe('unordered scripts with stages', () => {
  const text = [
    'mode: unordered',
    'strict: true',
    'stages: [start, selected, verified]',
    'rules:',
    '  - {command: 00 A4 04 00 *, response: 9000, then: selected}',
    '  - {command: 00 20 00 80 *, response: 9000, when: selected, then: verified}',
    '  - {command: 00 CA 01 00, response: [0102 9000, 0304 9000], when: verified}',
    '  - {command: 00 84 00 00 08, response: 1122334455667788 9000, times: 1}',
    '',
  ].join('\n');

  it('moves between stages, answers successive responses, honours counts', async () => {
    const card = new ScriptCard(parseCardScript(text));
    expect(await send(card, '00ca0100')).toBe('6d00'); // not verified yet: strict mismatch
    expect(card.verdict().mismatch).toMatchObject({ exchange: 1, actual: '00 CA 01 00', stage: 'start', expected: ['00 A4 04 00 *', '00 84 00 00 08'] });
    expect(await send(card, '00a4040001aa')).toBe('9000');
    expect(await send(card, '0020008002????'.replace(/\?/g, '3'))).toBe('9000');
    expect(await send(card, '00ca0100')).toBe('01029000');
    expect(await send(card, '00ca0100')).toBe('03049000');
    expect(await send(card, '00ca0100')).toBe('03049000'); // the last answer repeats
    expect(await send(card, '0084000008')).toBe('11223344556677889000');
    expect(await send(card, '0084000008')).toBe('6d00'); // times: 1
    const v = card.verdict();
    expect(v).toMatchObject({ stage: 'verified', complete: true, passed: false, unmatched: 2 });
  });
});

describe('replay from a transcript', () => {
  const base = { time: 0, durationMs: 0, protocol: 'T=1' as const, meaning: '' };
  const entries: TranscriptEntry[] = [
    { seq: 1, time: 0, session: 1, kind: 'insert', profile: 'p' },
    { seq: 2, time: 0, session: 1, kind: 'power', action: 'cold', atr: '3b021450', durationMs: 0 },
    { ...base, seq: 3, session: 1, kind: 'apdu', command: '0084000008', response: 'aaaaaaaaaaaaaaaa9000', sw: '9000' },
    { ...base, seq: 4, session: 1, kind: 'apdu', command: '0020008002????', masked: true, response: '9000', sw: '9000' },
    { ...base, seq: 5, session: 1, kind: 'apdu', command: '0084000008', response: 'bbbbbbbbbbbbbbbb9000', sw: '9000' },
  ];
  it('ordered: the recorded ATR and answers in order, masked PIN bytes match anything', async () => {
    const card = new ScriptCard(transcriptToScript(entries, { mode: 'ordered' }));
    expect(hex(await card.coldReset())).toBe('3b021450');
    expect(await send(card, '0084000008')).toBe('aaaaaaaaaaaaaaaa9000');
    expect(await send(card, '0020008002 3939')).toBe('9000');
    expect(await send(card, '0084000008')).toBe('bbbbbbbbbbbbbbbb9000');
    expect(card.verdict()).toMatchObject({ passed: true, strict: true });
  });
  it('by command: each command gets its recorded answers in turn; a new command is a mismatch', async () => {
    const card = new ScriptCard(transcriptToScript(entries, { mode: 'by-command' }));
    expect(await send(card, '0084000008')).toBe('aaaaaaaaaaaaaaaa9000');
    expect(await send(card, '0084000008')).toBe('bbbbbbbbbbbbbbbb9000');
    expect(await send(card, '00b0000000')).toBe('6d00');
    expect(card.verdict().mismatch).toMatchObject({ exchange: 3, actual: '00 B0 00 00 00' });
  });
  it('refuses a transcript without exchanges', () => {
    expect(() => transcriptToScript(entries.slice(0, 2), { mode: 'ordered' })).toThrow('the transcript has no APDU exchange to replay');
  });
});
