// The /v1/pcsc method handlers: each winscard call as decode → ownership check → RM call → encode
// (docs/style.md convention 8). Names, params and results come from the contract (service/contract/json-rpc.ts):
// a handler for a method the contract lacks, a param it does not declare or a result field it does not name does
// not compile, and neither does a contract method without a handler.

import type { RmSession } from '../../rm/contract.js';
import type { PcscMethod, PcscParams, PcscResult } from '../../contract/json-rpc.js';
import { MAX_BUFFER_SIZE, MAX_BUFFER_SIZE_EXTENDED, SCARD } from '../../contract/pcsclite.js';
import { toPcscliteFeatures } from '../../rm/feature-codes.js';
import { encodeHex, ParamReader } from './codec.js';

export type MethodResult = Record<string, unknown>;
/** `signal` aborts when the connection closes (used by the blocking GetStatusChange). */
export type MethodHandler<M extends PcscMethod = PcscMethod> = (
  session: RmSession,
  p: ParamReader<PcscParams<M>>,
  signal: AbortSignal,
) => PcscResult<M> | Promise<PcscResult<M>>;

/** A vscr.* method (service/contract/json-rpc.ts VSCR_METHODS): params checked as a whole by its field table. */
export type ExtraMethodHandler = (session: RmSession, p: ParamReader, signal: AbortSignal) => MethodResult | Promise<MethodResult>;

/** rgReaderStates entries one call may carry; the RM itself answers E_INVALID_VALUE above 16 like pcsc-lite. */
const MAX_READER_STATES = 64;

const INVALID_HANDLE = SCARD.E_INVALID_HANDLE;

export const METHODS: { readonly [M in PcscMethod]: MethodHandler<M> } = {
  SCardEstablishContext(s, p) {
    const dwScope = p.u32('dwScope');
    const r = s.establishContext(dwScope);
    return { rv: r.rv, hContext: r.hContext };
  },

  async SCardReleaseContext(s, p) {
    const hContext = p.u32('hContext');
    if (!s.ownsContext(hContext)) return { rv: INVALID_HANDLE };
    return { rv: await s.releaseContext(hContext) };
  },

  SCardIsValidContext(s, p) {
    const hContext = p.u32('hContext');
    return { rv: s.isValidContext(hContext) };
  },

  SCardListReaders(s, p) {
    const hContext = p.u32('hContext');
    const groups = p.optStringArray('mszGroups');
    if (!s.ownsContext(hContext)) return { rv: INVALID_HANDLE, mszReaders: [] };
    const r = s.listReaders(hContext, groups);
    return { rv: r.rv, mszReaders: r.readers };
  },

  SCardListReaderGroups(s, p) {
    const hContext = p.u32('hContext');
    if (!s.ownsContext(hContext)) return { rv: INVALID_HANDLE, mszGroups: [] };
    const r = s.listReaderGroups(hContext);
    return { rv: r.rv, mszGroups: r.groups };
  },

  async SCardGetStatusChange(s, p, signal) {
    const hContext = p.u32('hContext');
    const dwTimeout = p.u32('dwTimeout');
    const states = p.objectArray('rgReaderStates', MAX_READER_STATES).map((e) => ({ szReader: e.string('szReader'), dwCurrentState: e.u32('dwCurrentState') }));
    if (!s.ownsContext(hContext)) {
      return { rv: INVALID_HANDLE, rgReaderStates: states.map((e) => ({ ...e, dwEventState: 0, cbAtr: 0, rgbAtr: '' })) };
    }
    const r = await s.getStatusChange(hContext, dwTimeout, states, signal);
    return {
      rv: r.rv,
      rgReaderStates: r.readerStates.map((e) => ({
        szReader: e.szReader,
        dwCurrentState: e.dwCurrentState,
        dwEventState: e.dwEventState,
        cbAtr: e.cbAtr,
        rgbAtr: encodeHex(e.rgbAtr),
      })),
    };
  },

  SCardCancel(s, p) {
    const hContext = p.u32('hContext');
    if (!s.ownsContext(hContext)) return { rv: INVALID_HANDLE };
    return { rv: s.cancel(hContext) };
  },

  async SCardConnect(s, p) {
    const hContext = p.u32('hContext');
    const szReader = p.string('szReader');
    const dwShareMode = p.u32('dwShareMode');
    const dwPreferredProtocols = p.u32('dwPreferredProtocols');
    if (!s.ownsContext(hContext)) return { rv: INVALID_HANDLE, hCard: 0, dwActiveProtocol: 0 };
    const r = await s.connect(hContext, szReader, dwShareMode, dwPreferredProtocols);
    return { rv: r.rv, hCard: r.hCard, dwActiveProtocol: r.dwActiveProtocol };
  },

  async SCardReconnect(s, p) {
    const hCard = p.u32('hCard');
    const dwShareMode = p.u32('dwShareMode');
    const dwPreferredProtocols = p.u32('dwPreferredProtocols');
    const dwInitialization = p.u32('dwInitialization');
    if (!s.ownsCard(hCard)) return { rv: INVALID_HANDLE, dwActiveProtocol: 0 };
    const r = await s.reconnect(hCard, dwShareMode, dwPreferredProtocols, dwInitialization);
    return { rv: r.rv, dwActiveProtocol: r.dwActiveProtocol };
  },

  async SCardDisconnect(s, p) {
    const hCard = p.u32('hCard');
    const dwDisposition = p.u32('dwDisposition');
    if (!s.ownsCard(hCard)) return { rv: INVALID_HANDLE };
    return { rv: await s.disconnect(hCard, dwDisposition) };
  },

  async SCardBeginTransaction(s, p) {
    const hCard = p.u32('hCard');
    if (!s.ownsCard(hCard)) return { rv: INVALID_HANDLE };
    return { rv: await s.beginTransaction(hCard) };
  },

  async SCardEndTransaction(s, p) {
    const hCard = p.u32('hCard');
    const dwDisposition = p.u32('dwDisposition');
    if (!s.ownsCard(hCard)) return { rv: INVALID_HANDLE };
    return { rv: await s.endTransaction(hCard, dwDisposition) };
  },

  async SCardTransmit(s, p) {
    const hCard = p.u32('hCard');
    const dwProtocol = p.object('pioSendPci').u32('dwProtocol');
    const pbSendBuffer = p.hex('pbSendBuffer');
    const cbRecvLength = p.optU32('cbRecvLength', MAX_BUFFER_SIZE_EXTENDED);
    if (!s.ownsCard(hCard)) return { rv: INVALID_HANDLE, pioRecvPci: { dwProtocol: 0 }, pbRecvBuffer: '' };
    const r = await s.transmit(hCard, dwProtocol, pbSendBuffer, cbRecvLength);
    return { rv: r.rv, pioRecvPci: { dwProtocol: r.ioRecvPciProtocol }, pbRecvBuffer: encodeHex(r.pbRecvBuffer) };
  },

  async SCardControl(s, p) {
    const hCard = p.u32('hCard');
    const dwControlCode = p.u32('dwControlCode');
    const pbSendBuffer = p.hex('pbSendBuffer');
    const cbRecvLength = p.optU32('cbRecvLength', MAX_BUFFER_SIZE_EXTENDED);
    if (!s.ownsCard(hCard)) return { rv: INVALID_HANDLE, pbRecvBuffer: '' };
    const r = await s.control(hCard, dwControlCode, pbSendBuffer, cbRecvLength);
    const data = r.rv === SCARD.S_SUCCESS ? toPcscliteFeatures(dwControlCode, r.pbRecvBuffer) : r.pbRecvBuffer;
    return { rv: r.rv, pbRecvBuffer: encodeHex(data) };
  },

  async SCardGetAttrib(s, p) {
    const hCard = p.u32('hCard');
    const dwAttrId = p.u32('dwAttrId');
    const cbAttrLen = p.optU32('cbAttrLen', MAX_BUFFER_SIZE);
    if (!s.ownsCard(hCard)) return { rv: INVALID_HANDLE, pbAttr: '' };
    const r = await s.getAttrib(hCard, dwAttrId, cbAttrLen);
    return { rv: r.rv, pbAttr: encodeHex(r.pbAttr) };
  },

  async SCardSetAttrib(s, p) {
    const hCard = p.u32('hCard');
    const dwAttrId = p.u32('dwAttrId');
    const pbAttr = p.hex('pbAttr');
    if (!s.ownsCard(hCard)) return { rv: INVALID_HANDLE };
    return { rv: await s.setAttrib(hCard, dwAttrId, pbAttr) };
  },

  async SCardStatus(s, p) {
    const hCard = p.u32('hCard');
    if (!s.ownsCard(hCard)) return { rv: INVALID_HANDLE, szReaderName: '', dwState: 0, dwProtocol: 0, pbAtr: '' };
    const r = await s.status(hCard);
    return { rv: r.rv, szReaderName: r.szReaderName, dwState: r.dwState, dwProtocol: r.dwProtocol, pbAtr: encodeHex(r.pbAtr) };
  },
};

export function hasMethod(name: string): name is PcscMethod {
  return Object.prototype.hasOwnProperty.call(METHODS, name);
}

/** Runs `name`'s handler on a request's params as they came; the reader checks each one as the handler reads it. */
export function runMethod(name: PcscMethod, session: RmSession, params: Record<string, unknown>, signal: AbortSignal): MethodResult | Promise<MethodResult> {
  // The dispatcher holds one name of the union, which TypeScript cannot correlate with its handler's own reader
  // type; at run time every reader is the same untyped ParamReader.
  const handler = METHODS[name] as unknown as (s: RmSession, p: ParamReader, signal: AbortSignal) => MethodResult | Promise<MethodResult>;
  return handler(session, new ParamReader(params), signal);
}
