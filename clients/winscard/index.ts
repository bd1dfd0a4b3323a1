// Public surface of the winscard-style PC/SC client, with pcsc-lite's constants re-exported.
export {
  WinscardClient, connectWinscard, pcscWebSocketUrl,
  type ReaderStateQuery, type ReaderStateResult, type CardStatus, type WinscardConnectOptions,
} from './client.js';
export { PcscError, JsonRpcError, WinscardClosedError, WinscardSocketError } from './errors.js';
export { openWebSocketTransport, type RpcTransport, type WebSocketLike, type WebSocketFactory, type WebSocketTransportOptions } from './transport.js';
export { encodeRequest, decodeReply, type JsonRpcReply } from './codec.js';
export * from '../../service/contract/pcsclite.js';
