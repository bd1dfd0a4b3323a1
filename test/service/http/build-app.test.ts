// buildApp() without listen(): the app over real components, exercised with app.inject().

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../service/config/load-config.js';
import { openDevices, type OpenedDevices } from '../../../service/runtime/devices.js';
import { DeviceFaultHost } from '../../../service/runtime/device-faults.js';
import { EventHub } from '../../../service/runtime/events.js';
import { Metrics } from '../../../service/runtime/metrics.js';
import { SimHost } from '../../../service/sim/sim-host.js';
import { ReaderHost } from '../../../service/runtime/readers.js';
import { buildApp } from '../../../service/http/app.js';
import type { ResourceManagerApi } from '../../../service/rm/contract.js';
import { createResourceManager } from '../../../service/rm/index.js';
import { createReaderBus } from '../../../smcard/index.js';
import { SHA256_123 } from '../integration/harness.js';

let app: FastifyInstance;
let devices: OpenedDevices;
let rmApi: ResourceManagerApi;
let dataDir: string;
let shuttingDown = false;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'vscr-app-'));
  const logger = pino({ level: 'silent' });
  const config = resolveConfig({ dataDir, token: 'inject-token', readers: 1, badRequestLogIntervalMs: 0, device: { guestMemoryMiB: 64 } });
  const metrics = new Metrics();
  devices = await openDevices(config.devices, logger);
  const bus = createReaderBus({ logger });
  const readers = new ReaderHost({ bus, dataDir, logger, metrics });
  readers.addReaderNow();
  rmApi = createResourceManager({ bus, logger });
  readers.attachResourceManager(rmApi);
  await rmApi.ready();
  app = await buildApp({ config, logger, devices: devices.controls, deviceFaults: new DeviceFaultHost(devices.host, metrics, logger), readers, sim: new SimHost({ readers, logger }), rm: rmApi, events: new EventHub(rmApi), metrics, version: '9.9.9', startedAt: Date.now(), shuttingDown: () => shuttingDown });
  await app.ready();
});
afterAll(async () => {
  await app?.close();
  await rmApi?.shutdown();
  await devices?.close();
  await rm(dataDir, { recursive: true, force: true });
});

const auth = { authorization: 'Bearer inject-token' };

describe('buildApp + inject', () => {
  it('serves /health without a token and with the given version', async () => {
    const res = await app.inject({ method: 'GET', url: '/health' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'ok', version: '9.9.9' });
  });

  it('hashes an injected raw body', async () => {
    const res = await app.inject({ method: 'POST', url: '/v1/devices/0/sha256', payload: Buffer.from('123'), headers: { ...auth, 'content-type': 'application/octet-stream' } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ digest: SHA256_123 });
  });

  it('lists the reader with the RM view', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/readers', headers: auth });
    expect(res.json()).toMatchObject({ readers: [{ index: 0, name: 'vscr Virtual Reader 00 00', published: true, cardPresent: false }] });
  });

  it('401 without the token', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/readers' });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ code: 'VSCR_ERR_UNAUTHORIZED' });
  });

  it('503 VSCR_ERR_SHUTTING_DOWN once shutdown began', async () => {
    shuttingDown = true;
    try {
      const res = await app.inject({ method: 'GET', url: '/v1/devices', headers: auth });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toEqual({ error: 'Service Unavailable', code: 'VSCR_ERR_SHUTTING_DOWN', message: 'the service is shutting down' });
    } finally {
      shuttingDown = false;
    }
  });
});
