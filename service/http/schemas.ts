// JSON schemas shared by the route plugins (the REST contract of docs/service.md "Routes"), registered once with
// addSchema. The shapes clients also read live in service/contract/rest.ts, with their types; re-exported here.

import { ERROR_SCHEMA_ID } from '../contract/rest.js';

export { ERROR_SCHEMA_ID, errorSchema, deviceStatusSchema, deviceSchema, readerSchema, addReaderBodySchema } from '../contract/rest.js';

export const errorRef = { $ref: `${ERROR_SCHEMA_ID}#` } as const;

/** Response entries every route shares: any 4xx/5xx has the error shape. */
export const errorResponses = { '4xx': errorRef, '5xx': errorRef } as const;

export const dataBodySchema = {
  type: 'object',
  required: ['data'],
  additionalProperties: false,
  properties: {
    // The JSON body limit (jsonBodyLimit, at most 64 MiB) bounds it first; this is the schema's own ceiling.
    data: { type: 'string', maxLength: 64 * 1024 * 1024, description: 'the input bytes, encoded as `encoding` says' },
    encoding: { type: 'string', enum: ['hex', 'base64', 'utf8'], default: 'hex' },
  },
} as const;

export const readerParamsSchema = {
  type: 'object',
  required: ['reader'],
  properties: { reader: { type: 'string', maxLength: 256, description: 'index (unit number) or exact reader name' } },
} as const;

export const deviceParamsSchema = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', maxLength: 3, description: 'device id from GET /v1/devices' } },
} as const;
