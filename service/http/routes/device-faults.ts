// /v1/devices/:id/faults: arm, list and clear faults on a crypto device (docs/faults.md "Device faults").

import type { FastifyInstance } from 'fastify';
import { DEVICE_FAULT_REQUEST_SCHEMA, DEVICE_FAULT_TRIGGER_SCHEMA, DeviceFaultSpecError } from '../../../crypto-device/index.js';
import type { DeviceFaultRequest } from '../../runtime/device-faults.js';
import type { AppContext } from '../context.js';
import { errors } from '../errors.js';
import { deviceParamsSchema, errorResponses } from '../schemas.js';

interface DeviceParams { id: string }

const faultSchema = {
  type: 'object',
  required: ['id', 'device', 'kind', 'once', 'trigger', 'seen', 'fired', 'spec'],
  properties: {
    id: { type: 'integer' },
    device: { type: 'integer' },
    kind: { type: 'string' },
    once: { type: 'boolean' },
    trigger: { anyOf: [DEVICE_FAULT_TRIGGER_SCHEMA, { type: 'null' }] },
    seen: { type: 'integer', description: 'commands seen while armed that the fault could act on' },
    fired: { type: 'integer' },
    spec: { type: 'object', additionalProperties: true },
  },
} as const;

const clearedSchema = { type: 'object', required: ['cleared'], properties: { cleared: { type: 'integer' } } } as const;

export async function deviceFaultRoutes(app: FastifyInstance, opts: { ctx: AppContext }): Promise<void> {
  const { ctx } = opts;
  const host = ctx.deviceFaults;

  const deviceOf = (id: string): number => {
    // Canonical decimal, as the device routes take it.
    const index = /^(0|[1-9]\d{0,2})$/.test(id) ? Number(id) : -1;
    if (!host.has(index)) throw new errors.VSCR_ERR_UNKNOWN_DEVICE(JSON.stringify(id));
    return index;
  };

  app.get<{ Params: DeviceParams }>('/v1/devices/:id/faults', {
    schema: {
      tags: ['faults'],
      summary: 'The faults armed on a crypto device',
      params: deviceParamsSchema,
      response: { 200: { type: 'object', required: ['faults'], properties: { faults: { type: 'array', items: faultSchema } } }, ...errorResponses },
    },
  }, async (request) => ({ faults: host.list(deviceOf(request.params.id)) }));

  app.post<{ Params: DeviceParams; Body: DeviceFaultRequest }>('/v1/devices/:id/faults', {
    schema: {
      tags: ['faults'],
      summary: 'Arm a fault on a crypto device (or, with "now", latch an error or hang the device at once)',
      params: deviceParamsSchema,
      body: DEVICE_FAULT_REQUEST_SCHEMA,
      response: { 201: { type: 'object', required: ['fault'], properties: { fault: faultSchema } }, ...errorResponses },
    },
  }, async (request, reply) => {
    const device = deviceOf(request.params.id);
    try {
      return await reply.code(201).send({ fault: host.arm(device, request.body) });
    } catch (err) {
      if (err instanceof DeviceFaultSpecError) throw new errors.VSCR_ERR_BAD_FAULT(err.message);
      throw err;
    }
  });

  app.delete<{ Params: DeviceParams }>('/v1/devices/:id/faults', {
    schema: {
      tags: ['faults'],
      summary: 'Clear every fault armed on a crypto device (a hang one caused ends)',
      params: deviceParamsSchema,
      response: { 200: clearedSchema, ...errorResponses },
    },
  }, async (request) => ({ cleared: host.clear(deviceOf(request.params.id)) }));

  app.delete<{ Params: DeviceParams & { fault: string } }>('/v1/devices/:id/faults/:fault', {
    schema: {
      tags: ['faults'],
      summary: 'Clear one armed device fault',
      params: { type: 'object', required: ['id', 'fault'], properties: { ...deviceParamsSchema.properties, fault: { type: 'string', pattern: '^[0-9]{1,9}$' } } },
      response: { 200: clearedSchema, ...errorResponses },
    },
  }, async (request) => {
    const cleared = host.clear(deviceOf(request.params.id), Number(request.params.fault));
    if (cleared === 0) throw new errors.VSCR_ERR_UNKNOWN_DEVICE_FAULT(request.params.fault, request.params.id);
    return { cleared };
  });
}
