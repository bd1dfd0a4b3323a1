// Transcripts: PIN masking, bounds, the scriptor views, and the JSON Lines format with its version check.
import { describe, expect, it } from 'vitest';
import { recordingCard } from '../../../smcard/sim/recording-card.js';
import { ScriptCard } from '../../../smcard/sim/script-card.js';
import { parseCardScript } from '../../../smcard/sim/card-script.js';
import {
  maskedCommandHex,
  parseTranscriptJsonl,
  Transcript,
  transcriptJsonl,
  transcriptScriptor,
  transcriptText,
  TranscriptFormatError,
} from '../../../smcard/sim/transcript.js';

const h = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

describe('PIN masking', () => {
  it('masks the data of VERIFY, CHANGE REFERENCE DATA and RESET RETRY COUNTER, keeping header and Lc', () => {
    expect(maskedCommandHex(h('00 20 00 80 06 31 32 33 34 35 36'))).toEqual({ hex: '0020008006????????????', masked: true });
    expect(maskedCommandHex(h('00 24 00 80 04 31 32 33 34'))).toEqual({ hex: '0024008004????????', masked: true });
    expect(maskedCommandHex(h('00 2C 00 80 02 31 32'))).toEqual({ hex: '002c008002????', masked: true });
    // extended Lc (00 hi lo) and a trailing Le stay readable
    expect(maskedCommandHex(h('00 20 00 80 00 00 02 31 32 00'))).toEqual({ hex: '00200080000002????00', masked: true });
  });
  it('leaves other commands and a VERIFY without data (a tries query) alone', () => {
    expect(maskedCommandHex(h('00 20 00 80'))).toEqual({ hex: '00200080', masked: false });
    expect(maskedCommandHex(h('00 A4 04 00 02 31 32'))).toEqual({ hex: '00a40400023132', masked: false });
  });
});

describe('recording a card session', () => {
  const script = parseCardScript('atr: 3B 02 14 50\nmode: unordered\nrules:\n  - {command: "", response: 6F00 9000}\n');

  it('records insert, power, protocol and APDUs with SW meaning and origin; masks PINs unless raw', async () => {
    const t = new Transcript();
    let origin: { context: number; handle: number } | undefined = { context: 0x1234, handle: 0x55 };
    const card = recordingCard(new ScriptCard(script), t, { raw: false, label: 'unit', origin: () => origin });
    await card.coldReset();
    await card.transmit(h('00 20 00 81 04 31 32 33 34'), 1);
    origin = undefined;
    await card.transmit(h('00 B0 00 00 02'), 1);
    await card.warmReset();
    await card.transmit(h('00 B0 00 00 02'), 2);
    await card.powerDown();
    const kinds = t.list().map((e) => (e.kind === 'power' ? `power:${e.action}` : e.kind));
    expect(kinds).toEqual(['insert', 'power:cold', 'protocol', 'apdu', 'apdu', 'power:warm', 'protocol', 'apdu', 'power:unpower']);
    const [verify, read] = t.list().filter((e) => e.kind === 'apdu');
    expect(verify).toMatchObject({ command: '0020008104????????', masked: true, response: '6f009000', sw: '9000', meaning: 'Normal processing.', protocol: 'T=0', context: 0x1234, handle: 0x55 });
    expect(read).not.toHaveProperty('handle');
    expect(t.list()[1]).toMatchObject({ kind: 'power', action: 'cold', atr: '3b021450' });
    expect(transcriptText(t.list())).toBe([
      '# session 1: card inserted (unit)',
      '# cold reset, ATR: 3B 02 14 50',
      '# protocol T=0',
      '> 00 20 00 81 04 ?? ?? ?? ??  (context 0x1234, handle 0x55)',
      '< 6F 00 90 00 : Normal processing.',
      '> 00 B0 00 00 02',
      '< 6F 00 90 00 : Normal processing.',
      '# warm reset, ATR: 3B 02 14 50',
      '# protocol T=1',
      '> 00 B0 00 00 02',
      '< 6F 00 90 00 : Normal processing.',
      '# power down',
      '',
    ].join('\n'));
    expect(transcriptScriptor(t.list(), 't')).toBe([
      '# t, exported for scriptor (pcsc-tools)',
      '# session 1: unit',
      '# 00 20 00 81 04 ?? ?? ?? ??  (PIN masked, not sent)',
      '00 B0 00 00 02',
      'reset',
      '00 B0 00 00 02',
      '',
    ].join('\n'));
  });

  it('keeps the PIN bytes when raw transcripts are enabled', async () => {
    const t = new Transcript();
    const card = recordingCard(new ScriptCard(script), t, { raw: true, label: 'unit' });
    await card.transmit(h('00 20 00 81 04 31 32 33 34'), 2);
    expect(t.list().find((e) => e.kind === 'apdu')).toMatchObject({ command: '002000810431323334' });
    expect(t.list().find((e) => e.kind === 'apdu')).not.toHaveProperty('masked');
  });
});

describe('bounds', () => {
  it('drops the oldest entries beyond maxEntries and beyond maxHexChars, counting them', () => {
    const t = new Transcript({ maxEntries: 3, maxHexChars: 1_000_000 });
    for (let i = 0; i < 5; i++) t.add({ kind: 'protocol', protocol: 'T=1' });
    expect(t.list().map((e) => e.seq)).toEqual([3, 4, 5]);
    expect(t.dropped).toBe(2);
    const big = new Transcript({ maxEntries: 100, maxHexChars: 1000 });
    for (let i = 0; i < 4; i++) big.add({ kind: 'apdu', command: 'aa'.repeat(100), response: 'bb'.repeat(99) + '9000', sw: '9000', meaning: '', protocol: 'T=1', durationMs: 0 });
    // each entry weighs 200 + 200 + 64 = 464: two fit in 1000
    expect(big.list().map((e) => e.seq)).toEqual([3, 4]);
  });
  it('tells subscribers of each entry and survives a throwing one', () => {
    const t = new Transcript();
    const seen: number[] = [];
    t.subscribe(() => {
      throw new Error('closed stream');
    });
    const off = t.subscribe((e) => seen.push(e.seq));
    t.add({ kind: 'insert', profile: 'x' });
    off();
    t.add({ kind: 'remove' });
    expect(seen).toEqual([1]);
  });
});

describe('JSON Lines', () => {
  it('round-trips entries behind a versioned header', () => {
    const t = new Transcript();
    t.add({ kind: 'insert', profile: 'p' });
    t.add({ kind: 'apdu', command: '00a4040000', response: '9000', sw: '9000', meaning: 'Normal processing.', protocol: 'T=1', durationMs: 0.5 });
    const text = transcriptJsonl(t.list(), { reader: 'r' });
    expect(JSON.parse(text.split('\n')[0])).toEqual({ format: 'vscr-transcript', version: 1, reader: 'r' });
    expect(parseTranscriptJsonl(text).entries).toEqual(t.list());
  });
  it('refuses a newer version, a missing header and odd hex with line and field', () => {
    const fail = (text: string): string => {
      try {
        parseTranscriptJsonl(text);
      } catch (err) {
        expect(err).toBeInstanceOf(TranscriptFormatError);
        return (err as Error).message;
      }
      throw new Error('accepted');
    };
    expect(fail('{"format":"vscr-transcript","version":2}\n')).toBe('line 1, version: format version 2 is newer than this vscr reads (1); upgrade vscr');
    expect(fail('{"kind":"apdu"}\n')).toMatch(/^line 1, format: the first line must be the header/);
    expect(fail('{"format":"vscr-transcript","version":1}\n{"kind":"insert","profile":"x"}\n{"kind":"apdu","command":"00a","response":"9000"}\n'))
      .toBe('line 3, command: must be an even-length hex string');
    expect(fail('{"format":"vscr-transcript","version":1}\nnot json\n')).toMatch(/^line 2: not JSON/);
  });
});
