// Windows' SCARD vocabulary (the reader stack's) and pcsc-lite's (the clients') disagree on values that share a
// header name, SCARD_PROTOCOL_RAW first among them. The Windows one lives under `WinScard`, so no name exported by
// one module can be imported from the other and mean something else.

import { describe, expect, it } from 'vitest';
import * as pcsclite from '../../../service/contract/pcsclite.js';
import * as smcardConstants from '../../../smcard/constants/index.js';
import * as windows from '../../../smcard/constants/scard.js';

describe('the two SCARD vocabularies', () => {
  it('share no exported name', () => {
    const pcscNames = new Set(Object.keys(pcsclite));
    expect(Object.keys(windows).filter((name) => pcscNames.has(name))).toEqual([]);
    expect(Object.keys(windows).sort()).toEqual(['WinScard', 'winScardPowerName', 'winScardProtocolNames', 'winScardStateName']);
  });

  it('the smart-card constants share with pcsc-lite only what pcsc-lite re-exports unchanged', () => {
    const shared = Object.keys(smcardConstants).filter((name) => name in pcsclite);
    expect(shared).toEqual(['SCARD_ATTR']);
    for (const name of shared) {
      expect((pcsclite as Record<string, unknown>)[name]).toBe((smcardConstants as Record<string, unknown>)[name]);
    }
  });

  it('keep the values that differ apart', () => {
    expect(windows.WinScard.PROTOCOL_RAW).toBe(0x10000);
    expect(pcsclite.SCARD_PROTOCOL.RAW).toBe(4);
    // Card states: ordinals on the driver side, bit masks on the client side.
    expect([windows.WinScard.ABSENT, windows.WinScard.PRESENT, windows.WinScard.SPECIFIC]).toEqual([1, 2, 6]);
    expect([pcsclite.READER_STATE.ABSENT, pcsclite.READER_STATE.PRESENT, pcsclite.READER_STATE.SPECIFIC]).toEqual([0x2, 0x4, 0x40]);
    expect(windows.winScardProtocolNames(0x10000 | 2)).toBe('SCARD_PROTOCOL_T1|SCARD_PROTOCOL_RAW');
  });
});
