// SMCLIB constants from smclib.h: versions, buffer sizes, ReaderFunction indices, T=1 and PTS values and the
// ISO 7816-3 Fi/Di tables (docs/smclib.md §1.4).

export const SMCLIB_VERSION = 0x150;
export const SMCLIB_VERSION_REQUIRED = 0x100;
export const MIN_BUFFER_SIZE = 288;
export const MAXIMUM_ATR_LENGTH = 33;
export const MAXIMUM_ATR_CODES = 4;
export const MAXIMUM_ATTR_STRING_LENGTH = 32;
export const MAXIMUM_SMARTCARD_READERS = 10;
export const SCARD_ATR_LENGTH = 33;
/** Size of CardCapabilities.ATR.Buffer and HistoricalChars.Buffer in smclib.h. */
export const ATR_BUFFER_SIZE = 64;
export const HISTORICAL_CHARS_BUFFER_SIZE = 16;

/** ReaderFunction[] indices. */
export const RDF_CARD_POWER = 0;
export const RDF_TRANSMIT = 1;
export const RDF_CARD_EJECT = 2;
export const RDF_READER_SWALLOW = 3;
export const RDF_CARD_TRACKING = 4;
export const RDF_SET_PROTOCOL = 5;
export const RDF_DEBUG_LEVEL = 6;
export const RDF_CARD_CONFISCATE = 7;
export const RDF_IOCTL_VENDOR = 8;
export const RDF_ATR_PARSE = 9;
export const RDF_SLOTS = 16;

const RDF_NAMES = [
  'RDF_CARD_POWER', 'RDF_TRANSMIT', 'RDF_CARD_EJECT', 'RDF_READER_SWALLOW', 'RDF_CARD_TRACKING',
  'RDF_SET_PROTOCOL', 'RDF_DEBUG_LEVEL', 'RDF_CARD_CONFISCATE', 'RDF_IOCTL_VENDOR', 'RDF_ATR_PARSE',
];
export function rdfName(index: number): string {
  return RDF_NAMES[index] ?? `RDF_${index}`;
}

/** T=1 constants. */
export const T1_IFSD = 254;
export const T1_IFSD_DEFAULT = 32;
export const T1_MAX_RETRIES = 2;
export const T1_CWI_DEFAULT = 13;
export const T1_BWI_DEFAULT = 4;
export const T1_RESYNCH_REQUEST = 0xc0;
export const T1_RESYNCH_RESPONSE = 0xe0;
export const T1_IFS_REQUEST = 0xc1;
export const T1_IFS_RESPONSE = 0xe1;
export const T1_ABORT_REQUEST = 0xc2;
export const T1_ABORT_RESPONSE = 0xe2;
export const T1_WTX_REQUEST = 0xc3;
export const T1_WTX_RESPONSE = 0xe3;
export const T1_VPP_ERROR = 0xe4;
export const T1_MORE_DATA = 0x20;
export const SCARD_T1_MAX_IFS = 254;
export const SCARD_T0_HEADER_LENGTH = 7;
export const SCARD_T0_CMD_LENGTH = 5;
/** sizeof(SCARD_IO_REQUEST): dwProtocol + cbPciLength, both little-endian DWORDs. */
export const SCARD_IO_REQUEST_LENGTH = 8;

export const PTS_TYPE_DEFAULT = 0;
export const PTS_TYPE_OPTIMAL = 1;
export const PTS_TYPE_USER = 2;

/** ISO 7816-3 Fi table: clock-rate conversion factor F and fmax in MHz, indexed by Fl; F = 0 means RFU. */
export const CLOCK_RATE_CONVERSION: readonly { F: number; fMaxMHz: number }[] = [
  [372, 4], [372, 5], [558, 6], [744, 8], [1116, 12], [1488, 16], [1860, 20], [0, 0],
  [0, 0], [512, 5], [768, 7.5], [1024, 10], [1536, 15], [2048, 20], [0, 0], [0, 0],
].map(([F, fMaxMHz]) => ({ F, fMaxMHz }));

/** ISO 7816-3 Di table: bit-rate adjustment factor D indexed by Dl; 0 means RFU. */
export const BIT_RATE_ADJUSTMENT: readonly number[] = [0, 1, 2, 4, 8, 16, 32, 64, 12, 20, 0, 0, 0, 0, 0, 0];

/** GUID_DEVINTERFACE_SMARTCARD_READER (SmartCardReaderGuid). */
export const SMARTCARD_READER_GUID = '{50DD5230-BA8A-11D1-BF5D-0000F805F530}';
