// The kernel-side smart-card stack: the reader bus (what the service uses), constants and the SMCLIB library.

export {
  createReaderBus,
  ReaderSlotError,
  DEFAULT_READER_DRIVER_CONFIG,
  MAX_SYSTEM_BUFFER,
  type VirtualReaderImpl,
  type ReaderDevice,
  type DriverFault,
  type ReaderDriverConfig,
  type ReaderBusOptions,
} from './reader/index.js';
export type {
  IoResult,
  IoctlTraceEntry,
  PendingIo,
  ReaderBus,
  ReaderBusEvents,
  ReaderDeviceInterface,
  ReaderDriverVariant,
  ReaderFileHandle,
  VirtualReader,
  VirtualReaderOptions,
} from './reader/contract.js';
export { GUID_DEVINTERFACE_SMARTCARD_READER } from './reader/contract.js';
// Windows' SCARD vocabulary (constants/scard.ts, WinScard) is left out: above smcard/ only the resource manager's
// reader door may use it (.dependency-cruiser.cjs), and it imports that module by path.
export * from './constants/ioctl.js';
export * from './constants/smclib.js';
export * from './constants/scard-attributes.js';
export type { SmclibOptions } from './smclib/options.js';
