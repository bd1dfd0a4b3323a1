// The fastify plugin serving JSON-RPC 2.0 PC/SC at GET /v1/pcsc over WebSocket (@fastify/websocket).
// Uses the app's @fastify/websocket when one is registered, registers its own (encapsulated) otherwise.

import fastifyWebsocket from '@fastify/websocket';
import type { FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import type { ResourceManagerApi } from '../../rm/contract.js';
import { JsonRpcConnection } from './connection.js';

export interface JsonRpcPcscOptions {
  rm: ResourceManagerApi;
  logger?: Logger;
  /** Route path. Default `/v1/pcsc`. */
  path?: string;
  /** Largest accepted message; a larger one gets a -32600 error and the socket is closed (1009). Default 1 MiB. */
  maxMessageBytes?: number;
}

export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;

let connectionSeq = 0;

export async function jsonRpcPcscPlugin(app: FastifyInstance, opts: JsonRpcPcscOptions): Promise<void> {
  const maxMessageBytes = opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const log = (opts.logger ?? (app.log as Logger) ?? pino({ level: 'silent' })).child({ component: 'json-rpc' });
  if (!app.hasDecorator('websocketServer')) {
    // ws must accept more than our limit, or it would drop an oversize frame before we can answer it.
    await app.register(fastifyWebsocket, { options: { maxPayload: maxMessageBytes * 4 } });
  }
  app.get(opts.path ?? '/v1/pcsc', { websocket: true }, (socket, req) => {
    const id = ++connectionSeq;
    const session = opts.rm.openSession(`json-rpc:${req.ip}:${id}`);
    const clog = log.child({ conn: id, session: session.id });
    clog.debug('client connected');
    new JsonRpcConnection(socket, session, clog, maxMessageBytes);
  });
}
