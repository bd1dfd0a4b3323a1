// Driver NTSTATUS over REST: a sticky device error (docs/crypto-device.md: OUT too small → DMA error) makes the next
// request 502 VSCR_ERR_DEVICE_DATA_ERROR naming STATUS_DEVICE_DATA_ERROR; the advised reset clears it.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IOCTL_CRYPTO_DEVICE_AES_CBC_ENCRYPT } from '../../../crypto-device/index.js';
import { SHA256_123, expectHealthy, json, startTestService, type TestService } from '../integration/harness.js';

let svc: TestService;
beforeAll(async () => {
  svc = await startTestService({ readers: 0, defaultCard: null });
});
afterAll(async () => {
  await svc?.close();
});

/** BufferInOut: {u64 address, u32 size, u32 pad} × 2, little-endian (docs/crypto-device.md "The driver"). */
function bufferInOut(inAddr: bigint, inSize: number, outAddr: bigint, outSize: number): Uint8Array {
  const b = new DataView(new ArrayBuffer(32));
  b.setBigUint64(0, inAddr, true);
  b.setUint32(8, inSize, true);
  b.setBigUint64(16, outAddr, true);
  b.setUint32(24, outSize, true);
  return new Uint8Array(b.buffer);
}

describe('device errors over REST', () => {
  it('DMA error → 502 with ntstatus and reset advice; POST reset clears it', async () => {
    const control = svc.service.devices[0];
    const input = control.allocUserBuffer(100);
    const output = control.allocUserBuffer(99);
    try {
      const r = await control.ioControl(IOCTL_CRYPTO_DEVICE_AES_CBC_ENCRYPT, bufferInOut(input.address, 100, output.address, 99), 0);
      expect(r.status >>> 0).toBe(0xc000009c);
    } finally {
      input.release();
      output.release();
    }
    expect((await json(svc.url, '/v1/devices/0/status')).body).toMatchObject({ errorCode: 1, errorName: 'DMA error' });

    const failed = await json<Record<string, string>>(svc.url, '/v1/devices/0/sha256', { method: 'POST', json: { data: '123', encoding: 'utf8' } });
    expect(failed.status).toBe(502);
    expect(failed.body).toMatchObject({ error: 'Bad Gateway', code: 'VSCR_ERR_DEVICE_DATA_ERROR', ntstatus: 'STATUS_DEVICE_DATA_ERROR' });
    expect(failed.body.message).toContain('POST /v1/devices/0/reset');
    await expectHealthy(svc.url);

    expect((await json(svc.url, '/v1/devices/0/reset', { method: 'POST' })).body).toMatchObject({ errorCode: 0, errorName: 'no error' });
    expect((await json(svc.url, '/v1/devices/0/sha256', { method: 'POST', json: { data: '123', encoding: 'utf8' } })).body).toEqual({ digest: SHA256_123 });
    const metrics = await (await fetch(`${svc.url}/metrics`)).text();
    expect(metrics).toMatch(/^vscr_device_errors_total\{device="0",op="sha256",status="STATUS_DEVICE_DATA_ERROR"\} 1$/m);
  });
});
