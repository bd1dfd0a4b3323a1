// The lazy schema compilers answer exactly like fastify's defaults: the same 400 for a body that fails its
// schema, the same defaults filled in, the same serialized 200 (unknown response fields dropped).

import Fastify, { type FastifyInstance } from 'fastify';
import { describe, expect, it } from 'vitest';
import { lazySerializerFactory, lazyValidatorFactory } from '../../../service/http/lazy-schema-compilers.js';

const shared = { $id: 'item', type: 'object', required: ['name'], properties: { name: { type: 'string', minLength: 1 }, count: { type: 'integer', default: 1 } } };

function build(lazy: boolean): FastifyInstance {
  const app = Fastify({
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: true } },
    ...(lazy ? { schemaController: { compilersFactory: { buildValidator: lazyValidatorFactory(), buildSerializer: lazySerializerFactory() } } } : {}),
  });
  app.addSchema(shared);
  app.post('/items/:id', {
    schema: {
      params: { type: 'object', properties: { id: { type: 'string', pattern: '^[0-9]+$' } } },
      querystring: { type: 'object', properties: { verbose: { type: 'boolean' } }, additionalProperties: false },
      body: { $ref: 'item#' },
      response: { 200: { type: 'object', properties: { id: { type: 'string' }, item: { $ref: 'item#' } } } },
    },
  }, async (request) => ({ id: (request.params as { id: string }).id, item: request.body, secret: 'not in the schema' }));
  return app;
}

const cases = [
  { name: 'valid body, default filled', url: '/items/7', payload: { name: 'a' } },
  { name: 'missing required field', url: '/items/7', payload: { count: 2 } },
  { name: 'wrong type', url: '/items/7', payload: { name: 'a', count: 'x' } },
  { name: 'bad params', url: '/items/x', payload: { name: 'a' } },
  { name: 'unknown query field', url: '/items/7?other=1', payload: { name: 'a' } },
];

describe('lazy schema compilers', () => {
  it.each(cases)('$name: same answer as fastify’s default compilers', async ({ url, payload }) => {
    const eager = build(false);
    const lazy = build(true);
    try {
      // Twice: the first call compiles, the second uses the compiled function.
      for (let i = 0; i < 2; i++) {
        const a = await eager.inject({ method: 'POST', url, payload });
        const b = await lazy.inject({ method: 'POST', url, payload });
        expect(b.statusCode).toBe(a.statusCode);
        expect(b.json()).toEqual(a.json());
      }
    } finally {
      await eager.close();
      await lazy.close();
    }
  });

  it('fills defaults and drops unknown response fields', async () => {
    const lazy = build(true);
    try {
      const res = await lazy.inject({ method: 'POST', url: '/items/7', payload: { name: 'a' } });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ id: '7', item: { name: 'a', count: 1 } });
      const bad = await lazy.inject({ method: 'POST', url: '/items/7', payload: { count: 2 } });
      expect(bad.statusCode).toBe(400);
      expect(bad.json().message).toBe("body must have required property 'name'");
    } finally {
      await lazy.close();
    }
  });
});
