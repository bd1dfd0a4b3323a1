// GET /v1/pcsc: mounts the JSON-RPC 2.0 PC/SC transport (service/rpc/json-rpc, owned by the RM engineer).
// @fastify/websocket itself is registered at the root by buildApp (see the comment there).

import type { FastifyInstance } from 'fastify';
import { jsonRpcPcscPlugin } from '../../rpc/json-rpc/index.js';
import type { AppContext } from '../context.js';

export async function pcscRpcRoutes(app: FastifyInstance, opts: { ctx: AppContext }): Promise<void> {
  // The plugin tags its own child logger with component "json-rpc".
  await app.register(jsonRpcPcscPlugin, { rm: opts.ctx.rm, logger: opts.ctx.logger });
}
