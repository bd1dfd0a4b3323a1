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
export * from './constants/index.js';
export type { SmclibOptions } from './smclib/options.js';
