// The fastify plugin serving JSON-RPC 2.0 PC/SC at GET /v1/pcsc over WebSocket (@fastify/websocket).
// Uses the app's @fastify/websocket when one is registered, registers its own (encapsulated) otherwise.

import fastifyWebsocket from '@fastify/websocket';
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest, FastifySchema, RouteHandlerMethod } from 'fastify';
import type { WebSocket } from 'ws';
import pino, { type Logger } from 'pino';
import type { ResourceManagerApi } from '../../rm/contract.js';
import { BusyPoll, DEFAULT_BUSY_POLL_MICROS } from '../../net/busy-poll.js';
import { JsonRpcConnection } from './connection.js';
import { faultMethods, type FaultControl } from './fault-methods.js';
import { deviceFaultMethods, type DeviceFaultControl } from './device-fault-methods.js';

export interface JsonRpcPcscOptions {
  rm: ResourceManagerApi;
  logger?: Logger;
  /** Route path. Default `/v1/pcsc`. */
  path?: string;
  /** Largest accepted message; a larger one gets a -32600 error and the socket is closed (1009). Default 1 MiB. */
  maxMessageBytes?: number;
  /** Route schema for the OpenAPI document (the HTTP layer passes its shared error responses). */
  schema?: FastifySchema;
  /**
   * Answers a plain (non-upgrade) GET. When given, the route is declared with `handler` + `wsHandler`, which
   * also keeps it in the OpenAPI document (@fastify/websocket hides `websocket: true` routes); otherwise a
   * plain GET gets @fastify/websocket's bare 404.
   */
  plainHttpHandler?: RouteHandlerMethod;
  /** Busy-poll window after client traffic in µs (default 500, 0 = off); see busy-poll.ts. */
  busyPollMicros?: number;
  /** Reader faults: when given, the `vscr.fault.*` methods arm, list and clear them (docs/json-rpc.md). */
  faults?: FaultControl;
  /** Crypto-device faults: when given, the `vscr.deviceFault.*` methods (docs/json-rpc.md). */
  deviceFaults?: DeviceFaultControl;
}

export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;

let connectionSeq = 0;

/** The app's logger when it is pino; fastify built with `logger: false` has a no-op stand-in without pino's API. */
function pinoLogger(log: FastifyBaseLogger): Logger | null {
  return typeof (log as Partial<Logger>).isLevelEnabled === 'function' ? (log as Logger) : null;
}

export async function jsonRpcPcscPlugin(app: FastifyInstance, opts: JsonRpcPcscOptions): Promise<void> {
  const maxMessageBytes = opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const log = (opts.logger ?? pinoLogger(app.log) ?? pino({ level: 'silent' })).child({ component: 'json-rpc' });
  if (!app.hasDecorator('websocketServer')) {
    // ws must accept more than our limit, or it would drop an oversize frame before we can answer it.
    await app.register(fastifyWebsocket, { options: { maxPayload: maxMessageBytes * 4 } });
  }
  const extra = { ...(opts.faults ? faultMethods(opts.faults) : {}), ...(opts.deviceFaults ? deviceFaultMethods(opts.deviceFaults) : {}) };
  const busyPoll = new BusyPoll(opts.busyPollMicros ?? DEFAULT_BUSY_POLL_MICROS);
  app.addHook('onClose', async () => busyPoll.stop());
  const wsHandler = (socket: WebSocket, req: FastifyRequest): void => {
    const id = ++connectionSeq;
    const session = opts.rm.openSession(`json-rpc:${req.ip}:${id}`);
    const clog = log.child({ conn: id, session: session.id });
    clog.debug('client connected');
    new JsonRpcConnection(socket, session, clog, maxMessageBytes, busyPoll, extra);
  };
  const path = opts.path ?? '/v1/pcsc';
  if (opts.plainHttpHandler) app.route({ method: 'GET', url: path, schema: opts.schema, handler: opts.plainHttpHandler, wsHandler });
  else app.get(path, { websocket: true, schema: opts.schema }, wsHandler);
}
