// /v1/devices: list, status, reset, SHA-256 and AES-CBC on the emulated crypto devices (raw or JSON bodies).

import { performance } from 'node:perf_hooks';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { aesOutputSize, type CryptoDeviceControl } from '../../../crypto-device/lib/contract.js';
import { countDeviceOp } from '../../runtime/devices.js';
import type { AppContext } from '../context.js';
import { answerForm, decodeData, type DataEncoding } from '../encoding.js';
import { errors } from '../errors.js';
import { useLenientJsonParser } from '../lenient-json.js';
import { addRawStreamParser, isRawBody, OCTET_STREAM, readRawInto, type RawInput } from '../raw-body.js';
import { dataBodySchema, deviceParamsSchema, deviceSchema, deviceStatusSchema, errorResponses } from '../schemas.js';

interface DeviceParams { id: string }
interface DataBody { data: string; encoding?: DataEncoding }

const binary = { type: 'string', format: 'binary' } as const;
const rawOrJsonBody = {
  content: {
    'application/json': { schema: dataBodySchema },
    // No type: the parser hands the handler a stream, which a `string` schema would reject; the route checks it.
    [OCTET_STREAM]: { schema: { description: 'raw bytes (format binary), streamed into guest memory' } },
  },
} as const;

/** A 200 answered as JSON `{ <field>: <hex> }`, or as the raw bytes when the client asks for them. */
function jsonOrBytesResponse(description: string, field: string, fieldDescription: string) {
  return {
    description,
    content: {
      'application/json': { schema: { type: 'object', required: [field], properties: { [field]: { type: 'string', description: fieldDescription } } } },
      [OCTET_STREAM]: { schema: binary },
    },
  } as const;
}

/**
 * The JSON parser here reads an empty body as "no body" (so `POST …/reset` may send one); for the data routes a
 * JSON request without a body is a malformed body (docs/errors.md), not a schema mismatch.
 */
function emptyJsonIsBadJson(request: FastifyRequest, _reply: FastifyReply, done: (err?: Error) => void): void {
  if (request.body === undefined && /^application\/json\b/i.test(request.headers['content-type'] ?? '')) {
    done(new errors.VSCR_ERR_BAD_JSON('the body is empty; send {"data": "..."}'));
  } else {
    done();
  }
}

export async function deviceRoutes(app: FastifyInstance, opts: { ctx: AppContext }): Promise<void> {
  const { ctx } = opts;
  // Only JSON and raw bytes here: fastify's default text/plain parser would hand the routes a string.
  app.removeContentTypeParser('text/plain');
  addRawStreamParser(app);
  useLenientJsonParser(app);

  const deviceOf = (id: string): { control: CryptoDeviceControl; index: number } => {
    // Canonical decimal only: "00" or "000" is not device 0 (ids are compared as the listing prints them).
    const index = /^(0|[1-9]\d{0,2})$/.test(id) ? Number(id) : -1;
    const control = ctx.devices[index];
    if (control === undefined) throw new errors.VSCR_ERR_UNKNOWN_DEVICE(JSON.stringify(id));
    return { control, index };
  };

  app.get('/v1/devices', {
    schema: {
      tags: ['devices'],
      summary: 'List the emulated PCI crypto devices',
      response: { 200: { type: 'object', required: ['devices'], properties: { devices: { type: 'array', items: deviceSchema } } }, ...errorResponses },
    },
  }, async () => {
    const devices = [];
    for (const [id, control] of ctx.devices.entries()) {
      const status = await control.getStatus();
      const { info } = control;
      devices.push({
        id,
        vendorId: info.vendorId,
        deviceId: info.deviceId,
        revision: info.revision,
        engine: info.engine,
        interruptMode: info.interruptMode,
        guestMemoryBytes: info.guestMemoryBytes,
        maxRequestBytes: control.maxRequestBytes,
        ...status,
      });
    }
    return { devices };
  });

  app.get<{ Params: DeviceParams }>('/v1/devices/:id/status', {
    schema: { tags: ['devices'], summary: 'Read the State and ErrorCode registers', params: deviceParamsSchema, response: { 200: deviceStatusSchema, ...errorResponses } },
  }, async (request) => {
    const { control } = deviceOf(request.params.id);
    return control.getStatus();
  });

  app.post<{ Params: DeviceParams }>('/v1/devices/:id/reset', {
    schema: { tags: ['devices'], summary: 'Reset the device (cancels a running request)', params: deviceParamsSchema, response: { 200: deviceStatusSchema, ...errorResponses } },
  }, async (request) => {
    const { control, index } = deviceOf(request.params.id);
    await countDeviceOp(ctx.metrics, index, 'reset', 'http', 0, () => control.reset());
    const status = await control.getStatus();
    request.log.info({ device: index }, 'device reset');
    ctx.events.emitDevice({ type: 'device-reset', device: index, ...status });
    return status;
  });

  /** The body as a user buffer (raw) or bytes (JSON), checked against the device's request limit. */
  const inputOf = async (request: FastifyRequest, control: CryptoDeviceControl): Promise<{ raw: boolean; input: RawInput | Uint8Array }> => {
    if (isRawBody(request.body)) return { raw: true, input: await readRawInto(request, request.body, control, control.maxRequestBytes) };
    const body = request.body as DataBody | undefined;
    if (typeof body !== 'object' || body === null || typeof body.data !== 'string') {
      throw new errors.VSCR_ERR_UNSUPPORTED_MEDIA_TYPE(JSON.stringify(request.headers['content-type'] ?? 'none'));
    }
    const bytes = decodeData(body.data, body.encoding);
    if (bytes.length > control.maxRequestBytes) throw new errors.VSCR_ERR_BODY_TOO_LARGE(String(control.maxRequestBytes));
    return { raw: false, input: bytes };
  };
  const lengthOf = (input: RawInput | Uint8Array): number => input.length;
  const release = (input: RawInput | Uint8Array): void => {
    if (!(input instanceof Uint8Array)) input.release();
  };

  app.post<{ Params: DeviceParams }>('/v1/devices/:id/sha256', {
    schema: {
      tags: ['crypto'],
      summary: 'SHA-256 on the device',
      description: 'Raw application/octet-stream bodies (up to maxRequestBytes) are streamed into guest memory; JSON `{data, encoding}` is for small inputs. `Accept: application/octet-stream` answers the 32 raw bytes.',
      params: deviceParamsSchema,
      body: rawOrJsonBody,
      response: {
        200: jsonOrBytesResponse('the digest', 'digest', '64 hex digits'),
        ...errorResponses,
      },
    },
    preValidation: emptyJsonIsBadJson,
  }, async (request, reply) => {
    const { control, index } = deviceOf(request.params.id);
    const form = answerForm(request, 'json');
    // Timed only for the debug line (two clock reads and its object on every request otherwise).
    const timed = ctx.logger.isLevelEnabled('debug');
    const t0 = timed ? performance.now() : 0;
    const { input } = await inputOf(request, control);
    const t1 = timed ? performance.now() : 0;
    let digest: Uint8Array;
    try {
      const data = input instanceof Uint8Array ? input : (input.buffer ?? new Uint8Array(0));
      digest = await countDeviceOp(ctx.metrics, index, 'sha256', 'http', lengthOf(input), () => control.sha256(data));
    } finally {
      release(input);
    }
    if (timed) request.log.debug({ bytes: lengthOf(input), receiveMs: round(t1 - t0), deviceMs: round(performance.now() - t1) }, 'sha256 done');
    return sendBytes(reply, form, digest, 'digest');
  });

  for (const direction of ['encrypt', 'decrypt'] as const) {
    app.post<{ Params: DeviceParams }>(`/v1/devices/:id/aes-cbc/${direction}`, {
      schema: {
        tags: ['crypto'],
        summary: `AES-256-CBC ${direction} on the device`,
        description: 'Zero padding to a multiple of 16, fixed IV, key = SHA-256(key string) (docs/crypto-device.md "AES-256-CBC"). Raw in → raw out; JSON in → `{data: hex}` out; Accept overrides.',
        params: deviceParamsSchema,
        body: rawOrJsonBody,
        response: {
          200: jsonOrBytesResponse(`the ${direction}ed bytes (roundup16(input) long)`, 'data', 'hex'),
          ...errorResponses,
        },
      },
      preValidation: emptyJsonIsBadJson,
    }, async (request, reply) => {
      const { control, index } = deviceOf(request.params.id);
      const { raw, input } = await inputOf(request, control);
      let output: Uint8Array;
      try {
        const form = answerForm(request, raw ? 'raw' : 'json');
        if (lengthOf(input) === 0) throw new errors.VSCR_ERR_EMPTY_INPUT();
        output = await countDeviceOp(ctx.metrics, index, `aes-cbc-${direction}`, 'http', lengthOf(input), async () => {
          if (input instanceof Uint8Array) return direction === 'encrypt' ? control.aesCbcEncrypt(input) : control.aesCbcDecrypt(input);
          // Large bodies stay in guest memory: input buffer → device → output buffer, one copy out at the end.
          const inBuf = input.buffer;
          if (inBuf === null) throw new errors.VSCR_ERR_EMPTY_INPUT();
          const outBuf = control.allocUserBuffer(aesOutputSize(input.length));
          try {
            await (direction === 'encrypt' ? control.aesCbcEncryptBuffer(inBuf, outBuf) : control.aesCbcDecryptBuffer(inBuf, outBuf));
            return outBuf.read();
          } finally {
            outBuf.release();
          }
        });
        return sendBytes(reply, form, output, 'data');
      } finally {
        release(input);
      }
    });
  }
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

function sendBytes(reply: FastifyReply, form: 'json' | 'raw', bytes: Uint8Array, field: 'digest' | 'data'): FastifyReply {
  if (form === 'raw') return reply.type(OCTET_STREAM).send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  return reply.type('application/json').send({ [field]: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex') });
}
