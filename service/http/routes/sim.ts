// /v1/readers/:reader/{transcript,script,replay,module}: a reader's transcript (JSON, scriptor text, JSON Lines,
// live SSE), scripted and replayed cards with their verdicts, and cards from TypeScript modules.

import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { VirtualReader } from '../../../smcard/reader/contract.js';
import { parseCardScript, ScriptError, type CardScript } from '../../../smcard/sim/card-script.js';
import { transcriptToScript, type ReplayMode } from '../../../smcard/sim/replay.js';
import {
  parseTranscriptJsonl,
  transcriptJsonl,
  transcriptScriptor,
  transcriptText,
  TranscriptFormatError,
  type TranscriptEntry,
} from '../../../smcard/sim/transcript.js';
import { PcscClientError } from '../../sim/pcsc-client.js';
import type { InsertOutcome } from '../../sim/sim-host.js';
import type { AppContext } from '../context.js';
import { errors, type VscrError } from '../errors.js';
import { useLenientJsonParser } from '../lenient-json.js';
import { errorResponses, readerParamsSchema, readerSchema } from '../schemas.js';

interface ReaderParams { reader: string }

const MAX_STREAMS = 64;
const HEARTBEAT_MS = 15_000;

export const transcriptEntrySchema = {
  type: 'object',
  required: ['seq', 'time', 'session', 'kind'],
  properties: {
    seq: { type: 'integer' },
    time: { type: 'number', description: 'ms since the epoch' },
    session: { type: 'integer', description: 'card session on this reader, +1 per insertion' },
    kind: { type: 'string', enum: ['insert', 'remove', 'power', 'protocol', 'apdu'] },
    profile: { type: 'string' },
    action: { type: 'string', enum: ['cold', 'warm', 'unpower'] },
    atr: { type: 'string' },
    protocol: { type: 'string', enum: ['T=0', 'T=1'] },
    command: { type: 'string', description: 'hex; masked PIN bytes are ??' },
    response: { type: 'string' },
    sw: { type: 'string' },
    meaning: { type: 'string' },
    durationMs: { type: 'number' },
    masked: { type: 'boolean' },
    context: { type: 'integer' },
    handle: { type: 'integer' },
    error: { type: 'string' },
  },
} as const;

const verdictSchema = {
  type: 'object',
  required: ['script', 'mode', 'strict', 'passed', 'complete', 'rules', 'consumed', 'unconsumed', 'exchanges', 'unmatched', 'stage', 'mismatch'],
  properties: {
    script: { type: 'string' },
    mode: { type: 'string', enum: ['ordered', 'unordered'] },
    strict: { type: 'boolean' },
    passed: { type: 'boolean' },
    complete: { type: 'boolean' },
    rules: { type: 'integer' },
    consumed: { type: 'integer' },
    unconsumed: {
      type: 'array',
      items: { type: 'object', properties: { index: { type: 'integer' }, line: { type: 'integer' }, name: { type: 'string' }, command: { type: 'string' } } },
    },
    exchanges: { type: 'integer' },
    unmatched: { type: 'integer' },
    stage: { type: 'string' },
    mismatch: {
      type: 'object',
      nullable: true,
      properties: {
        exchange: { type: 'integer' },
        expected: { type: 'array', items: { type: 'string' } },
        actual: { type: 'string' },
        stage: { type: 'string' },
        message: { type: 'string' },
      },
    },
  },
} as const;

const cardLoadedResponse = {
  type: 'object',
  required: ['reader'],
  properties: { reader: readerSchema, rules: { type: 'integer' }, script: { type: 'string' } },
} as const;

// Query values stay strings (the app does not coerce types), so they are checked as text and converted here.
const BOOL_QUERY = { type: 'string', enum: ['true', 'false'], description: 'remove the card in the reader first' } as const;
const INT_QUERY = { type: 'string', pattern: '^[0-9]{1,9}$' } as const;
const int = (v: string | undefined): number | undefined => (v === undefined ? undefined : Number(v));

const TEXT_TYPES = ['text/plain', 'text/yaml', 'application/yaml', 'application/x-yaml', 'application/x-ndjson', 'application/jsonl'];

export async function simRoutes(app: FastifyInstance, opts: { ctx: AppContext }): Promise<void> {
  const { readers, sim } = opts.ctx;
  useLenientJsonParser(app);
  // Scripts and transcripts may also come as the file itself: YAML, JSON Lines or plain text.
  app.addContentTypeParser(TEXT_TYPES, { parseAs: 'string' }, (_request, body, done) => done(null, body));

  const readerOf = (ref: string): VirtualReader => {
    const reader = readers.find(ref);
    if (reader === undefined) throw new errors.VSCR_ERR_UNKNOWN_READER(ref);
    return reader;
  };

  /** `?replace=true` takes the card out first; otherwise an occupied reader is a 409. */
  const prepare = async (reader: VirtualReader, ref: string, replace: 'true' | 'false' | undefined): Promise<void> => {
    if (reader.card === null) return;
    if (replace !== 'true') throw new errors.VSCR_ERR_CARD_PRESENT(ref);
    await readers.removeCard(reader);
  };
  const settle = (outcome: InsertOutcome | 'unknown', ref: string): void => {
    if (outcome === 'occupied') throw new errors.VSCR_ERR_CARD_PRESENT(ref);
    if (outcome === 'gone') throw new errors.VSCR_ERR_UNKNOWN_READER(ref);
  };

  const transcriptQuery = {
    type: 'object',
    additionalProperties: false,
    properties: {
      session: INT_QUERY,
      since: { ...INT_QUERY, description: 'only entries with a larger seq' },
      format: { type: 'string', enum: ['json', 'text', 'jsonl', 'scriptor'], description: 'default: json, or text with Accept: text/plain' },
    },
  } as const;

  app.get<{ Params: ReaderParams; Querystring: { session?: string; since?: string; format?: 'json' | 'text' | 'jsonl' | 'scriptor' } }>('/v1/readers/:reader/transcript', {
    schema: {
      tags: ['simulation'],
      summary: 'The reader\'s transcript: JSON, scriptor-style text (`>`/`<` lines), JSON Lines file, or a scriptor input script',
      params: readerParamsSchema,
      querystring: transcriptQuery,
      response: {
        200: {
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['reader', 'session', 'dropped', 'raw', 'entries'],
                properties: {
                  reader: { type: 'string' },
                  session: { type: 'integer', description: 'the current (last) session number' },
                  dropped: { type: 'integer', description: 'entries dropped to stay within the bounds' },
                  raw: { type: 'boolean', description: 'PIN bytes are recorded as sent' },
                  entries: { type: 'array', items: transcriptEntrySchema },
                },
              },
            },
            'text/plain': { schema: { type: 'string' } },
            'application/x-ndjson': { schema: { type: 'string' } },
          },
        },
        ...errorResponses,
      },
    },
  }, async (request, reply) => {
    const reader = readerOf(request.params.reader);
    const t = sim.transcriptOf(reader);
    const entries = t.list({ session: int(request.query.session), since: int(request.query.since) });
    const name = readers.describe(reader).name;
    const accept = request.headers.accept ?? '';
    const format = request.query.format ?? (/text\/plain/i.test(accept) && !/application\/json/i.test(accept) ? 'text' : 'json');
    if (format === 'text') return reply.type('text/plain; charset=utf-8').send(transcriptText(entries));
    if (format === 'scriptor') return reply.type('text/plain; charset=utf-8').send(transcriptScriptor(entries, `vscr transcript of "${name}"`));
    if (format === 'jsonl') {
      return reply.type('application/x-ndjson; charset=utf-8').send(transcriptJsonl(entries, { reader: name, created: new Date().toISOString(), ...(sim.raw ? { raw: true } : {}) }));
    }
    return reply.type('application/json').send({ reader: name, session: t.session, dropped: t.dropped, raw: sim.raw, entries });
  });

  app.delete<{ Params: ReaderParams }>('/v1/readers/:reader/transcript', {
    schema: { tags: ['simulation'], summary: 'Forget the reader\'s transcript entries', params: readerParamsSchema, response: { 204: { type: 'null' }, ...errorResponses } },
  }, async (request, reply) => {
    sim.transcriptOf(readerOf(request.params.reader)).clear();
    return reply.code(204).send();
  });

  const streams = new Set<ServerResponse>();
  app.addHook('preClose', async () => {
    for (const res of streams) res.destroy();
    streams.clear();
  });

  app.get<{ Params: ReaderParams; Querystring: { since?: string } }>('/v1/readers/:reader/transcript/events', {
    schema: {
      tags: ['simulation'],
      summary: 'Follow the transcript live (server-sent events: `event: entry`, data = one transcript entry)',
      params: readerParamsSchema,
      querystring: { type: 'object', additionalProperties: false, properties: { since: { ...INT_QUERY, description: 'first send the kept entries after this seq' } } },
      response: { 200: { content: { 'text/event-stream': { schema: { type: 'string' } } } }, ...errorResponses },
    },
  }, (request, reply: FastifyReply) => {
    const reader = readerOf(request.params.reader);
    if (streams.size >= MAX_STREAMS) throw new errors.VSCR_ERR_TOO_MANY_STREAMS(String(MAX_STREAMS));
    const t = sim.transcriptOf(reader);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-transform', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    streams.add(res);
    const send = (e: TranscriptEntry): void => {
      // A reader that does not keep up is cut off rather than buffered without bound.
      if (res.writableLength > 1024 * 1024) {
        res.destroy();
        return;
      }
      res.write(`id: ${e.seq}\nevent: entry\ndata: ${JSON.stringify(e)}\n\n`);
    };
    if (request.query.since !== undefined) for (const e of t.list({ since: int(request.query.since) })) send(e);
    res.write(': following\n\n');
    const unsubscribe = t.subscribe(send);
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
    heartbeat.unref();
    const cleanup = (): void => {
      clearInterval(heartbeat);
      unsubscribe();
      streams.delete(res);
    };
    res.on('close', cleanup);
    res.on('error', cleanup);
  });

  app.post<{ Params: ReaderParams; Querystring: { replace?: 'true' | 'false' }; Body: string | { script?: unknown } | undefined }>('/v1/readers/:reader/script', {
    schema: {
      tags: ['simulation'],
      summary: 'Insert a scripted card: the body is the script (YAML or JSON text), or {"script": <text or object>}',
      params: readerParamsSchema,
      querystring: { type: 'object', additionalProperties: false, properties: { replace: BOOL_QUERY } },
      response: { 201: cardLoadedResponse, ...errorResponses },
    },
  }, async (request, reply) => {
    const ref = request.params.reader;
    const reader = readerOf(ref);
    const body = request.body;
    // The script itself as the body (YAML text, or a JSON object with `rules`), or wrapped as {"script": …}.
    const source = typeof body === 'string' ? body : body && typeof body === 'object' ? ('script' in body ? body.script : 'rules' in body ? body : undefined) : undefined;
    if (source === undefined || source === null) throw new errors.VSCR_ERR_BAD_SCRIPT('send the script as the body (YAML or JSON) or as {"script": ...}');
    let script: CardScript;
    try {
      script = parseCardScript(typeof source === 'string' ? source : JSON.stringify(source, null, 1));
    } catch (err) {
      if (err instanceof ScriptError) throw new errors.VSCR_ERR_BAD_SCRIPT(err.message);
      throw err;
    }
    await prepare(reader, ref, request.query.replace);
    settle(await sim.insertScript(reader, script), ref);
    return reply.code(201).send({ reader: readers.describe(reader), rules: script.rules.length, script: script.name });
  });

  app.get<{ Params: ReaderParams }>('/v1/readers/:reader/script/verdict', {
    schema: {
      tags: ['simulation'],
      summary: 'The verdict of the reader\'s scripted or replayed card: all rules consumed, first mismatch (expected vs actual)',
      params: readerParamsSchema,
      response: { 200: { type: 'object', required: ['verdict'], properties: { verdict: verdictSchema } }, ...errorResponses },
    },
  }, async (request) => {
    const verdict = sim.verdict(readerOf(request.params.reader));
    if (verdict === null) throw new errors.VSCR_ERR_NO_SCRIPT(request.params.reader);
    return { verdict };
  });

  app.post<{ Params: ReaderParams; Querystring: { replace?: 'true' | 'false'; mode?: ReplayMode; session?: string }; Body: string | { transcript?: unknown; mode?: ReplayMode; session?: number } | undefined }>('/v1/readers/:reader/replay', {
    schema: {
      tags: ['simulation'],
      summary: 'Insert a card that replays a saved transcript (JSON Lines body, or {"transcript": <text>, "mode", "session"})',
      params: readerParamsSchema,
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          replace: BOOL_QUERY,
          mode: { type: 'string', enum: ['ordered', 'by-command'], default: 'ordered' },
          session: INT_QUERY,
        },
      },
      response: { 201: cardLoadedResponse, ...errorResponses },
    },
  }, async (request, reply) => {
    const ref = request.params.reader;
    const reader = readerOf(ref);
    const body = request.body;
    const wrapped = body && typeof body === 'object' ? body : undefined;
    const text = typeof body === 'string' ? body : wrapped?.transcript;
    if (typeof text !== 'string') throw new errors.VSCR_ERR_BAD_TRANSCRIPT('send the JSON Lines transcript as the body or as {"transcript": "..."}');
    const mode = wrapped?.mode ?? request.query.mode ?? 'ordered';
    if (mode !== 'ordered' && mode !== 'by-command') throw new errors.VSCR_ERR_BAD_TRANSCRIPT(`mode must be "ordered" or "by-command", not ${JSON.stringify(mode)}`);
    let script: CardScript;
    try {
      const { entries } = parseTranscriptJsonl(text);
      script = transcriptToScript(entries, { mode, session: wrapped?.session ?? int(request.query.session) });
    } catch (err) {
      if (err instanceof TranscriptFormatError || err instanceof ScriptError) throw new errors.VSCR_ERR_BAD_TRANSCRIPT(err.message);
      throw err;
    }
    await prepare(reader, ref, request.query.replace);
    settle(await sim.insertScript(reader, script, `replay:${mode}`), ref);
    return reply.code(201).send({ reader: readers.describe(reader), rules: script.rules.length, script: script.name });
  });

  app.post<{ Params: ReaderParams; Querystring: { replace?: 'true' | 'false' }; Body: { name?: string } | undefined }>('/v1/readers/:reader/module', {
    schema: {
      tags: ['simulation'],
      summary: 'Insert a card from a card module loaded at start-up (config cardModules / --card-module)',
      params: readerParamsSchema,
      querystring: { type: 'object', additionalProperties: false, properties: { replace: BOOL_QUERY } },
      body: { type: 'object', additionalProperties: false, required: ['name'], properties: { name: { type: 'string', minLength: 1, description: 'module:<file name>' } } },
      response: { 201: cardLoadedResponse, ...errorResponses },
    },
  }, async (request, reply) => {
    const ref = request.params.reader;
    const reader = readerOf(ref);
    const name = request.body?.name ?? '';
    if (!sim.moduleNames().includes(name)) throw new errors.VSCR_ERR_UNKNOWN_PROFILE(name, sim.moduleNames().join(', ') || '(no card modules loaded)');
    await prepare(reader, ref, request.query.replace);
    settle(await sim.insertModule(reader, name), ref);
    return reply.code(201).send({ reader: readers.describe(reader) });
  });

  const relaySchema = {
    type: 'object',
    required: ['socket', 'remoteReader', 'cardPresent'],
    properties: { socket: { type: 'string' }, remoteReader: { type: 'string' }, cardPresent: { type: 'boolean' } },
  } as const;

  app.post<{ Params: ReaderParams; Querystring: { replace?: 'true' | 'false' }; Body: { socket: string; reader?: string } }>('/v1/readers/:reader/relay', {
    schema: {
      tags: ['simulation'],
      summary: 'Relay a card of another PC/SC daemon (a pcscd or another vscr) into this reader, over its pcsc-lite socket',
      params: readerParamsSchema,
      querystring: { type: 'object', additionalProperties: false, properties: { replace: BOOL_QUERY } },
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['socket'],
        properties: {
          socket: { type: 'string', minLength: 1, maxLength: 107, description: 'the remote daemon\'s pcsc-lite socket path' },
          reader: { type: 'string', minLength: 1, maxLength: 127, description: 'remote reader name (default: its first reader)' },
        },
      },
      response: { 201: { type: 'object', required: ['reader', 'relay'], properties: { reader: readerSchema, relay: relaySchema } }, ...errorResponses },
    },
  }, async (request, reply) => {
    const ref = request.params.reader;
    const reader = readerOf(ref);
    if (opts.ctx.config.pcscSocket !== null && request.body.socket === opts.ctx.config.pcscSocket) {
      throw new errors.VSCR_ERR_BAD_REQUEST('a reader cannot relay this service\'s own socket (it would wait on itself)');
    }
    await prepare(reader, ref, request.query.replace);
    let relay;
    try {
      relay = await sim.startRelay(reader, request.body.socket, request.body.reader);
    } catch (err) {
      if (err instanceof PcscClientError) {
        const e: VscrError = new errors.VSCR_ERR_RELAY_FAILED(err.message);
        e.scard = err.scard;
        throw e;
      }
      throw err;
    }
    return reply.code(201).send({ reader: readers.describe(reader), relay });
  });

  app.get<{ Params: ReaderParams }>('/v1/readers/:reader/relay', {
    schema: {
      tags: ['simulation'],
      summary: 'The reader\'s relay, or null',
      params: readerParamsSchema,
      response: { 200: { type: 'object', required: ['relay'], properties: { relay: { ...relaySchema, nullable: true } } }, ...errorResponses },
    },
  }, async (request) => ({ relay: sim.relayStatus(readerOf(request.params.reader)) }));

  app.delete<{ Params: ReaderParams }>('/v1/readers/:reader/relay', {
    schema: { tags: ['simulation'], summary: 'Stop relaying (the relayed card is removed)', params: readerParamsSchema, response: { 204: { type: 'null' }, ...errorResponses } },
  }, async (request, reply) => {
    const reader = readerOf(request.params.reader);
    if (!(await sim.stopRelay(reader))) throw new errors.VSCR_ERR_NO_CARD(request.params.reader);
    return reply.code(204).send();
  });
}
