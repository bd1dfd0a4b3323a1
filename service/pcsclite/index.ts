// Public entry of the pcsc-lite 1.9.9 transport: the daemon (startPcscLiteServer) and the shared wire codec.

export { DEFAULT_MAX_CONNECTIONS, startPcscLiteServer, type PcscLiteServer, type PcscLiteServerOptions } from './server.js';
export * from './protocol.js';
export * from './codec.js';
export { encodeReaderStates, decodeReaderStates, type ReaderStateEntry } from './reader-states.js';
export { FrameDecoder, FramingError, type Frame, type FramingViolation } from './framing.js';
