// CryptoDeviceHost: several devices per process (own key, engine, memory, interrupt mode), exclusive open,
// reset on close, listing (the console's `devices`).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CryptoDeviceHost, aesOutputSize } from '../../../crypto-device/index.js';
import { DEVICE_ERROR, DEVICE_STATE } from '../../../crypto-device/lib/contract.js';
import { deviceStatus, expectNtStatus, hex, refEncrypt, refSha256, waitUntil, withTimeout } from '../driver/harness.js';

const MiB = 1024 * 1024;

describe('CryptoDeviceHost', () => {
  const host = new CryptoDeviceHost();
  beforeAll(async () => {
    await host.addDevice({ keyString: 'secret', engine: 'native', guestMemoryBytes: 128 * MiB, interruptMode: 'msi-multi' });
    await host.addDevice({ keyString: 'another key', engine: 'noble', guestMemoryBytes: 32 * MiB, interruptMode: 'intx' });
    await host.addDevice({ engine: 'native', guestMemoryBytes: 16 * MiB, interruptMode: 'msi' });
  });
  afterAll(async () => {
    await host.shutdown();
  });

  it('lists every device with its identity, engine, interrupt mode and memory', () => {
    expect(host.list()).toEqual([
      { index: 0, vendorId: 0x1111, deviceId: 0x2222, revision: 0, engine: 'native', interruptMode: 'msi-multi', guestMemoryBytes: 128 * MiB },
      { index: 1, vendorId: 0x1111, deviceId: 0x2222, revision: 0, engine: 'noble', interruptMode: 'intx', guestMemoryBytes: 32 * MiB },
      { index: 2, vendorId: 0x1111, deviceId: 0x2222, revision: 0, engine: 'native', interruptMode: 'msi', guestMemoryBytes: 16 * MiB },
    ]);
  });

  it('devices with different key strings give different ciphertexts, each matching its own key', async () => {
    const data = new TextEncoder().encode('the same plaintext on three devices');
    const ctrls = await Promise.all([0, 1, 2].map((i) => host.open(i)));
    try {
      const [a, b, c] = await Promise.all(ctrls.map((ctrl) => ctrl.aesCbcEncrypt(data)));
      expect(hex(a)).toBe(hex(refEncrypt(data, 'secret')));
      expect(hex(b)).toBe(hex(refEncrypt(data, 'another key')));
      // No key string: the all-zero key (docs/crypto-device.md "AES-256-CBC").
      const { createCipheriv } = await import('node:crypto');
      const zeroKey = createCipheriv('aes-256-cbc', Buffer.alloc(32), Buffer.from('32ad5cdf529aae2be15c7e2ea19e5163', 'hex'));
      zeroKey.setAutoPadding(false);
      const padded = Buffer.alloc(aesOutputSize(data.length));
      padded.set(data);
      expect(hex(c)).toBe(zeroKey.update(padded).toString('hex'));
      expect(new Set([hex(a), hex(b), hex(c)]).size).toBe(3);
      // And every device decrypts its own ciphertext back.
      expect(hex((await ctrls[1].aesCbcDecrypt(b)).subarray(0, data.length))).toBe(hex(data));
      expect(hex(await ctrls[1].sha256(data))).toBe(refSha256(data));
    } finally {
      await Promise.all(ctrls.map((c) => c.close()));
    }
  });

  it('opens exclusively: a second open is STATUS_SHARING_VIOLATION until the first handle closes', async () => {
    const first = await host.open(0);
    await expectNtStatus(host.open(0), 'STATUS_SHARING_VIOLATION');
    const other = await host.open(1); // other devices are independent
    await other.close();
    await first.close();
    const again = await host.open(0);
    await again.close();
  });

  it('an unknown index is STATUS_NO_SUCH_DEVICE', async () => {
    await expectNtStatus(host.open(7), 'STATUS_NO_SUCH_DEVICE');
  });

  it('closing a handle resets the device: a running request ends STATUS_CANCELLED and the next opener finds it ready', async () => {
    const ctrl = await host.open(0);
    const big = ctrl.allocUserBuffer(48 * MiB, { contiguous: false }); // scattered: slower, so the close lands mid-run
    const running = ctrl.sha256(big);
    await waitUntil(() => host.driver(0).logic.busy, 5_000, 'request in flight');
    await withTimeout(ctrl.close(), 5_000, 'close');
    await expectNtStatus(withTimeout(running, 5_000, 'cancelled request'), 'STATUS_CANCELLED');
    await expectNtStatus(ctrl.getStatus(), 'STATUS_INVALID_DEVICE_STATE'); // the handle is gone
    const next = await host.open(0);
    expect(await deviceStatus(next)).toEqual({ state: DEVICE_STATE.READY, errorCode: DEVICE_ERROR.NONE });
    await next.close();
  });

  it('closing also clears a sticky error left by the previous user', async () => {
    const ctrl = await host.open(2);
    const input = ctrl.allocUserBuffer(100);
    const out = ctrl.allocUserBuffer(16);
    await expectNtStatus(ctrl.aesCbcEncryptBuffer(input, out), 'STATUS_BUFFER_TOO_SMALL'); // refused by the library
    await expectNtStatus(ctrl.aesCbcEncryptAt(input.address, 100, out.address, 16), 'STATUS_DEVICE_DATA_ERROR');
    expect((await ctrl.getStatus()).errorName).toBe('DMA error');
    await ctrl.close();
    const next = await host.open(2);
    expect((await next.getStatus()).errorName).toBe('no error');
    await next.close();
  });
});

describe('CryptoDeviceHost defaults and shutdown', () => {
  it('defaults to 1 GiB, the native engine and four MSIs; shutdown is idempotent and final', async () => {
    const host = new CryptoDeviceHost();
    const index = await host.addDevice({ keyString: 'secret' });
    expect(host.list()[index]).toMatchObject({ engine: 'native', interruptMode: 'msi-multi', guestMemoryBytes: 1024 * MiB });
    const ctrl = await host.open(index);
    expect(ctrl.maxRequestBytes).toBe(256 * MiB);
    expect(hex(await ctrl.aesCbcEncrypt(new TextEncoder().encode('123')))).toBe('13933c64935f9001534e01365105aa56');
    await host.shutdown();
    await host.shutdown();
    expect(ctrl.isClosed).toBe(true);
    expect(host.list()).toEqual([]);
    await expectNtStatus(host.open(index), 'STATUS_NO_SUCH_DEVICE');
    await expectNtStatus(host.addDevice({}), 'STATUS_DELETE_PENDING');
  });
});
