// JSON schemas shared by the route plugins (the REST contract of docs/service.md "Routes"), registered once with addSchema.

export const ERROR_SCHEMA_ID = 'VscrError';

export const errorSchema = {
  $id: ERROR_SCHEMA_ID,
  type: 'object',
  description: 'The one error shape of every 4xx/5xx answer (codes in docs/errors.md).',
  required: ['error', 'code', 'message'],
  properties: {
    error: { type: 'string', description: 'HTTP reason phrase' },
    code: { type: 'string', description: 'VSCR_ERR_* code' },
    message: { type: 'string', description: 'what went wrong and what to do' },
    ntstatus: { type: 'string', description: 'the driver NTSTATUS name, when one applies' },
    scard: { type: 'string', description: 'the SCARD_* name, when one applies' },
  },
} as const;

export const errorRef = { $ref: `${ERROR_SCHEMA_ID}#` } as const;

/** Response entries every route shares: any 4xx/5xx has the error shape. */
export const errorResponses = { '4xx': errorRef, '5xx': errorRef } as const;

export const deviceStatusSchema = {
  type: 'object',
  required: ['state', 'stateName', 'errorCode', 'errorName'],
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
  properties: {
    id: { type: 'integer' },
    vendorId: { type: 'integer' },
    deviceId: { type: 'integer' },
    revision: { type: 'integer' },
    engine: { type: 'string', enum: ['native', 'noble'] },
    interruptMode: { type: 'string', enum: ['intx', 'msi', 'msi-multi'] },
    guestMemoryBytes: { type: 'integer' },
    maxRequestBytes: { type: 'integer' },
    ...deviceStatusSchema.properties,
  },
} as const;

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

export const readerSchema = {
  type: 'object',
  required: ['index', 'name', 'state', 'stateNames', 'cardPresent', 'atr', 'protocol', 'eventCounter', 'sharing', 'published', 'failure', 'variant', 'profile'],
  properties: {
    index: { type: 'integer', description: 'unit number; usable as :reader' },
    name: { type: 'string', description: 'pcsc-lite reader name; usable as :reader' },
    symbolicLink: { type: 'string' },
    state: { type: 'integer', description: 'READER_STATE bits' },
    stateNames: { type: 'array', items: { type: 'string' } },
    cardPresent: { type: 'boolean' },
    atr: { type: ['string', 'null'], description: 'hex' },
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
