// /v1/readers: list, add and remove virtual readers, insert and remove cards, and read the IOCTL trace.

import type { FastifyInstance } from 'fastify';
import type { VirtualReader } from '../../../smcard/reader/contract.js';
import type { AppContext } from '../context.js';
import { errors } from '../errors.js';
import { useLenientJsonParser } from '../lenient-json.js';
import type { RestAddReaderBody } from '../../contract/rest.js';
import { addReaderBodySchema, errorResponses, readerParamsSchema, readerSchema } from '../schemas.js';

interface ReaderParams { reader: string }

const readerResponse = { type: 'object', required: ['reader'], properties: { reader: readerSchema } } as const;

const traceEntrySchema = {
  type: 'object',
  properties: {
    seq: { type: 'integer' },
    time: { type: 'number' },
    ioControlCode: { type: 'integer' },
    ioControlName: { type: 'string' },
    inputLength: { type: 'integer' },
    outputLength: { type: 'integer' },
    status: { type: 'integer' },
    statusName: { type: 'string' },
    information: { type: 'integer' },
    pending: { type: 'boolean' },
    durationMs: { type: 'number' },
    minorCode: { type: 'integer' },
  },
} as const;

/** Readers the service hosts at most: the pcsc-lite protocol's fixed reader table (docs/errors.md). */
export const MAX_READERS = 16;

export async function readerRoutes(app: FastifyInstance, opts: { ctx: AppContext }): Promise<void> {
  const { readers } = opts.ctx;

  // These bodies are all optional: no body, or an empty JSON one, means `{}`.
  useLenientJsonParser(app);
  app.addHook('preValidation', async (request) => {
    if (request.body === undefined || request.body === null) request.body = {};
  });

  const readerOf = (ref: string): VirtualReader => {
    const reader = readers.find(ref);
    if (reader === undefined) throw new errors.VSCR_ERR_UNKNOWN_READER(ref);
    return reader;
  };

  app.get('/v1/readers', {
    schema: {
      tags: ['readers'],
      summary: 'List the virtual readers with the resource manager state',
      response: { 200: { type: 'object', required: ['readers'], properties: { readers: { type: 'array', items: readerSchema } } }, ...errorResponses },
    },
  }, async () => ({ readers: readers.list() }));

  app.post<{ Body: RestAddReaderBody | undefined }>('/v1/readers', {
    schema: {
      tags: ['readers'],
      summary: 'Add a virtual reader (PnP arrival)',
      body: addReaderBodySchema,
      response: { 201: readerResponse, ...errorResponses },
    },
  }, async (request, reply) => {
    // pcsc-lite clients see at most 16 readers (READER_STATE[16]), so more could never be used over PC/SC.
    if (readers.list().length >= MAX_READERS) throw new errors.VSCR_ERR_TOO_MANY_READERS(String(MAX_READERS));
    const reader = await readers.addReader(request.body ?? {});
    return reply.code(201).send({ reader: readers.describe(reader) });
  });

  app.delete<{ Params: ReaderParams }>('/v1/readers/:reader', {
    schema: { tags: ['readers'], summary: 'Remove a virtual reader (surprise removal)', params: readerParamsSchema, response: { 204: { type: 'null' }, ...errorResponses } },
  }, async (request, reply) => {
    await readers.removeReader(readerOf(request.params.reader));
    return reply.code(204).send();
  });

  app.post<{ Params: ReaderParams; Body: { profile?: string; device?: number } | undefined }>('/v1/readers/:reader/card', {
    schema: {
      tags: ['readers'],
      summary: 'Insert a virtual card',
      params: readerParamsSchema,
      // Profile names are short; the cap keeps a huge name out of the error answer and the log.
      body: {
        type: 'object',
        additionalProperties: false,
        properties: {
          profile: { type: 'string', minLength: 1, maxLength: 64 },
          device: { type: 'integer', minimum: 0, maximum: 255, description: 'the crypto device the card uses (GET /v1/devices; default 0)' },
        },
      },
      response: { 201: readerResponse, ...errorResponses },
    },
  }, async (request, reply) => {
    const reader = readerOf(request.params.reader);
    const profile = request.body?.profile ?? 'default';
    const known = readers.profiles();
    if (!known.includes(profile)) throw new errors.VSCR_ERR_UNKNOWN_PROFILE(profile, known.join(', '));
    const device = request.body?.device ?? 0;
    if (!readers.hasDevice(device)) throw new errors.VSCR_ERR_UNKNOWN_DEVICE(String(device));
    if (reader.card !== null) throw new errors.VSCR_ERR_CARD_PRESENT(request.params.reader);
    const outcome = await readers.insertCard(reader, profile, device);
    if (outcome === 'occupied') throw new errors.VSCR_ERR_CARD_PRESENT(request.params.reader);
    if (outcome === 'gone') throw new errors.VSCR_ERR_UNKNOWN_READER(request.params.reader);
    return reply.code(201).send({ reader: readers.describe(reader) });
  });

  app.delete<{ Params: ReaderParams }>('/v1/readers/:reader/card', {
    schema: { tags: ['readers'], summary: 'Remove the card (its state is flushed to the data directory)', params: readerParamsSchema, response: { 200: readerResponse, ...errorResponses } },
  }, async (request) => {
    const reader = readerOf(request.params.reader);
    if (!(await readers.removeCard(reader))) throw new errors.VSCR_ERR_NO_CARD(request.params.reader);
    return { reader: readers.describe(reader) };
  });

  app.get<{ Params: ReaderParams }>('/v1/readers/:reader/trace', {
    schema: {
      tags: ['readers'],
      summary: 'The IOCTL trace ring buffer (JSON, or the debugger-log text with Accept: text/plain)',
      params: readerParamsSchema,
      response: {
        200: {
          content: {
            'application/json': { schema: { type: 'object', required: ['entries'], properties: { entries: { type: 'array', items: traceEntrySchema } } } },
            'text/plain': { schema: { type: 'string' } },
          },
        },
        ...errorResponses,
      },
    },
  }, async (request, reply) => {
    const reader = readerOf(request.params.reader);
    const accept = request.headers.accept ?? '';
    if (/text\/plain/i.test(accept) && !/application\/json/i.test(accept)) return reply.type('text/plain; charset=utf-8').send(reader.traceText());
    return reply.type('application/json').send({ entries: reader.trace() });
  });
}
