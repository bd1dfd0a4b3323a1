// Public surface of the REST SDK.
export { VscrClient, DEFAULT_URL, type VscrClientOptions, type CallOptions, type DataInput } from './client.js';
export {
  VscrError, VscrHttpError, VscrUnreachableError, VscrClientClosedError, VscrAbortedError, VscrProtocolError,
  VscrArgumentError, isVscrError, type VscrErrorBody,
} from './errors.js';
export { FetchTransport, iterableToStream, type HttpTransport, type HttpRequest, type HttpResponse, type BodySource } from './transport.js';
export { SseDecoder, type SseMessage } from './sse.js';
export { toHex, fromHex, concatBytes } from './hex.js';
export type * from './types.js';
export type * from './sim-types.js';
