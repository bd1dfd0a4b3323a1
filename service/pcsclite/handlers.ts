// One handler per command: decode → ownership check → resource-manager call → encode (docs/pcsclite-protocol.md §7).

import type { Logger } from 'pino';
import type { ResourceManagerApi, RmSession } from '../rm/contract.js';
import { readU32LE } from '../../kernel/bytes.js';
import { SCARD } from '../contract/pcsclite.js';
import { toPcscliteFeatures } from '../rm/feature-codes.js';
import {
  beginStruct,
  cancelStruct,
  connectStruct,
  controlStruct,
  disconnectStruct,
  encodeSignal,
  endStruct,
  establishStruct,
  getsetStruct,
  reconnectStruct,
  releaseStruct,
  statusStruct,
  encodeTransmitReply,
  readTransmitRequest,
  versionStruct,
  withPayload,
} from './codec.js';
import type { EventHub, SignalTarget } from './event-hub.js';
import type { Frame } from './framing.js';
import {
  Command,
  MAX_BUFFER_SIZE,
  MAX_BUFFER_SIZE_EXTENDED,
  PROTOCOL_VERSION_MAJOR,
  PROTOCOL_VERSION_MINOR,
} from './protocol.js';
import { encodeReaderStates, entryFromSnapshot } from './reader-states.js';

/** The per-connection state a handler works on. */
export interface ConnectionContext extends SignalTarget {
  readonly session: RmSession;
  readonly rm: ResourceManagerApi;
  readonly hub: EventHub;
  readonly log: Logger;
  /** The connection's context (pcscd's threadContext->hContext); 0 before ESTABLISH and after RELEASE. */
  hContext: number;
}

/** Returned by a handler when pcscd would `goto exit`: close this connection (and only this one). */
export class CloseConnection {
  constructor(readonly reason: string) {}
}

/** Bytes to write, `null` for "no reply" (STOP on an unregistered connection), or a close order. */
export type HandlerResult = Uint8Array | null | CloseConnection;
export type Handler = (ctx: ConnectionContext, frame: Frame) => HandlerResult | Promise<HandlerResult>;

const NO_DATA = new Uint8Array(0);

/**
 * hCard travels as int32 but the resource manager's handles are non-negative numbers; `>>> 0` maps the wire value
 * back whatever sign the client's `long` gave it.
 */
function rmHandle(wire: number): number {
  return wire >>> 0;
}

/**
 * MSGCheckHandleAssociation: a handle that is not one of this connection's (or any handle once the context was
 * released) means a confused or hostile client, and pcscd closes the connection. pcscd also sleeps 2 s first to
 * slow down handle guessing; we close at once — the handles are 31-bit random, guessing stays hopeless, and a
 * sleeping handler would only hold the connection's resources longer.
 */
function foreignCard(ctx: ConnectionContext, hCard: number): CloseConnection | null {
  if (ctx.hContext === 0) return new CloseConnection(`hCard 0x${rmHandle(hCard).toString(16)} after the context was released`);
  if (!ctx.session.ownsCard(rmHandle(hCard))) {
    return new CloseConnection(`hCard 0x${rmHandle(hCard).toString(16)} does not belong to this connection`);
  }
  return null;
}

const version: Handler = (_ctx, { body }) => {
  const req = versionStruct.decode(body);
  const ok = req.major === PROTOCOL_VERSION_MAJOR && req.minor === PROTOCOL_VERSION_MINOR;
  return versionStruct.encode(
    { major: PROTOCOL_VERSION_MAJOR, minor: PROTOCOL_VERSION_MINOR, rv: ok ? SCARD.S_SUCCESS : SCARD.E_SERVICE_STOPPED },
    body,
  );
};

const establish: Handler = (ctx, { body }) => {
  const req = establishStruct.decode(body);
  const { rv, hContext } = ctx.session.establishContext(req.dwScope);
  if (rv === SCARD.S_SUCCESS) {
    // pcscd overwrites the connection's context (MSGAddContext); the client only does this after seeing a
    // duplicate hContext, and the old context's handles stay usable on this connection as in pcscd.
    if (ctx.hContext !== 0) ctx.hub.unbindContext(ctx.hContext, ctx);
    ctx.hContext = hContext;
    ctx.hub.bindContext(hContext, ctx);
  }
  return establishStruct.encode({ ...req, hContext: rv === SCARD.S_SUCCESS ? hContext : 0, rv }, body);
};

const release: Handler = async (ctx, { body }) => {
  const req = releaseStruct.decode(body);
  let rv: number;
  if (ctx.hContext === 0) rv = SCARD.E_INVALID_HANDLE;
  else if (req.hContext >>> 0 !== ctx.hContext >>> 0) rv = SCARD.E_INVALID_VALUE;
  else {
    rv = await ctx.session.releaseContext(ctx.hContext);
    if (rv === SCARD.S_SUCCESS) {
      ctx.hub.unbindContext(ctx.hContext, ctx);
      ctx.hContext = 0;
    }
  }
  return releaseStruct.encode({ ...req, rv }, body);
};

const connect: Handler = async (ctx, { body }) => {
  const req = connectStruct.decode(body);
  // pcscd connects first and then fails MSGAddHandle (disconnecting again); checking the context first gives
  // the same rv without touching the card.
  if (ctx.hContext === 0) return connectStruct.encode({ ...req, hCard: 0, rv: SCARD.E_INVALID_HANDLE }, body);
  if (req.hContext >>> 0 !== ctx.hContext >>> 0) {
    return connectStruct.encode({ ...req, hCard: 0, rv: SCARD.E_INVALID_VALUE }, body);
  }
  const r = await ctx.session.connect(ctx.hContext, req.szReader, req.dwShareMode, req.dwPreferredProtocols);
  const ok = r.rv === SCARD.S_SUCCESS;
  return connectStruct.encode(
    { ...req, hCard: ok ? r.hCard : 0, dwActiveProtocol: ok ? r.dwActiveProtocol : 0, rv: r.rv },
    body,
  );
};

const reconnect: Handler = async (ctx, { body }) => {
  const req = reconnectStruct.decode(body);
  const foreign = foreignCard(ctx, req.hCard);
  if (foreign) return foreign;
  const r = await ctx.session.reconnect(rmHandle(req.hCard), req.dwShareMode, req.dwPreferredProtocols, req.dwInitialization);
  // The client's dwActiveProtocol is garbage (§4); pcscd answers UNDEFINED unless the reconnect succeeded.
  return reconnectStruct.encode(
    { ...req, dwActiveProtocol: r.rv === SCARD.S_SUCCESS ? r.dwActiveProtocol : 0, rv: r.rv },
    body,
  );
};

const disconnect: Handler = async (ctx, { body }) => {
  const req = disconnectStruct.decode(body);
  const foreign = foreignCard(ctx, req.hCard);
  if (foreign) return foreign;
  const rv = await ctx.session.disconnect(rmHandle(req.hCard), req.dwDisposition);
  return disconnectStruct.encode({ ...req, rv }, body);
};

const begin: Handler = async (ctx, { body }) => {
  const req = beginStruct.decode(body);
  const foreign = foreignCard(ctx, req.hCard);
  if (foreign) return foreign;
  // Resolves only once this handle holds the transaction: the reply is simply delayed, which the client's
  // blocking read accepts (§6.4), while other connections keep being served.
  const rv = await ctx.session.beginTransaction(rmHandle(req.hCard));
  return beginStruct.encode({ ...req, rv }, body);
};

const end: Handler = async (ctx, { body }) => {
  const req = endStruct.decode(body);
  const foreign = foreignCard(ctx, req.hCard);
  if (foreign) return foreign;
  const rv = await ctx.session.endTransaction(rmHandle(req.hCard), req.dwDisposition);
  return endStruct.encode({ ...req, rv }, body);
};

const transmit: Handler = async (ctx, { body, payload }) => {
  // The hot path: read three fields and write the reply in one buffer (byte-identical to transmitStruct's codec).
  const req = readTransmitRequest(body);
  const foreign = foreignCard(ctx, req.hCard);
  if (foreign) return foreign;
  // Like pcscd, exchange with a full-size buffer and compare with the client's afterwards, so the reply can tell
  // the client how much it would have needed.
  const r = await ctx.session.transmit(rmHandle(req.hCard), req.ioSendPciProtocol, payload, MAX_BUFFER_SIZE_EXTENDED);
  // On failure ioRecvPciProtocol (offset 16) is echoed as the client sent it.
  if (r.rv !== SCARD.S_SUCCESS) return encodeTransmitReply(body, readU32LE(body, 16), 0, r.rv, NO_DATA);
  const data = r.pbRecvBuffer;
  if (data.length > req.pcbRecvLength) {
    // Sending rv 0 with more bytes than the client's buffer would desynchronise its stream (§4 transmit_struct).
    return encodeTransmitReply(body, readU32LE(body, 16), data.length, SCARD.E_INSUFFICIENT_BUFFER, NO_DATA);
  }
  return encodeTransmitReply(body, r.ioRecvPciProtocol, data.length, SCARD.S_SUCCESS, data);
};

const control: Handler = async (ctx, { body, payload }) => {
  const req = controlStruct.decode(body);
  const foreign = foreignCard(ctx, req.hCard);
  if (foreign) return foreign;
  const r = await ctx.session.control(rmHandle(req.hCard), req.dwControlCode, payload, MAX_BUFFER_SIZE_EXTENDED);
  let rv = r.rv;
  const data = rv === SCARD.S_SUCCESS ? toPcscliteFeatures(req.dwControlCode, r.pbRecvBuffer) : r.pbRecvBuffer;
  const returned = rv === SCARD.S_SUCCESS ? data.length : 0;
  if (rv === SCARD.S_SUCCESS && returned > req.cbRecvLength) rv = SCARD.E_INSUFFICIENT_BUFFER;
  const reply = controlStruct.encode({ ...req, dwBytesReturned: returned, rv }, body);
  return withPayload(reply, rv, data);
};

const status: Handler = async (ctx, { body }) => {
  const req = statusStruct.decode(body);
  const foreign = foreignCard(ctx, req.hCard);
  if (foreign) return foreign;
  // Only rv travels back: the client takes name, state, protocol and ATR from its 0x12 snapshot (§6.4).
  const r = await ctx.session.status(rmHandle(req.hCard));
  return statusStruct.encode({ ...req, rv: r.rv }, body);
};

const cancel: Handler = (ctx, { body }) => {
  const req = cancelStruct.decode(body);
  return cancelStruct.encode({ ...req, rv: ctx.hub.cancel(req.hContext) }, body);
};

const getAttrib: Handler = async (ctx, { body }) => {
  const req = getsetStruct.decode(body);
  const foreign = foreignCard(ctx, req.hCard);
  if (foreign) return foreign;
  if (req.cbAttrLen > MAX_BUFFER_SIZE) return new CloseConnection(`cbAttrLen ${req.cbAttrLen} exceeds ${MAX_BUFFER_SIZE}`);
  // Ask for everything that fits pbAttr and apply the client's length here, so "too small" reports the size needed.
  const r = await ctx.session.getAttrib(rmHandle(req.hCard), req.dwAttrId, MAX_BUFFER_SIZE);
  let rv = r.rv;
  let value = rv === SCARD.S_SUCCESS ? r.pbAttr : NO_DATA;
  let length = value.length;
  if (rv === SCARD.S_SUCCESS && length > req.cbAttrLen) {
    rv = SCARD.E_INSUFFICIENT_BUFFER;
    value = NO_DATA;
  } else if (rv === SCARD.E_INSUFFICIENT_BUFFER) {
    length = r.pbAttr.length;
  } else if (rv !== SCARD.S_SUCCESS) {
    length = 0;
  }
  return getsetStruct.encode({ ...req, pbAttr: value, cbAttrLen: length, rv }, body);
};

const setAttrib: Handler = async (ctx, { body }) => {
  const req = getsetStruct.decode(body);
  const foreign = foreignCard(ctx, req.hCard);
  if (foreign) return foreign;
  if (req.cbAttrLen > MAX_BUFFER_SIZE) return new CloseConnection(`cbAttrLen ${req.cbAttrLen} exceeds ${MAX_BUFFER_SIZE}`);
  const rv = await ctx.session.setAttrib(rmHandle(req.hCard), req.dwAttrId, req.pbAttr.subarray(0, req.cbAttrLen));
  return getsetStruct.encode({ ...req, rv }, body);
};

const snapshot = (ctx: ConnectionContext): Uint8Array => encodeReaderStates(ctx.rm.readerStates().map(entryFromSnapshot));

const getReadersState: Handler = (ctx) => snapshot(ctx);

const waitReaderStateChange: Handler = (ctx) => {
  // Register and snapshot in the same tick: a change after this point is guaranteed to produce a signal.
  ctx.hub.register(ctx);
  return snapshot(ctx);
};

const stopWaiting: Handler = (ctx) =>
  // Still registered → it is owed one reply; already signalled or cancelled → that message was its reply.
  ctx.hub.unregister(ctx) ? encodeSignal(SCARD.S_SUCCESS) : null;

/** The dispatch table; framing has already rejected every number that is not a key here. */
export const HANDLERS: Readonly<Record<Command, Handler>> = {
  [Command.SCARD_ESTABLISH_CONTEXT]: establish,
  [Command.SCARD_RELEASE_CONTEXT]: release,
  [Command.SCARD_CONNECT]: connect,
  [Command.SCARD_RECONNECT]: reconnect,
  [Command.SCARD_DISCONNECT]: disconnect,
  [Command.SCARD_BEGIN_TRANSACTION]: begin,
  [Command.SCARD_END_TRANSACTION]: end,
  [Command.SCARD_TRANSMIT]: transmit,
  [Command.SCARD_CONTROL]: control,
  [Command.SCARD_STATUS]: status,
  [Command.SCARD_CANCEL]: cancel,
  [Command.SCARD_GET_ATTRIB]: getAttrib,
  [Command.SCARD_SET_ATTRIB]: setAttrib,
  [Command.CMD_VERSION]: version,
  [Command.CMD_GET_READERS_STATE]: getReadersState,
  [Command.CMD_WAIT_READER_STATE_CHANGE]: waitReaderStateChange,
  [Command.CMD_STOP_WAITING_READER_STATE_CHANGE]: stopWaiting,
};
