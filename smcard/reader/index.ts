// The virtual reader driver: bus, reader, device object, trace and driver configuration.

export { createReaderBus, VirtualReaderBus, type ReaderBusOptions } from './bus.js';
export { VirtualReaderImpl, ReaderSlotError } from './virtual-reader.js';
export { ReaderDevice, MAX_SYSTEM_BUFFER, type DriverFault } from './reader-device.js';
export { IoctlTrace } from './trace.js';
export { DEFAULT_READER_DRIVER_CONFIG, type ReaderDriverConfig } from './driver-config.js';
export * from './contract.js';
