// The card's binding to a device that is still being opened: early calls wait for the open and then run on
// the device (counted in /metrics as caller "card"); a failed open reaches the waiting calls.

import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CryptoDeviceHost } from '../../../crypto-device/index.js';
import type { CryptoDeviceControl } from '../../../crypto-device/lib/contract.js';
import { cardCryptoWhenOpen } from '../../../service/runtime/devices.js';
import { Metrics } from '../../../service/runtime/metrics.js';

describe('cardCryptoWhenOpen', () => {
  it('a call made before the device is open waits for it, then hashes on the device', async () => {
    const host = new CryptoDeviceHost({});
    let open!: (control: CryptoDeviceControl) => void;
    const opening = new Promise<CryptoDeviceControl>((resolve) => (open = resolve));
    const metrics = new Metrics();
    const crypto = cardCryptoWhenOpen(opening, 0, metrics);
    const early = crypto.sha256(new TextEncoder().encode('abc'));
    try {
      const index = await host.addDevice({ keyString: 'secret', guestMemoryBytes: 4 * 1024 * 1024 });
      open(await host.open(index));
      const expected = createHash('sha256').update('abc').digest();
      expect(Buffer.from(await early)).toEqual(expected);
      // Once open, calls go straight to the device.
      expect(Buffer.from(await crypto.sha256(new TextEncoder().encode('abc')))).toEqual(expected);
      expect(metrics.render()).toMatch(/vscr_device_operations_total\{caller="card",device="0",op="sha256"\} 2/);
    } finally {
      await host.shutdown();
    }
  });

  it('a failed open rejects the calls that waited for it', async () => {
    const crypto = cardCryptoWhenOpen(Promise.reject(new Error('no device')), 0, new Metrics());
    await expect(crypto.aesCbcEncrypt(new Uint8Array(16))).rejects.toThrow('no device');
  });
});
