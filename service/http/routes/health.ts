// GET /health (liveness and versions) and GET /metrics (Prometheus text).

import type { FastifyInstance } from 'fastify';
import { METRIC } from '../../runtime/metrics.js';
import type { AppContext } from '../context.js';
import { errorResponses } from '../schemas.js';

export async function healthRoutes(app: FastifyInstance, opts: { ctx: AppContext }): Promise<void> {
  const { ctx } = opts;

  app.get('/health', {
    schema: {
      tags: ['service'],
      summary: 'Liveness and versions (no token needed)',
      response: {
        200: {
          type: 'object',
          required: ['status', 'version', 'node', 'uptimeSeconds'],
          properties: { status: { type: 'string', enum: ['ok'] }, version: { type: 'string' }, node: { type: 'string' }, uptimeSeconds: { type: 'number' } },
        },
        ...errorResponses,
      },
    },
  }, async () => ({ status: 'ok' as const, version: ctx.version, node: process.version, uptimeSeconds: Math.round((Date.now() - ctx.startedAt) / 10) / 100 }));

  app.get('/metrics', {
    schema: {
      tags: ['service'],
      summary: 'Prometheus text exposition: requests, device operations and bytes, APDUs, readers, cards',
      response: { 200: { content: { 'text/plain': { schema: { type: 'string' } } } }, ...errorResponses },
    },
  }, async (_request, reply) => {
    ctx.metrics.set(...METRIC.uptime, {}, Math.round((Date.now() - ctx.startedAt) / 1000));
    return reply.type('text/plain; version=0.0.4; charset=utf-8').send(ctx.metrics.render());
  });
}
