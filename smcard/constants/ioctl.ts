// IOCTL_SMARTCARD_* control codes (SCARD_CTL_CODE over CTL_CODE) and their display names (docs/smclib.md §1.1).

import { ctlCode, ctlDeviceType, ctlFunction, FILE_DEVICE_SMARTCARD } from '../../kernel/ctl-code.js';

/** SCARD_CTL_CODE(fn) = CTL_CODE(FILE_DEVICE_SMARTCARD, fn, METHOD_BUFFERED, FILE_ANY_ACCESS). */
export function scardCtlCode(fn: number): number {
  return ctlCode(FILE_DEVICE_SMARTCARD, fn);
}

export const IOCTL_SMARTCARD = {
  POWER: scardCtlCode(1),
  GET_ATTRIBUTE: scardCtlCode(2),
  SET_ATTRIBUTE: scardCtlCode(3),
  CONFISCATE: scardCtlCode(4),
  TRANSMIT: scardCtlCode(5),
  EJECT: scardCtlCode(6),
  SWALLOW: scardCtlCode(7),
  IS_PRESENT: scardCtlCode(10),
  IS_ABSENT: scardCtlCode(11),
  SET_PROTOCOL: scardCtlCode(12),
  GET_STATE: scardCtlCode(14),
  GET_LAST_ERROR: scardCtlCode(15),
  GET_PERF_CNTR: scardCtlCode(16),
  /** PC/SC part 10 CM_IOCTL_GET_FEATURE_REQUEST: SCARD_CTL_CODE(3400). Not a SMCLIB IOCTL; takes the vendor path. */
  GET_FEATURE_REQUEST: scardCtlCode(3400),
} as const;

export type IoctlSmartcardName = keyof typeof IOCTL_SMARTCARD;

/** First and last function numbers of the vendor range (docs/smclib.md §1.1). */
export const SCARD_VENDOR_FN_FIRST = 2048;
export const SCARD_VENDOR_FN_LAST = 4095;

const IOCTL_NAMES = new Map<number, string>(
  (Object.entries(IOCTL_SMARTCARD) as [IoctlSmartcardName, number][]).map(([n, v]) => [v, `IOCTL_SMARTCARD_${n}`]),
);

/** True for a smart-card control code whose function is in the vendor range (bit 11 of the function, §1.1 [I]). */
export function isVendorIoctl(code: number): boolean {
  return ctlDeviceType(code) === FILE_DEVICE_SMARTCARD && (ctlFunction(code) & 0x800) !== 0;
}

/** `IOCTL_SMARTCARD_IS_ABSENT`, `SCARD_CTL_CODE(2049)` for a vendor code, or `IOCTL_0x…` for anything else. */
export function ioctlName(code: number): string {
  const known = IOCTL_NAMES.get(code >>> 0);
  if (known) return known;
  if (ctlDeviceType(code) === FILE_DEVICE_SMARTCARD && (code & 3) === 0) return `SCARD_CTL_CODE(${ctlFunction(code)})`;
  return `IOCTL_0x${hex32(code)}`;
}

/** `IOCTL_SMARTCARD_IS_ABSENT (0x31002C)`: the display form. */
export function formatIoctl(code: number): string {
  return `${ioctlName(code)} (0x${((code >>> 0).toString(16).toUpperCase())})`;
}

function hex32(value: number): string {
  return (value >>> 0).toString(16).toUpperCase().padStart(8, '0');
}
