// The one way between the two SCARD protocol vocabularies: pcsc-lite's (service/contract/pcsclite.ts, what
// clients send and read) and Windows' (smcard/constants/scard.ts, what the reader's IOCTLs carry). T=0 and T=1
// share their bits; RAW is 4 in pcsc-lite and 0x10000 in winsmcrd.h (docs/smclib.md §1.3,
// docs/pcsclite-protocol.md §2).

import { SCARD_PROTOCOL } from '../contract/pcsclite.js';
import { WinScard } from '../../smcard/constants/scard.js';

declare const winProtocolBrand: unique symbol;
/**
 * A protocol DWORD in Windows' vocabulary, as SET_PROTOCOL and the TRANSMIT header take it. Branded so that a
 * pcsc-lite protocol cannot reach the reader without going through winProtocolOf.
 */
export type WinProtocol = number & { readonly [winProtocolBrand]: true };

const T0_T1 = SCARD_PROTOCOL.T0 | SCARD_PROTOCOL.T1;

/** pcsc-lite protocol bits → the Windows DWORD: RAW 4 → 0x10000, T=0/T=1 as they are, other bits dropped. */
export function winProtocolOf(pcsclite: number): WinProtocol {
  return (((pcsclite & SCARD_PROTOCOL.RAW) !== 0 ? WinScard.PROTOCOL_RAW : 0) | (pcsclite & T0_T1)) as WinProtocol;
}

/**
 * A Windows DWORD (SET_PROTOCOL output, CURRENT_PROTOCOL_TYPE, a TRANSMIT reply header) → pcsc-lite's protocol:
 * RAW 0x10000 → 4 on its own, else the T=0/T=1 bits (DEFAULT and unknown bits dropped).
 */
export function pcscliteProtocolOf(win: number): number {
  if ((win & WinScard.PROTOCOL_RAW) !== 0) return SCARD_PROTOCOL.RAW;
  return win & T0_T1;
}
