// GET /v1/pcsc: mounts the JSON-RPC 2.0 PC/SC transport (service/rpc/json-rpc; methods in docs/json-rpc.md).
// @fastify/websocket itself is registered at the root by buildApp (see the comment there).

import type { FastifyInstance } from 'fastify';
import { jsonRpcPcscPlugin } from '../../rpc/json-rpc/index.js';
import type { FaultHost } from '../../runtime/faults.js';
import type { AppContext } from '../context.js';
import { errors } from '../errors.js';
import { errorResponses } from '../schemas.js';

const schema = {
  tags: ['pcsc'],
  summary: 'PC/SC over JSON-RPC 2.0 (WebSocket upgrade)',
  description: 'One connection is one PC/SC client. Methods are the winscard names (SCardEstablishContext, SCardConnect, SCardTransmit, …) with params by name; every PC/SC outcome is a result `{ rv, …outputs }` (docs/service.md, docs/errors.md).',
  response: { 101: { description: 'Switching Protocols: the WebSocket carries JSON-RPC 2.0 frames' }, ...errorResponses },
};

export async function pcscRpcRoutes(app: FastifyInstance, opts: { ctx: AppContext; faults?: FaultHost }): Promise<void> {
  // The plugin tags its own child logger with component "json-rpc".
  await app.register(jsonRpcPcscPlugin, {
    rm: opts.ctx.rm,
    logger: opts.ctx.logger,
    busyPollMicros: opts.ctx.config.pcscBusyPollMicros,
    faults: opts.faults,
    deviceFaults: opts.ctx.deviceFaults,
    schema,
    plainHttpHandler: async (request) => {
      throw new errors.VSCR_ERR_UPGRADE_REQUIRED(request.url.split('?')[0]);
    },
  });
}
