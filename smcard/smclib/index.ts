// The SMCLIB-like library: SmartcardDeviceControl, the extension object and the exported helper routines.

export { SmartcardDeviceControl } from './device-control.js';
export {
  createSmartcardExtension,
  currentAtr,
  SmartcardInitialize,
  SmartcardInitializeCardCapabilities,
  type CardCapabilities,
  type IoRequest,
  type OsData,
  type ReaderCallback,
  type ReaderCapabilities,
  type SmartcardExtension,
  type SmartcardExtensionInit,
  type VendorAttributes,
} from './extension.js';
export { parseAtr, SmartcardUpdateCardCapabilities, type AtrParseResult, type ParsedAtr } from './atr.js';
export { readAttribute, writeAttribute, dword } from './attributes.js';
export {
  checkTransmit,
  requestApdu,
  SmartcardRawReply,
  SmartcardRawRequest,
  SmartcardT0Reply,
  SmartcardT0Request,
  writeTransmitReply,
  MIN_TRANSMIT_OUTPUT,
} from './transmit.js';
export { DEFAULT_SMCLIB_OPTIONS, resolveSmclibOptions, type SmclibOptions } from './options.js';
export { AsyncMutex, SpinLock } from './sync.js';
