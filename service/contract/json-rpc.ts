// The /v1/pcsc JSON-RPC method table (docs/json-rpc.md): each method's name, by-name params and result fields with
// their wire types, once. The service's handlers and the winscard client are both typed against it, so a method,
// param or result renamed here fails to compile on both sides. Types only: browsers load it with the clients.

/** A DWORD on the wire: a JSON integer 0..0xFFFFFFFF. */
export type Dword = number;
/** A byte string on the wire: hex, lowercase in results; params accept either case, in pairs of digits. */
export type Hex = string;

/** One entry of SCardGetStatusChange's rgReaderStates param. */
export interface ReaderStateParam {
  szReader: string;
  dwCurrentState: Dword;
}

/** One entry of SCardGetStatusChange's rgReaderStates result. */
export interface ReaderStateResult extends ReaderStateParam {
  /** SCARD_STATE_* bits with the reader's event counter in the high 16 bits. */
  dwEventState: Dword;
  cbAtr: Dword;
  rgbAtr: Hex;
}

/**
 * Every method: `params` as the request carries them, `result` besides `rv` (every result has `rv`, the pcsc-lite
 * return code). Adding a method here makes the service's method table (service/rpc/json-rpc/methods.ts) fail to
 * compile until it has a handler, and lets the client call it.
 */
export interface PcscMethods {
  SCardEstablishContext: { params: { dwScope: Dword }; result: { hContext: Dword } };
  SCardReleaseContext: { params: { hContext: Dword }; result: object };
  SCardIsValidContext: { params: { hContext: Dword }; result: object };
  SCardListReaders: { params: { hContext: Dword; mszGroups?: string[] | null }; result: { mszReaders: string[] } };
  SCardListReaderGroups: { params: { hContext: Dword }; result: { mszGroups: string[] } };
  SCardGetStatusChange: {
    params: { hContext: Dword; dwTimeout: Dword; rgReaderStates: ReaderStateParam[] };
    result: { rgReaderStates: ReaderStateResult[] };
  };
  SCardCancel: { params: { hContext: Dword }; result: object };
  SCardConnect: {
    params: { hContext: Dword; szReader: string; dwShareMode: Dword; dwPreferredProtocols: Dword };
    result: { hCard: Dword; dwActiveProtocol: Dword };
  };
  SCardReconnect: {
    params: { hCard: Dword; dwShareMode: Dword; dwPreferredProtocols: Dword; dwInitialization: Dword };
    result: { dwActiveProtocol: Dword };
  };
  SCardDisconnect: { params: { hCard: Dword; dwDisposition: Dword }; result: object };
  SCardBeginTransaction: { params: { hCard: Dword }; result: object };
  SCardEndTransaction: { params: { hCard: Dword; dwDisposition: Dword }; result: object };
  SCardTransmit: {
    params: { hCard: Dword; pioSendPci: { dwProtocol: Dword }; pbSendBuffer: Hex; cbRecvLength?: Dword };
    result: { pioRecvPci: { dwProtocol: Dword }; pbRecvBuffer: Hex };
  };
  SCardControl: {
    params: { hCard: Dword; dwControlCode: Dword; pbSendBuffer: Hex; cbRecvLength?: Dword };
    result: { pbRecvBuffer: Hex };
  };
  SCardGetAttrib: { params: { hCard: Dword; dwAttrId: Dword; cbAttrLen?: Dword }; result: { pbAttr: Hex } };
  SCardSetAttrib: { params: { hCard: Dword; dwAttrId: Dword; pbAttr: Hex }; result: object };
  SCardStatus: {
    params: { hCard: Dword };
    /** dwState is `eventCounter << 16 | readerState`, as pcsc-lite answers it. */
    result: { szReaderName: string; dwState: Dword; dwProtocol: Dword; pbAtr: Hex };
  };
}

export type PcscMethod = keyof PcscMethods;
export type PcscParams<M extends PcscMethod> = PcscMethods[M]['params'];
/** What the server answers for M: `rv` plus the method's result fields (zeros or empty when rv is not 0). */
export type PcscResult<M extends PcscMethod> = { rv: Dword } & PcscMethods[M]['result'];

/**
 * vscr's own methods on the same socket (docs/json-rpc.md "Faults"): not winscard calls, so no `rv`; failures are
 * JSON-RPC errors. Their params are the REST bodies of docs/faults.md, checked by the same field tables.
 */
export const VSCR_METHODS = {
  readerFault: ['vscr.fault.arm', 'vscr.fault.list', 'vscr.fault.clear'],
  deviceFault: ['vscr.deviceFault.arm', 'vscr.deviceFault.list', 'vscr.deviceFault.clear'],
} as const;
export type ReaderFaultMethod = (typeof VSCR_METHODS.readerFault)[number];
export type DeviceFaultMethod = (typeof VSCR_METHODS.deviceFault)[number];
export type VscrMethod = ReaderFaultMethod | DeviceFaultMethod;
