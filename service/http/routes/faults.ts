// /v1/readers/:reader/faults: arm, list and clear faults on a reader (docs/faults.md).

import type { FastifyInstance } from 'fastify';
import type { VirtualReader } from '../../../smcard/reader/contract.js';
import { FaultSpecError, MAX_FAULT_DELAY_MS, READER_FAULT_KINDS } from '../../../smcard/reader/faults/reader-faults.js';
import { type ArmRequest, FaultHost } from '../../runtime/faults.js';
import type { AppContext } from '../context.js';
import { errors } from '../errors.js';
import { errorResponses, readerParamsSchema } from '../schemas.js';

interface ReaderParams { reader: string }

const delay = { type: 'integer', minimum: 0, maximum: MAX_FAULT_DELAY_MS } as const;

const triggerSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    nth: { type: 'integer', minimum: 1, description: 'the Nth APDU after arming (1 = the next)' },
    match: { type: 'string', pattern: '^([0-9a-fA-F]{2}|\\.\\.){1,64}$', description: 'hex prefix of the command APDU; ".." matches any byte' },
    afterMs: { ...delay, description: 'not before this many ms after arming' },
    probability: { type: 'number', exclusiveMinimum: 0, maximum: 1 },
    seed: { type: 'integer', minimum: 0, maximum: 4294967295 },
  },
} as const;

const specProperties = {
  kind: { type: 'string', enum: [...READER_FAULT_KINDS] },
  trigger: triggerSchema,
  once: { type: 'boolean', description: 'one-shot (default) or until cleared' },
  now: { type: 'boolean', description: 'remove-card, unplug, reset-card: carry it out at once' },
  delayMs: { ...delay, description: 'slow: added delay; mute: how long the reader waits (default 2000)' },
  sw: { type: 'string', pattern: '^[0-9a-fA-F]{4}$' },
  corruption: { type: 'string', enum: ['bitflip', 'truncate'] },
  replugMs: { ...delay, description: 'unplug: plug back after this many ms' },
} as const;

const faultSchema = {
  type: 'object',
  required: ['id', 'reader', 'kind', 'once', 'trigger', 'seen', 'fired', 'spec'],
  properties: {
    id: { type: 'integer' },
    reader: { type: 'integer' },
    kind: { type: 'string' },
    once: { type: 'boolean' },
    trigger: { anyOf: [triggerSchema, { type: 'null' }] },
    seen: { type: 'integer', description: 'APDUs seen while armed' },
    fired: { type: 'integer' },
    spec: { type: 'object', additionalProperties: true },
  },
} as const;

export async function faultRoutes(app: FastifyInstance, opts: { ctx: AppContext }): Promise<void> {
  const { ctx } = opts;
  const host = new FaultHost(ctx.readers, () => ctx.rm, ctx.metrics, ctx.logger.child({ component: 'faults' }));

  const readerOf = (ref: string): VirtualReader => {
    const reader = ctx.readers.find(ref);
    if (reader === undefined) throw new errors.VSCR_ERR_UNKNOWN_READER(ref);
    return reader;
  };
  const specError = (err: unknown): never => {
    if (err instanceof FaultSpecError) throw new errors.VSCR_ERR_BAD_FAULT(err.message);
    throw err;
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
      body: { type: 'object', required: ['kind'], additionalProperties: false, properties: specProperties },
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
