// The REST shapes clients and the service share (docs/service.md "Routes"): each written once as the JSON schema
// fastify validates and serializes with (and /docs publishes), its TypeScript type derived from the schema. A
// schema change is a compile error wherever the service builds the shape or the SDK reads it.
// Data and types only: json-schema-to-ts is a type-level import, erased from the JavaScript browsers load.

import type { FromSchema } from 'json-schema-to-ts';

export const ERROR_SCHEMA_ID = 'VscrError';

export const errorSchema = {
  $id: ERROR_SCHEMA_ID,
  type: 'object',
  description: 'The one error shape of every 4xx/5xx answer (codes in docs/errors.md).',
  required: ['error', 'code', 'message'],
  additionalProperties: false,
  properties: {
    error: { type: 'string', description: 'HTTP reason phrase' },
    code: { type: 'string', description: 'VSCR_ERR_* code' },
    message: { type: 'string', description: 'what went wrong and what to do' },
    ntstatus: { type: 'string', description: 'the driver NTSTATUS name, when one applies' },
    scard: { type: 'string', description: 'the SCARD_* name, when one applies' },
  },
} as const;

export const deviceStatusSchema = {
  type: 'object',
  required: ['state', 'stateName', 'errorCode', 'errorName'],
  additionalProperties: false,
  properties: {
    state: { type: 'integer' },
    stateName: { type: 'string' },
    errorCode: { type: 'integer' },
    errorName: { type: 'string' },
  },
} as const;

export const deviceSchema = {
  type: 'object',
  required: ['id', 'vendorId', 'deviceId', 'revision', 'engine', 'interruptMode', 'guestMemoryBytes', 'state', 'stateName', 'errorCode', 'errorName'],
  additionalProperties: false,
  properties: {
    id: { type: 'integer' },
    vendorId: { type: 'integer' },
    deviceId: { type: 'integer' },
    revision: { type: 'integer' },
    engine: { type: 'string', enum: ['native', 'noble'] },
    interruptMode: { type: 'string', enum: ['intx', 'msi', 'msi-multi'] },
    guestMemoryBytes: { type: 'integer' },
    maxRequestBytes: { type: 'integer', description: 'the largest request body the device accepts' },
    ...deviceStatusSchema.properties,
  },
} as const;

export const readerSchema = {
  type: 'object',
  required: ['index', 'name', 'state', 'stateNames', 'cardPresent', 'atr', 'protocol', 'eventCounter', 'sharing', 'published', 'failure', 'variant', 'profile'],
  additionalProperties: false,
  properties: {
    index: { type: 'integer', description: 'unit number; usable as :reader' },
    name: { type: 'string', description: 'pcsc-lite reader name; usable as :reader' },
    symbolicLink: { type: 'string', description: 'the reader\'s device interface path' },
    state: { type: 'integer', description: 'READER_STATE bits' },
    stateNames: { type: 'array', items: { type: 'string' } },
    cardPresent: { type: 'boolean' },
    atr: { type: ['string', 'null'], description: 'hex, null with no card' },
    protocol: { type: 'integer' },
    eventCounter: { type: 'integer' },
    sharing: { type: 'integer', description: '-1 exclusive, 0 none, N shared handles' },
    published: { type: 'boolean' },
    failure: { type: ['string', 'null'] },
    variant: { type: 'string', enum: ['correct', 'forum-broken'] },
    profile: { type: ['string', 'null'] },
    pinpad: { type: 'boolean', description: 'a PIN-pad reader (docs/pinpad.md)' },
  },
} as const;

/** POST /v1/readers. */
export const addReaderBodySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    vendorName: { type: 'string', minLength: 1, maxLength: 32, pattern: '^[\\x20-\\x7e]+$' },
    ifdType: { type: 'string', minLength: 1, maxLength: 32, pattern: '^[\\x20-\\x7e]+$' },
    variant: { type: 'string', enum: ['correct', 'forum-broken'] },
    pinpad: { type: 'boolean', description: 'add a PIN-pad reader (docs/pinpad.md)' },
  },
} as const;

/** The body of every 4xx/5xx answer. */
export type RestError = FromSchema<typeof errorSchema>;
/** GET /v1/devices/:id/status and POST …/reset. */
export type RestDeviceStatus = FromSchema<typeof deviceStatusSchema>;
/** One entry of GET /v1/devices. */
export type RestDevice = FromSchema<typeof deviceSchema>;
/** A reader as GET /v1/readers and every reader-changing route answer it. */
export type RestReader = FromSchema<typeof readerSchema>;
export type RestAddReaderBody = FromSchema<typeof addReaderBodySchema>;
