// Named configuration points for every SMCLIB behaviour docs/smclib.md marks [I] (inferred), with documented defaults.

import { NTSTATUS } from '../../kernel/ntstatus.js';
import { WinScard } from '../constants/scard.js';

export interface SmclibOptions {
  /** §3.3 (a): answer DEVICE_BUSY when NotificationIrp is set BEFORE the already-satisfied check. Default true (reproduces the forum thread, docs/background.md). */
  trackingBusyCheckFirst: boolean;
  /** §3.3 (b): "card present" means CurrentState > this value. Default SCARD_ABSENT. */
  presenceThreshold: number;
  /** §3.3 (d): clear NotificationIrp when the tracking callback returns non-PENDING. Default false (only the driver clears it). */
  clearNotificationOnNonPending: boolean;
  /** NFCCX requires zero-length buffers for IS_PRESENT/IS_ABSENT (INVALID_PARAMETER otherwise). Default false. */
  trackingRequireZeroLengths: boolean;
  /** §3.1.2: status returned (IRP not completed) when the driver's extension Version is too old. Default INVALID_PARAMETER. */
  driverParameterErrorStatus: number;
  /** §3.1.8: status for unknown non-vendor IOCTLs, and vendor IOCTLs without RDF_IOCTL_VENDOR. Default INVALID_DEVICE_REQUEST. */
  unknownIoctlStatus: number;
  /** §3.4: status for a POWER code other than 0/1/2. Default INVALID_DEVICE_REQUEST (NFCCX: INVALID_PARAMETER). */
  badPowerCodeStatus: number;
  /** §3.4: call SmartcardInitializeCardCapabilities before RDF_CARD_POWER. Default true. */
  initializeCardCapabilitiesOnPower: boolean;
  /** §3.5 step 3: status when SET_PROTOCOL finds no card. Default INVALID_DEVICE_STATE (docs also allow NO_MEDIA). */
  setProtocolNoCardStatus: number;
  /** §3.6: minimum APDU length after the SCARD_IO_REQUEST header, per protocol. Default T=0: 4 (a case-1 header), T=1: 1. */
  minApduLengthT0: number;
  minApduLengthT1: number;
  /** §3.6: honour cbPciLength (APDU starts at cbPciLength; INVALID_PARAMETER if < 8 or > input). Default true. */
  honourPciLength: boolean;
  /** §3.2 GET_ATTRIBUTE: the input must be exactly 4 bytes (else ≥ 4 suffices). Default true. */
  attributeInputExact: boolean;
  /** §1.5 [I]: card-dependent attributes need CurrentState ≥ this. Default SCARD_NEGOTIABLE. */
  attributeCardMinState: number;
  /** §5.1: strip string attributes at the first NUL (drivers often count the terminator). Default true. */
  stripStringNul: boolean;
  /** §1.5: SCARD_ATTR_ICC_TYPE_PER_ATR value for contact cards. Default 0 (unknown). */
  iccTypePerAtr: number;
  /** §3.7: SET_ATTRIBUTE DEVICE_IN_USE / SUPRESS_T1_IFS_REQUEST succeed. Default true / true. */
  setDeviceInUseSucceeds: boolean;
  setSuppressT1IfsSucceeds: boolean;
  /** §3.2 GET_LAST_ERROR: 'last-error' returns ext.LastError (VxD era); 'zero' returns 0 like NFCCX. Default 'last-error'. */
  getLastError: 'last-error' | 'zero';
  /** §3.2 GET_PERF_CNTR on a release build. Default NOT_SUPPORTED (NFCCX). */
  perfCounterStatus: number;
  /**
   * §1.1 [I]: vendor-range test. true (default): docs/smclib.md's literal `(code & 0x2000) != 0`, whatever the device
   * type; false: additionally require FILE_DEVICE_SMARTCARD, i.e. exactly SCARD_CTL_CODE(2048..4095).
   */
  vendorRangeByBit11: boolean;
  /** §3.7 [I]: GET/SET_ATTRIBUTE of a vendor-class tag (class 7) goes to RDF_IOCTL_VENDOR when present. Default true. */
  vendorClassAttributesToVendor: boolean;
}

export const DEFAULT_SMCLIB_OPTIONS: Readonly<SmclibOptions> = Object.freeze({
  trackingBusyCheckFirst: true,
  presenceThreshold: WinScard.ABSENT,
  clearNotificationOnNonPending: false,
  trackingRequireZeroLengths: false,
  driverParameterErrorStatus: NTSTATUS.STATUS_INVALID_PARAMETER,
  unknownIoctlStatus: NTSTATUS.STATUS_INVALID_DEVICE_REQUEST,
  badPowerCodeStatus: NTSTATUS.STATUS_INVALID_DEVICE_REQUEST,
  initializeCardCapabilitiesOnPower: true,
  setProtocolNoCardStatus: NTSTATUS.STATUS_INVALID_DEVICE_STATE,
  minApduLengthT0: 4,
  minApduLengthT1: 1,
  honourPciLength: true,
  attributeInputExact: true,
  attributeCardMinState: WinScard.NEGOTIABLE,
  stripStringNul: true,
  iccTypePerAtr: 0,
  setDeviceInUseSucceeds: true,
  setSuppressT1IfsSucceeds: true,
  getLastError: 'last-error',
  perfCounterStatus: NTSTATUS.STATUS_NOT_SUPPORTED,
  vendorRangeByBit11: true,
  vendorClassAttributesToVendor: true,
});

export function resolveSmclibOptions(partial?: Partial<SmclibOptions>): SmclibOptions {
  return { ...DEFAULT_SMCLIB_OPTIONS, ...partial };
}
