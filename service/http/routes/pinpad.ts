// /v1/readers/:reader/pinpad: the keypad of a PIN-pad reader, driven from outside — digits, OK, Cancel, the
// correction key, and PINs queued for unattended tests (docs/pinpad.md). The digits are never echoed back.

import type { FastifyInstance } from 'fastify';
import { KEYPAD_MAX_DIGITS, KEYPAD_MAX_QUEUE, type Keypad, KeypadError, type KeypadStatus } from '../../../smcard/reader/pinpad/keypad.js';
import type { AppContext } from '../context.js';
import { errors } from '../errors.js';
import { useLenientJsonParser } from '../lenient-json.js';
import { errorResponses, readerParamsSchema } from '../schemas.js';

interface ReaderParams { reader: string }

/** The longest a GET may wait for the pad to start asking (ms). */
const MAX_PROMPT_WAIT_MS = 30_000;

const statusSchema = {
  type: 'object',
  required: ['prompting', 'stage', 'digitsEntered', 'maxDigits', 'queued', 'entries'],
  properties: {
    prompting: { type: 'boolean', description: 'an entry is waiting for keys' },
    stage: { type: ['string', 'null'], enum: ['pin', 'current', 'new', 'confirm', null] },
    digitsEntered: { type: 'integer', description: 'digits typed in this entry (never the digits themselves)' },
    maxDigits: { type: ['integer', 'null'] },
    queued: { type: 'integer' },
    entries: { type: 'integer', description: 'entries started since the reader was added' },
  },
} as const;

const pinpadResponse = { type: 'object', required: ['pinpad'], properties: { pinpad: statusSchema } } as const;
const digitsSchema = { type: 'string', minLength: 1, maxLength: KEYPAD_MAX_DIGITS, pattern: '^[0-9]+$' } as const;

/** Waits until the pad asks for a PIN, at most `ms`. */
function promptWithin(keypad: Keypad, ms: number): Promise<void> {
  if (keypad.status().prompting || ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      off();
      resolve();
    };
    const timer = setTimeout(done, ms);
    const off = keypad.onPrompt(done);
  });
}

export async function pinpadRoutes(app: FastifyInstance, opts: { ctx: AppContext }): Promise<void> {
  const { readers } = opts.ctx;
  useLenientJsonParser(app);
  app.addHook('preValidation', async (request) => {
    if (request.body === undefined || request.body === null) request.body = {};
  });

  const keypadOf = (ref: string): Keypad => {
    const reader = readers.find(ref);
    if (reader === undefined) throw new errors.VSCR_ERR_UNKNOWN_READER(ref);
    if (!reader.keypad) throw new errors.VSCR_ERR_NOT_PINPAD(ref);
    return reader.keypad;
  };

  /** Keypad refusals in the REST vocabulary. */
  const press = (ref: string, keypad: Keypad, action: () => void): KeypadStatus => {
    try {
      action();
    } catch (err) {
      if (err instanceof KeypadError && err.reason === 'idle') throw new errors.VSCR_ERR_PINPAD_IDLE(ref);
      if (err instanceof KeypadError && err.reason === 'queue-full') throw new errors.VSCR_ERR_PINPAD_QUEUE_FULL(ref, String(KEYPAD_MAX_QUEUE));
      throw err;
    }
    return keypad.status();
  };

  app.get<{ Params: ReaderParams; Querystring: { waitPrompt?: string } }>('/v1/readers/:reader/pinpad', {
    schema: {
      tags: ['pinpad'],
      summary: 'The keypad state; with waitPrompt=ms, first wait (up to 30 s) until the pad asks for a PIN',
      params: readerParamsSchema,
      // A string: the app does not coerce query values, and a number pattern keeps the schema exact.
      querystring: { type: 'object', additionalProperties: false, properties: { waitPrompt: { type: 'string', pattern: '^[0-9]{1,5}$', description: 'ms, at most 30000' } } },
      response: { 200: pinpadResponse, ...errorResponses },
    },
  }, async (request) => {
    const keypad = keypadOf(request.params.reader);
    await promptWithin(keypad, Math.min(Number(request.query.waitPrompt ?? 0), MAX_PROMPT_WAIT_MS));
    return { pinpad: keypad.status() };
  });

  app.post<{ Params: ReaderParams; Body: { digits?: string; key?: 'ok' | 'cancel' | 'clear' } }>('/v1/readers/:reader/pinpad', {
    schema: {
      tags: ['pinpad'],
      summary: 'Press keys on the pad: the digits first, then OK, Cancel or the correction key',
      params: readerParamsSchema,
      body: {
        type: 'object',
        additionalProperties: false,
        minProperties: 1,
        properties: { digits: digitsSchema, key: { type: 'string', enum: ['ok', 'cancel', 'clear'] } },
      },
      response: { 200: pinpadResponse, ...errorResponses },
    },
  }, async (request) => {
    const ref = request.params.reader;
    const keypad = keypadOf(ref);
    const { digits, key } = request.body;
    // Refuse the whole request up front rather than type half of it.
    if (!keypad.status().prompting) throw new errors.VSCR_ERR_PINPAD_IDLE(ref);
    const pinpad = press(ref, keypad, () => {
      if (digits !== undefined) keypad.type(digits);
      // Digits that filled a "complete at maximum size" entry already ended it: a following key has nothing to act on.
      if (key !== undefined && keypad.status().prompting) {
        if (key === 'ok') keypad.ok();
        else if (key === 'cancel') keypad.cancel();
        else keypad.clear();
      }
    });
    return { pinpad };
  });

  app.post<{ Params: ReaderParams; Body: { digits?: string; key?: 'ok' | 'cancel' } }>('/v1/readers/:reader/pinpad/queue', {
    schema: {
      tags: ['pinpad'],
      summary: 'Queue an entry for the next PIN prompt: digits then OK (default), or Cancel',
      params: readerParamsSchema,
      body: {
        type: 'object',
        additionalProperties: false,
        properties: { digits: digitsSchema, key: { type: 'string', enum: ['ok', 'cancel'] } },
      },
      response: { 201: pinpadResponse, ...errorResponses },
    },
  }, async (request, reply) => {
    const ref = request.params.reader;
    const keypad = keypadOf(ref);
    const key = request.body.key ?? 'ok';
    if (key === 'ok' && request.body.digits === undefined) throw new errors.VSCR_ERR_BAD_REQUEST('an entry ending with OK needs "digits"');
    const pinpad = press(ref, keypad, () => keypad.enqueue({ digits: request.body.digits ?? '', key }));
    return reply.code(201).send({ pinpad });
  });

  app.delete<{ Params: ReaderParams }>('/v1/readers/:reader/pinpad/queue', {
    schema: { tags: ['pinpad'], summary: 'Drop the queued entries', params: readerParamsSchema, response: { 200: pinpadResponse, ...errorResponses } },
  }, async (request) => {
    const keypad = keypadOf(request.params.reader);
    keypad.clearQueue();
    return { pinpad: keypad.status() };
  });
}
