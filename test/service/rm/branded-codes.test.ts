// NTSTATUS and pcsc-lite return codes are branded numbers: one cannot pass for the other (the @ts-expect-error
// lines fail `npm run typecheck` the day they could), and the RM's mapping is the one way across. The Windows
// and pcsc-lite SCARD vocabularies are two tables that disagree on purpose.

import { describe, expect, it } from 'vitest';
import { NTSTATUS, asNtStatus, type NtStatus } from '../../../kernel/ntstatus.js';
import { SCARD, SCARD_PROTOCOL as PCSCLITE_PROTOCOL, asScardCode, type ScardCode } from '../../../service/contract/pcsclite.js';
import { ntStatusToScard } from '../../../service/rm/error-map.js';
import { WinScard } from '../../../smcard/constants/scard.js';

describe('branded status codes', () => {
  it('an NTSTATUS becomes a SCARD code only through the mapping', () => {
    const rv: ScardCode = ntStatusToScard(NTSTATUS.STATUS_NO_MEDIA);
    expect(rv).toBe(SCARD.E_NO_SMARTCARD);
    // @ts-expect-error a SCARD code is not an NTSTATUS
    expect(ntStatusToScard(SCARD.E_NO_SMARTCARD)).toBe(SCARD.E_NOT_TRANSACTED);
    // @ts-expect-error an NTSTATUS is not a SCARD code
    const wrong: ScardCode = NTSTATUS.STATUS_NO_MEDIA;
    // @ts-expect-error a bare number is neither until it is taken as one
    const bare: NtStatus = 0xc0000178;
    expect([wrong, bare]).toEqual([0xc0000178, 0xc0000178]);
    expect(ntStatusToScard(asNtStatus(0xc0000178))).toBe(asScardCode(0x8010000c));
    // Both still read as numbers: formatting, comparing and JSON need no unwrapping.
    expect(JSON.stringify({ rv: SCARD.E_NO_SMARTCARD })).toBe('{"rv":2148532236}');
  });

  it('Windows and pcsc-lite name the same protocols with different values', () => {
    expect([WinScard.PROTOCOL_T0, WinScard.PROTOCOL_T1]).toEqual([PCSCLITE_PROTOCOL.T0, PCSCLITE_PROTOCOL.T1]);
    expect(WinScard.PROTOCOL_RAW).toBe(0x10000);
    expect(PCSCLITE_PROTOCOL.RAW).toBe(4);
  });
});
