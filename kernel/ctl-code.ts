// CTL_CODE arithmetic from devioctl.h: device type, function, transfer method and access in one DWORD.

export const FILE_DEVICE_UNKNOWN = 0x22;
export const FILE_DEVICE_SMARTCARD = 0x31;
export const METHOD_BUFFERED = 0;
export const FILE_ANY_ACCESS = 0;

export function ctlCode(deviceType: number, fn: number, method = METHOD_BUFFERED, access = FILE_ANY_ACCESS): number {
  return ((deviceType << 16) | (access << 14) | (fn << 2) | method) >>> 0;
}

/** The function number (bits 2..13) of a control code. */
export function ctlFunction(code: number): number {
  return (code >>> 2) & 0xfff;
}

/** The device type (bits 16..31) of a control code. */
export function ctlDeviceType(code: number): number {
  return code >>> 16;
}
