// /v1/readers/:reader/faults: arm, list and clear faults on a reader (docs/faults.md).

import type { FastifyInstance } from 'fastify';
import type { VirtualReader } from '../../../smcard/reader/contract.js';
import { FaultSpecError } from '../../../smcard/reader/faults/reader-faults.js';
import { FAULT_REQUEST_SCHEMA, FAULT_TRIGGER_SCHEMA } from '../../../smcard/reader/faults/fault-request.js';
import type { ArmRequest, FaultHost } from '../../runtime/faults.js';
import type { AppContext } from '../context.js';
import { errors, type VscrError } from '../errors.js';
import { errorResponses, readerParamsSchema } from '../schemas.js';

interface ReaderParams { reader: string }

const faultSchema = {
  type: 'object',
  required: ['id', 'reader', 'kind', 'once', 'trigger', 'seen', 'fired', 'spec'],
  properties: {
    id: { type: 'integer' },
    reader: { type: 'integer' },
    kind: { type: 'string' },
    once: { type: 'boolean' },
    trigger: { anyOf: [FAULT_TRIGGER_SCHEMA, { type: 'null' }] },
    seen: { type: 'integer', description: 'APDUs seen while armed' },
    fired: { type: 'integer' },
    spec: { type: 'object', additionalProperties: true },
  },
} as const;

export async function faultRoutes(app: FastifyInstance, opts: { ctx: AppContext; faults: FaultHost }): Promise<void> {
  const { ctx, faults: host } = opts;

  const readerOf = (ref: string): VirtualReader => {
    const reader = ctx.readers.find(ref);
    if (reader === undefined) throw new errors.VSCR_ERR_UNKNOWN_READER(ref);
    return reader;
  };
  const specError = (err: unknown): never => {
    if (!(err instanceof FaultSpecError)) throw err;
    const e: VscrError = new errors.VSCR_ERR_BAD_FAULT(err.message);
    if (err.scard !== undefined) e.scard = err.scard;
    throw e;
  };

  app.get<{ Params: ReaderParams }>('/v1/readers/:reader/faults', {
    schema: {
      tags: ['faults'],
      summary: 'The faults armed on a reader',
      params: readerParamsSchema,
      response: { 200: { type: 'object', required: ['faults'], properties: { faults: { type: 'array', items: faultSchema } } }, ...errorResponses },
    },
  }, async (request) => ({ faults: host.list(readerOf(request.params.reader)) }));

  app.post<{ Params: ReaderParams; Body: ArmRequest }>('/v1/readers/:reader/faults', {
    schema: {
      tags: ['faults'],
      summary: 'Arm a fault on a reader (or, with "now", carry out an event fault at once)',
      params: readerParamsSchema,
      body: FAULT_REQUEST_SCHEMA,
      response: { 201: { type: 'object', required: ['fault'], properties: { fault: faultSchema } }, ...errorResponses },
    },
  }, async (request, reply) => {
    const reader = readerOf(request.params.reader);
    const fault = await host.arm(reader, request.body).catch(specError);
    return reply.code(201).send({ fault });
  });

  app.delete<{ Params: ReaderParams }>('/v1/readers/:reader/faults', {
    schema: {
      tags: ['faults'],
      summary: 'Clear every fault armed on a reader',
      params: readerParamsSchema,
      response: { 200: { type: 'object', required: ['cleared'], properties: { cleared: { type: 'integer' } } }, ...errorResponses },
    },
  }, async (request) => ({ cleared: host.clear(readerOf(request.params.reader)) }));

  app.delete<{ Params: ReaderParams & { id: string } }>('/v1/readers/:reader/faults/:id', {
    schema: {
      tags: ['faults'],
      summary: 'Clear one armed fault',
      params: { type: 'object', required: ['reader', 'id'], properties: { ...readerParamsSchema.properties, id: { type: 'string', pattern: '^[0-9]{1,9}$' } } },
      response: { 200: { type: 'object', required: ['cleared'], properties: { cleared: { type: 'integer' } } }, ...errorResponses },
    },
  }, async (request) => {
    const cleared = host.clear(readerOf(request.params.reader), Number(request.params.id));
    if (cleared === 0) throw new errors.VSCR_ERR_UNKNOWN_FAULT(request.params.id, request.params.reader);
    return { cleared };
  });
}
