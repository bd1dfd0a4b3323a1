// GET /v1/events: server-sent events of reader changes (`event: reader`) and device resets (`event: device`).

import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { METRIC } from '../../runtime/metrics.js';
import type { ServiceEvent } from '../../runtime/events.js';
import type { AppContext } from '../context.js';
import { errorResponses } from '../schemas.js';

const HEARTBEAT_MS = 15_000;

export async function eventRoutes(app: FastifyInstance, opts: { ctx: AppContext }): Promise<void> {
  const { ctx } = opts;
  const open = new Set<ServerResponse>();
  const sockets = new Set<Socket>();
  ctx.metrics.addCollector(() => ctx.metrics.set(...METRIC.sseClients, {}, open.size));

  // A hijacked stream never ends on its own; end them so close() does not wait on them forever.
  app.addHook('preClose', async () => {
    for (const res of open) res.end();
    open.clear();
    // An event-stream socket is never idle from the server's view, so close() would wait for the client.
    for (const socket of sockets) socket.destroy();
    sockets.clear();
  });

  app.get('/v1/events', {
    schema: {
      tags: ['events'],
      summary: 'Server-sent events: reader (snapshot, reader-added, reader-removed, card-inserted, card-removed, reader-changed) and device (device-reset)',
      response: { 200: { content: { 'text/event-stream': { schema: { type: 'string' } } } }, ...errorResponses },
    },
  }, (request, reply) => {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    let seq = 0;
    const send = (e: ServiceEvent): void => {
      seq += 1;
      res.write(`id: ${seq}\nevent: ${e.event}\ndata: ${JSON.stringify(e.data)}\n\n`);
    };
    open.add(res);
    const socket = request.raw.socket;
    if (!sockets.has(socket)) {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    }
    send(ctx.events.snapshot());
    const unsubscribe = ctx.events.subscribe(send);
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
    heartbeat.unref();
    const cleanup = (): void => {
      clearInterval(heartbeat);
      unsubscribe();
      open.delete(res);
    };
    res.on('close', cleanup);
    res.on('error', cleanup);
    request.log.debug('event stream opened');
  });
}

