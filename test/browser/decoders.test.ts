// The panel's pure decoders run in Node too: ATR fields, status word meanings, the /metrics text parser.
import { describe, expect, it } from 'vitest';
import { decodeAtr } from '../../panel/js/atr.js';
import { parseMetrics } from '../../panel/js/metrics.js';
import { maskPinData } from '../../panel/js/pin-mask.js';
import { maskedCommandHex } from '../../smcard/sim/transcript.js';
import { swMeaning } from '../../panel/js/sw.js';

describe('decodeAtr', () => {
  it('decodes the default card ATR field by field', () => {
    expect(decodeAtr('3b8c800180318073b001406476736372ce')).toEqual([
      { byte: '3B', name: 'TS', meaning: 'direct convention' },
      { byte: '8C', name: 'T0', meaning: '12 historical bytes; interface bytes follow: TD1' },
      { byte: '80', name: 'TD1', meaning: 'protocol T=0; next: TD2' },
      { byte: '01', name: 'TD2', meaning: 'protocol T=1; next: none' },
      { byte: '80 31 80 73 B0 01 40 64 76 73 63 72', name: 'historical', meaning: 'category 80: COMPACT-TLV objects; text ".1.s..@dvscr"' },
      { byte: 'CE', name: 'TCK', meaning: 'check byte: correct (XOR of T0..TCK is 00)' },
    ]);
  });

  it('reads TA1, TC1 and the T=1 bytes, and catches a wrong TCK', () => {
    // 3B F8 13 00 00 81 31 FE 45 ...: TA1=13, TB1=00, TC1=00, TD1=81 → TD2=31 (TA3, TB3 for T=1), TA3=FE, TB3=45.
    const rows = decodeAtr('3bf81300008131fe454a434f5076323431b7');
    const by = (name: string) => rows.find((r) => r.name === name)?.meaning;
    expect(by('TA1')).toBe('Fi=372, Di=4 (93 clocks per bit)');
    expect(by('TC1')).toBe('extra guard time N=0');
    expect(by('TA3')).toBe('IFSC=254 bytes');
    expect(by('TB3')).toBe('BWI=4, CWI=5');
    expect(by('TCK')).toBe('check byte: correct (XOR of T0..TCK is 00)');
    const broken = decodeAtr('3bf81300008131fe454a434f5076323431b6');
    expect(broken.find((r) => r.name === 'TCK')?.meaning).toBe('check byte: WRONG (XOR is 01)');
  });

  it('says when an ATR is cut short', () => {
    expect(decodeAtr('3b')).toEqual([{ byte: '3b', name: 'ATR', meaning: 'too short to decode' }]);
    expect(decodeAtr('3b8c80').slice(3)).toEqual([
      { byte: '', name: 'interface', meaning: 'truncated: TD2 announced but missing' },
      { byte: '', name: 'historical', meaning: 'truncated: 12 byte(s) missing' },
    ]);
    // TD1 says T=1, so a TCK must follow the historical bytes.
    expect(decodeAtr('3b8081').slice(-1)).toEqual([{ byte: '', name: 'TCK', meaning: 'missing (a protocol other than T=0 is indicated)' }]);
  });
});

describe('swMeaning', () => {
  it('names exact values and the parametrised families', () => {
    expect(swMeaning(0x90, 0x00)).toBe('success');
    expect(swMeaning(0x6a, 0x82)).toBe('error: file or application not found');
    expect(swMeaning(0x61, 0x10)).toBe('success: 16 more byte(s) available (GET RESPONSE)');
    expect(swMeaning(0x6c, 0x08)).toBe('error: wrong Le; the exact length is 8');
    expect(swMeaning(0x63, 0xc2)).toBe('warning: verification failed, 2 tries left');
    expect(swMeaning(0x69, 0x99)).toBe('error (no interindustry meaning for this value)');
    expect(swMeaning(0x12, 0x34)).toBe('not an ISO 7816-4 status word');
  });
});

describe('parseMetrics', () => {
  it('sums the samples of each metric over its labels and skips comments', () => {
    const m = parseMetrics([
      '# HELP vscr_apdus_total Command APDUs',
      '# TYPE vscr_apdus_total counter',
      'vscr_apdus_total 42',
      'vscr_http_rejected_requests_total{status="401"} 3',
      'vscr_http_rejected_requests_total{status="404"} 2',
      'vscr_device_errors_total{ntstatus="STATUS_CANCELLED",label="a b"} 1',
      '',
    ].join('\n'));
    expect(m.get('vscr_apdus_total')).toBe(42);
    expect(m.get('vscr_http_rejected_requests_total')).toBe(5);
    expect(m.get('vscr_device_errors_total')).toBe(1);
    expect(m.has('# HELP')).toBe(false);
  });
});

describe('maskPinData', () => {
  it('masks the data of VERIFY, CHANGE REFERENCE DATA and RESET RETRY COUNTER, keeping header and Lc', () => {
    expect(maskPinData('0020008008313233343536FFFF')).toEqual({ hex: '0020008008????????????????', masked: true });
    expect(maskPinData('002400800E31323334FFFFFFFF3132333435FF')).toEqual({ hex: '002400800E????????????????????????????', masked: true });
    expect(maskPinData('002C0080083132333435363738')).toEqual({ hex: '002C008008????????????????', masked: true });
    // extended Lc
    expect(maskPinData('0020008000000431323334')).toEqual({ hex: '00200080000004????????', masked: true });
  });

  it('masks exactly as the service\'s transcripts do (smcard/sim/transcript.ts)', () => {
    for (const hex of ['0020008008313233343536ffff', '002400800e31323334ffffffff3132333435ff', '0020008000000431323334', '00a4040c07a0000000030000', '0020008000', '002c00800431323334']) {
      expect(maskPinData(hex)).toEqual(maskedCommandHex(Uint8Array.from(Buffer.from(hex, 'hex'))));
    }
  });

  it('leaves other commands and a VERIFY without data alone', () => {
    expect(maskPinData('00A4040C07A0000000030000')).toEqual({ hex: '00A4040C07A0000000030000', masked: false });
    expect(maskPinData('0020008000')).toEqual({ hex: '0020008000', masked: false });
    expect(maskPinData('00200080')).toEqual({ hex: '00200080', masked: false });
  });
});
