// The device key string is a secret (docs/configuration.md; docs/crypto-device.md "AES-256-CBC": the key is derived from
// it): it must never reach a log line (at any level), the device list, or an inspectable host object.

import { inspect } from 'node:util';
import { createHash } from 'node:crypto';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CryptoDeviceHost, type CryptoDeviceCtrl } from '../../../crypto-device/index.js';
import { expectNtStatus, hex, refEncrypt } from '../driver/harness.js';

const MiB = 1024 * 1024;
const KEY_STRING = 'kx-7f3e-unmistakable-device-key';
const DERIVED_KEY = createHash('sha256').update(KEY_STRING).digest();

describe('the key string is never logged or exposed', () => {
  const lines: string[] = [];
  // Trace level: the device worker forwards its debug lines only when debug is enabled, so this sees everything.
  const logger = pino({ level: 'trace' }, { write: (line: string) => void lines.push(line) });
  const host = new CryptoDeviceHost({ logger });
  let ctrl: CryptoDeviceCtrl;

  beforeAll(async () => {
    await host.addDevice({ keyString: KEY_STRING, engine: 'noble', guestMemoryBytes: 16 * MiB, interruptMode: 'intx' });
    ctrl = await host.open(0);
  });
  afterAll(async () => {
    await host.shutdown();
  });

  it('uses the key (so the checks below are about a live key), and logs nothing that contains it', async () => {
    const data = new TextEncoder().encode('a secret-keyed request');
    expect(hex(await ctrl.aesCbcEncrypt(data))).toBe(hex(refEncrypt(data, KEY_STRING)));
    // A guest DMA error and a reset produce the device's and driver's debug lines too.
    const input = ctrl.allocUserBuffer(100);
    const out = ctrl.allocUserBuffer(16);
    await expectNtStatus(ctrl.aesCbcEncryptAt(input.address, 100, out.address, 16), 'STATUS_DEVICE_DATA_ERROR');
    await ctrl.reset();
    input.release();
    out.release();
    await new Promise((r) => setTimeout(r, 50)); // let the worker's forwarded log messages arrive

    const text = lines.join('');
    expect(text).toContain('crypto device added');
    expect(text).toContain('keyStringSet');
    expect(text).toContain('guest DMA error'); // the worker's debug lines were captured too
    expect(lines.length).toBeGreaterThan(2);
    for (const secret of [KEY_STRING, DERIVED_KEY.toString('hex'), DERIVED_KEY.toString('base64')]) expect(text).not.toContain(secret);
  });

  it('is not part of the device list, the handle info or the inspectable host', () => {
    const visible = [JSON.stringify(host.list()), JSON.stringify(ctrl.info), inspect(host, { depth: 6 }), inspect(ctrl, { depth: 6 })].join('\n');
    expect(visible).toContain('noble'); // the inspection did reach the device objects
    expect(visible).not.toContain(KEY_STRING);
    expect(visible).not.toContain(DERIVED_KEY.toString('hex'));
  });
});

describe('user buffer page policy', () => {
  it('production handles map large buffers to contiguous guest pages; the test rig scatters them', async () => {
    const host = new CryptoDeviceHost();
    try {
      await host.addDevice({ keyString: 'secret', guestMemoryBytes: 16 * MiB });
      const ctrl = await host.open(0);
      const buf = ctrl.allocUserBuffer(256 * 1024);
      const pages = ctrl.addressSpace.translatePages(buf.address, buf.length)!;
      expect(pages).toHaveLength(64);
      expect(pages.every((p, i) => i === 0 || p === pages[i - 1] + 4096)).toBe(true);
      const scattered = ctrl.allocUserBuffer(256 * 1024, { contiguous: false });
      const spread = ctrl.addressSpace.translatePages(scattered.address, scattered.length)!;
      expect(spread.some((p, i) => i > 0 && p !== spread[i - 1] + 4096)).toBe(true);
      await ctrl.close();
    } finally {
      await host.shutdown();
    }
  });
});
