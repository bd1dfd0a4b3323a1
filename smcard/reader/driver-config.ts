// Named configuration points of the virtual reader driver (the L2 choices docs/smclib.md marks [I] or leaves open).

import { NTSTATUS, type NtStatus } from '../../kernel/ntstatus.js';
import { WinScard } from '../constants/scard.js';

export interface ReaderDriverConfig {
  /**
   * §3.8: state after a card is inserted (and after a resume that finds one): SCARD_PRESENT (PSCR, default) or
   * SCARD_SWALLOWED (BIX; the old VxD doc's choice for readers without a swallow mechanism).
   */
  insertedState: number;
  /** §3.8: state after POWER(SCARD_POWER_DOWN): SCARD_PRESENT (PSCR, default) or SCARD_SWALLOWED (BIX). */
  powerDownState: number;
  /** §3.8: a TA2 (specific-mode) ATR puts the card straight into SCARD_SPECIFIC after reset. Default true. */
  honourSpecificMode: boolean;
  /** §3.5 step 7: pick T=1 over T=0 when both are allowed. Default true. */
  preferT1: boolean;
  /**
   * §3.6: 'apdu' forwards whole APDUs like BIX/NFCCX/vpcd (default). 'tpdu' frames T=0 commands with
   * SmartcardT0Request first (a 4-byte case-1 APDU is padded with P3 = 00, case 4 loses Le).
   */
  t0Framing: 'apdu' | 'tpdu';
  /** §3.3 item 5: status for a pending tracking IRP on surprise removal. Default STATUS_CANCELLED. */
  removalTrackingStatus: NtStatus;
  /** Status for every later IOCTL on a handle of a removed device. Default STATUS_DEVICE_REMOVED. */
  removedDeviceStatus: NtStatus;
  /**
   * §3.4: status of a POWER whose card vanished mid-reset. PSCR answers STATUS_SUCCESS ("resman requires status
   * ok", pscrcb.c) and lets tracking report the removal; default STATUS_NO_MEDIA, which the RM maps directly.
   */
  cardGonePowerStatus: NtStatus;
  /** Protocols the reader offers (ReaderCapabilities.SupportedProtocols). Default T=0|T=1. */
  supportedProtocols: number;
  /** RDF_CARD_EJECT installed (ejecting takes the card out of the slot). Default false ⇒ NOT_SUPPORTED. */
  eject: boolean;
  /** RDF_READER_SWALLOW installed (PRESENT → SWALLOWED). Default false ⇒ NOT_SUPPORTED. */
  swallow: boolean;
}

export const DEFAULT_READER_DRIVER_CONFIG: Readonly<ReaderDriverConfig> = Object.freeze({
  insertedState: WinScard.PRESENT,
  powerDownState: WinScard.PRESENT,
  honourSpecificMode: true,
  preferT1: true,
  t0Framing: 'apdu',
  removalTrackingStatus: NTSTATUS.STATUS_CANCELLED,
  removedDeviceStatus: NTSTATUS.STATUS_DEVICE_REMOVED,
  cardGonePowerStatus: NTSTATUS.STATUS_NO_MEDIA,
  supportedProtocols: WinScard.PROTOCOL_T0 | WinScard.PROTOCOL_T1,
  eject: false,
  swallow: false,
});
