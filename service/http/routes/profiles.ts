// GET /v1/profiles: the built-in card profile names a card can be inserted with (the panel's profile picker).

import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.js';
import { errorResponses } from '../schemas.js';

export async function profileRoutes(app: FastifyInstance, opts: { ctx: AppContext }): Promise<void> {
  app.get('/v1/profiles', {
    schema: {
      tags: ['readers'],
      summary: 'The card profiles POST /v1/readers/:reader/card accepts, `default` first',
      response: { 200: { type: 'object', required: ['profiles'], properties: { profiles: { type: 'array', items: { type: 'string' } } } }, ...errorResponses },
    },
  }, async () => ({ profiles: opts.ctx.readers.profiles() }));
}
