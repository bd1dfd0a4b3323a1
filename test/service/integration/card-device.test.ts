// A card chooses its crypto device at insert (POST /v1/readers/:reader/card { device }): its applet's crypto then
// runs on that device and no other, and an unknown device is refused before anything is created.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, RpcClient, startTestService, SHA256_123, type TestService } from './harness.js';
import { PSO_HASH_123, READER0, READER1, SELECT_CRYPTO_APPLET, connect, establish, transmit } from './pcsc-helpers.js';

let svc: TestService;
let rpc: RpcClient;

beforeAll(async () => {
  svc = await startTestService({
    pcsc: false,
    devices: [
      { keyString: 'secret', engine: 'native', guestMemoryMiB: 16, interruptMode: 'msi-multi' },
      { keyString: 'other', engine: 'native', guestMemoryMiB: 16, interruptMode: 'msi' },
    ],
  });
  rpc = await RpcClient.connect(svc.url);
});

afterAll(async () => {
  await rpc?.close();
  await svc?.close();
});

async function hashOn(reader: string): Promise<{ rv: number; data: string; sw: string }> {
  const c = await connect(rpc, await establish(rpc), reader);
  expect(c.rv).toBe(0);
  expect(await transmit(rpc, c.hCard, c.protocol, SELECT_CRYPTO_APPLET)).toMatchObject({ rv: 0, sw: '9000' });
  return transmit(rpc, c.hCard, c.protocol, PSO_HASH_123);
}

describe('a card on a crypto device of its choice', () => {
  it('refuses an unknown device with 404 VSCR_ERR_UNKNOWN_DEVICE and a negative one with 400, inserting nothing', async () => {
    const unknown = await json<{ code: string }>(svc.url, '/v1/readers/1/card', { method: 'POST', json: { device: 2 } });
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('VSCR_ERR_UNKNOWN_DEVICE');
    const negative = await json<{ code: string }>(svc.url, '/v1/readers/1/card', { method: 'POST', json: { device: -1 } });
    expect(negative.status).toBe(400);
    const { readers } = (await json<{ readers: { index: number; cardPresent: boolean }[] }>(svc.url, '/v1/readers')).body;
    expect(readers.find((r) => r.index === 1)?.cardPresent).toBe(false);
  });

  it('a card inserted with device 1 hashes on device 1: an error latched there reaches it, not the card on device 0', async () => {
    const inserted = await json(svc.url, '/v1/readers/1/card', { method: 'POST', json: { profile: 'default', device: 1 } });
    expect(inserted.status).toBe(201);
    expect(await hashOn(READER1)).toEqual({ rv: 0, data: SHA256_123, sw: '9000' });

    const armed = await json(svc.url, '/v1/devices/1/faults', { method: 'POST', json: { kind: 'latched-error', now: true } });
    expect(armed.status).toBe(201);
    expect(await hashOn(READER1)).toEqual({ rv: 0, data: '', sw: '6f00' });
    expect(await hashOn(READER0)).toEqual({ rv: 0, data: SHA256_123, sw: '9000' });

    expect((await json(svc.url, '/v1/devices/1/reset', { method: 'POST' })).status).toBe(200);
    expect(await hashOn(READER1)).toEqual({ rv: 0, data: SHA256_123, sw: '9000' });
    const metrics = await (await fetch(`${svc.url}/metrics`)).text();
    expect(metrics).toMatch(/vscr_device_operations_total\{caller="card",device="1",op="sha256"\} [1-9]/);
  });
});
