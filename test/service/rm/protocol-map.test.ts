// The RM's one translation between pcsc-lite protocol bits and the Windows DWORD the reader's IOCTLs carry:
// known answers both ways, and the brand that keeps a pcsc-lite value away from SET_PROTOCOL and TRANSMIT.

import { describe, expect, it } from 'vitest';
import { NTSTATUS } from '../../../kernel/ntstatus.js';
import { SCARD_PROTOCOL } from '../../../service/contract/pcsclite.js';
import { pcscliteProtocolOf, winProtocolOf, type WinProtocol } from '../../../service/rm/protocol-map.js';
import { ReaderIo } from '../../../service/rm/reader-ioctl.js';
import { WinScard } from '../../../smcard/constants/scard.js';
import type { ReaderFileHandle } from '../../../smcard/reader/contract.js';

describe('protocol map', () => {
  it('pcsc-lite → Windows: RAW 4 becomes 0x10000, T=0/T=1 keep their bits, the rest is dropped', () => {
    const cases: [number, number][] = [
      [SCARD_PROTOCOL.UNDEFINED, 0],
      [SCARD_PROTOCOL.T0, 0x1],
      [SCARD_PROTOCOL.T1, 0x2],
      [SCARD_PROTOCOL.ANY, 0x3],
      [SCARD_PROTOCOL.RAW, 0x10000],
      [SCARD_PROTOCOL.T15, 0],
      [SCARD_PROTOCOL.ANY_OLD, 0],
    ];
    for (const [pcsc, win] of cases) expect([pcsc, winProtocolOf(pcsc)]).toEqual([pcsc, win]);
    expect(winProtocolOf(SCARD_PROTOCOL.RAW)).toBe(WinScard.PROTOCOL_RAW);
  });

  it('Windows → pcsc-lite: 0x10000 becomes RAW 4, T=0/T=1 keep their bits, DEFAULT and unknown bits are dropped', () => {
    const cases: [number, number][] = [
      [0, 0],
      [WinScard.PROTOCOL_T0, 1],
      [WinScard.PROTOCOL_T1, 2],
      [WinScard.PROTOCOL_Tx, 3],
      [WinScard.PROTOCOL_RAW, 4],
      [WinScard.PROTOCOL_RAW | WinScard.PROTOCOL_T1, 4],
      [WinScard.PROTOCOL_DEFAULT | WinScard.PROTOCOL_T1, 2],
      [4, 0], // pcsc-lite's RAW value means nothing to a Windows driver
    ];
    for (const [win, pcsc] of cases) expect([win, pcscliteProtocolOf(win)]).toEqual([win, pcsc]);
    for (const p of [SCARD_PROTOCOL.T0, SCARD_PROTOCOL.T1, SCARD_PROTOCOL.RAW]) expect(pcscliteProtocolOf(winProtocolOf(p))).toBe(p);
  });

  it('the reader takes only a Windows protocol', async () => {
    const sent: number[] = [];
    const handle: ReaderFileHandle = {
      deviceIoControl(_code, input) {
        sent.push(input[0] | (input[1] << 8) | (input[2] << 16));
        return { result: Promise.resolve({ status: NTSTATUS.STATUS_SUCCESS, information: 0, output: new Uint8Array(0) }), pended: Promise.resolve(false), cancel: () => undefined };
      },
      close: () => undefined,
    };
    const io = new ReaderIo(handle);
    await io.setProtocol(winProtocolOf(SCARD_PROTOCOL.RAW));
    // @ts-expect-error a pcsc-lite protocol is not a WinProtocol until winProtocolOf made it one
    await io.setProtocol(SCARD_PROTOCOL.RAW);
    const t1: WinProtocol = winProtocolOf(SCARD_PROTOCOL.T1);
    await io.transmit(t1, Uint8Array.of(0x00, 0xa4, 0x04, 0x00), 258);
    expect(sent).toEqual([0x10000, 4, 2]);
  });
});
