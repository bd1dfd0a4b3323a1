// SCARD_ATTR_* identifiers, the same numbers under Windows and pcsc-lite. See docs/smclib.md §1.5.

/** SCARD_ATTR_VALUE(class, tag) attribute identifiers (docs/smclib.md §1.5). */
export const SCARD_ATTR = {
  VENDOR_NAME: 0x00010100,
  VENDOR_IFD_TYPE: 0x00010101,
  VENDOR_IFD_VERSION: 0x00010102,
  VENDOR_IFD_SERIAL_NO: 0x00010103,
  CHANNEL_ID: 0x00020110,
  PROTOCOL_TYPES: 0x00030120,
  DEFAULT_CLK: 0x00030121,
  MAX_CLK: 0x00030122,
  DEFAULT_DATA_RATE: 0x00030123,
  MAX_DATA_RATE: 0x00030124,
  MAX_IFSD: 0x00030125,
  POWER_MGMT_SUPPORT: 0x00040131,
  USER_TO_CARD_AUTH_DEVICE: 0x00050140,
  USER_AUTH_INPUT_DEVICE: 0x00050142,
  CHARACTERISTICS: 0x00060150,
  CURRENT_PROTOCOL_TYPE: 0x00080201,
  CURRENT_CLK: 0x00080202,
  CURRENT_F: 0x00080203,
  CURRENT_D: 0x00080204,
  CURRENT_N: 0x00080205,
  CURRENT_W: 0x00080206,
  CURRENT_IFSC: 0x00080207,
  CURRENT_IFSD: 0x00080208,
  CURRENT_BWT: 0x00080209,
  CURRENT_CWT: 0x0008020a,
  CURRENT_EBC_ENCODING: 0x0008020b,
  EXTENDED_BWT: 0x0008020c,
  ICC_PRESENCE: 0x00090300,
  ICC_INTERFACE_STATUS: 0x00090301,
  CURRENT_IO_STATE: 0x00090302,
  ATR_STRING: 0x00090303,
  ICC_TYPE_PER_ATR: 0x00090304,
  ESC_RESET: 0x0007a000,
  ESC_CANCEL: 0x0007a003,
  ESC_AUTHREQUEST: 0x0007a005,
  MAXINPUT: 0x0007a007,
  VENDOR_SPECIFIC_INFO: 0x0007a008,
  DEVICE_UNIT: 0x7fff0001,
  DEVICE_IN_USE: 0x7fff0002,
  DEVICE_FRIENDLY_NAME_A: 0x7fff0003,
  DEVICE_SYSTEM_NAME_A: 0x7fff0004,
  DEVICE_FRIENDLY_NAME_W: 0x7fff0005,
  DEVICE_SYSTEM_NAME_W: 0x7fff0006,
  SUPRESS_T1_IFS_REQUEST: 0x7fff0007,
  PERF_NUM_TRANSMISSIONS: 0x7ffe0001,
  PERF_BYTES_TRANSMITTED: 0x7ffe0002,
  PERF_TRANSMISSION_TIME: 0x7ffe0003,
} as const;

/** SCARD_ATTR_VALUE(class, tag) = (class << 16) | tag. */
export function scardAttrValue(attrClass: number, tag: number): number {
  return ((attrClass << 16) | tag) >>> 0;
}

/** The class (high word) of an attribute identifier; class 7 is SCARD_CLASS_VENDOR_DEFINED. */
export function scardAttrClass(attr: number): number {
  return attr >>> 16;
}

export const SCARD_CLASS_VENDOR_DEFINED = 7;

const ATTR_NAMES = new Map<number, string>(
  Object.entries(SCARD_ATTR).map(([name, value]) => [value, name.startsWith('PERF_') ? `SCARD_${name}` : `SCARD_ATTR_${name}`]),
);

/** `SCARD_ATTR_VENDOR_NAME`, or `SCARD_ATTR_0x…` for an unknown identifier. */
export function scardAttrName(attr: number): string {
  return ATTR_NAMES.get(attr >>> 0) ?? `SCARD_ATTR_0x${(attr >>> 0).toString(16).toUpperCase().padStart(8, '0')}`;
}
