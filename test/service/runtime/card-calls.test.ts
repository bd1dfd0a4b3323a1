// The card's calls on a device still being opened: early ones wait for the open, later ones go straight to the
// device; the device library counts them, and /metrics reads those counts (caller "card") beside REST's own.

import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CryptoDeviceHost } from '../../../crypto-device/index.js';
import { NTSTATUS, NtStatusError } from '../../../kernel/ntstatus.js';
import { cardCallsOf, countDeviceOp, type OpenedDevices } from '../../../service/runtime/devices.js';
import { Metrics } from '../../../service/runtime/metrics.js';

describe('cardCallsOf', () => {
  it('a call made before the device is open waits for it; the hashes run on the device and show in /metrics as caller "card"', async () => {
    const host = new CryptoDeviceHost({});
    let open!: (devices: OpenedDevices) => void;
    const opening = new Promise<OpenedDevices>((resolve) => (open = resolve));
    const metrics = new Metrics();
    const [card] = cardCallsOf(opening, 1, metrics);
    // Declared from the start, with no sample before the first operation.
    expect(metrics.render()).toMatch(/^# TYPE vscr_device_operations_total counter$/m);
    expect(metrics.render()).not.toMatch(/^vscr_device_operations_total\{/m);
    const early = card.sha256(new TextEncoder().encode('abc'));
    try {
      const index = await host.addDevice({ keyString: 'secret', guestMemoryBytes: 4 * 1024 * 1024 });
      open({ host, controls: [await host.open(index)], close: async () => undefined });
      const expected = createHash('sha256').update('abc').digest();
      expect(Buffer.from(await early)).toEqual(expected);
      expect(Buffer.from(await card.sha256(new TextEncoder().encode('abcd')))).not.toEqual(expected);
      const text = metrics.render();
      expect(text).toMatch(/^vscr_device_operations_total\{caller="card",device="0",op="sha256"\} 2$/m);
      expect(text).toMatch(/^vscr_device_bytes_total\{device="0",op="sha256"\} 7$/m);
      expect(text).not.toMatch(/op="aes-cbc-encrypt"/);

      // A failure is counted by its NTSTATUS, and adds to REST's count of the same labels.
      await expect(card.aesCbcEncrypt(new Uint8Array(0))).rejects.toThrow(NtStatusError);
      await expect(
        countDeviceOp(metrics, 0, 'aes-cbc-encrypt', 'http', 0, () => Promise.reject(new NtStatusError(NTSTATUS.STATUS_INVALID_PARAMETER))),
      ).rejects.toThrow(NtStatusError);
      const after = metrics.render();
      expect(after).toMatch(/^vscr_device_errors_total\{device="0",op="aes-cbc-encrypt",status="STATUS_INVALID_PARAMETER"\} 2$/m);
      expect(after).toMatch(/^vscr_device_operations_total\{caller="card",device="0",op="aes-cbc-encrypt"\} 1$/m);
      expect(after).toMatch(/^vscr_device_operations_total\{caller="http",device="0",op="aes-cbc-encrypt"\} 1$/m);
      expect(after).toMatch(/^vscr_device_bytes_total\{device="0",op="aes-cbc-encrypt"\} 0$/m);
      expect(metrics.get('vscr_device_operations_total', { caller: 'card', device: 0, op: 'sha256' })).toBe(2);
    } finally {
      await host.shutdown();
    }
  });

  it('a failed open rejects the calls that waited for it, and counts them as failed', async () => {
    const metrics = new Metrics();
    const [card] = cardCallsOf(Promise.reject(new Error('no device')), 1, metrics);
    await expect(card.aesCbcEncrypt(new Uint8Array(16))).rejects.toThrow('no device');
    expect(metrics.render()).toMatch(/^vscr_device_errors_total\{device="0",op="aes-cbc-encrypt",status="exception"\} 1$/m);
  });
});
