// Crypto devices for the service: adds each configured device to one CryptoDeviceHost and opens it once.
// The driver opens exclusively (docs/crypto-device.md "The driver"), so REST and every card applet share the handle.

import type { Logger } from 'pino';
import { CryptoDeviceHost } from '../../crypto-device/index.js';
import type { CryptoDeviceControl, UserBuffer } from '../../crypto-device/lib/contract.js';
import { NtStatusError } from '../../kernel/ntstatus.js';
import type { CardCrypto } from '../../smcard/card/index.js';
import type { DeviceConfig } from '../config/types.js';
import { METRIC, type Metrics } from './metrics.js';

export interface OpenedDevices {
  host: CryptoDeviceHost;
  /** Index = device id in the REST API. */
  controls: CryptoDeviceControl[];
  close(): Promise<void>;
}

export async function openDevices(configs: readonly DeviceConfig[], logger: Logger): Promise<OpenedDevices> {
  const host = new CryptoDeviceHost({ logger });
  const controls: CryptoDeviceControl[] = [];
  try {
    for (const device of configs) {
      const index = await host.addDevice({
        keyString: device.keyString,
        engine: device.engine,
        guestMemoryBytes: device.guestMemoryMiB * 1024 * 1024,
        interruptMode: device.interruptMode,
        ...(device.maxRequestMiB === undefined ? {} : { maxRequestBytes: device.maxRequestMiB * 1024 * 1024 }),
      });
      controls[index] = await host.open(index);
    }
  } catch (err) {
    await host.shutdown().catch(() => undefined);
    throw err;
  }
  let closed = false;
  return {
    host,
    controls,
    async close() {
      if (closed) return;
      closed = true;
      for (const control of controls) await control.close().catch((err: unknown) => logger.warn({ err }, 'closing a crypto device failed'));
      await host.shutdown();
    },
  };
}

/** Counts one device operation in /metrics, including failures by NTSTATUS name. */
export async function countDeviceOp<T>(metrics: Metrics, device: number, op: string, caller: string, bytes: number, run: () => Promise<T>): Promise<T> {
  metrics.inc(...METRIC.deviceOps, { device, op, caller });
  metrics.inc(...METRIC.deviceBytes, { device, op }, bytes);
  try {
    return await run();
  } catch (err) {
    metrics.inc(...METRIC.deviceErrors, { device, op, status: err instanceof NtStatusError ? err.code : 'exception' });
    throw err;
  }
}

/** The card applet's view of device `index`, counted in /metrics as caller "card". */
export function cardCryptoFor(control: CryptoDeviceControl, index: number, metrics: Metrics): CardCrypto {
  const size = (data: Uint8Array | UserBuffer): number => data.length;
  return {
    sha256: (data) => countDeviceOp(metrics, index, 'sha256', 'card', size(data), () => control.sha256(data)),
    aesCbcEncrypt: (data) => countDeviceOp(metrics, index, 'aes-cbc-encrypt', 'card', data.length, () => control.aesCbcEncrypt(data)),
    aesCbcDecrypt: (data) => countDeviceOp(metrics, index, 'aes-cbc-decrypt', 'card', data.length, () => control.aesCbcDecrypt(data)),
  };
}

/**
 * cardCryptoFor() for a device still being opened: calls made before it is open wait for it, and once it is
 * open every call goes straight to the device (no extra promise hop per APDU). Lets readers and cards be set
 * up while the device worker thread starts.
 */
export function cardCryptoWhenOpen(opening: Promise<CryptoDeviceControl>, index: number, metrics: Metrics): CardCrypto {
  let direct: CardCrypto | null = null;
  const ready = opening.then((control) => (direct = cardCryptoFor(control, index, metrics)));
  // A failed open is reported by whoever awaits `opening` (start-up); calls waiting here get the same error.
  ready.catch(() => undefined);
  return {
    sha256: (data) => (direct ? direct.sha256(data) : ready.then((c) => c.sha256(data))),
    aesCbcEncrypt: (data) => (direct ? direct.aesCbcEncrypt(data) : ready.then((c) => c.aesCbcEncrypt(data))),
    aesCbcDecrypt: (data) => (direct ? direct.aesCbcDecrypt(data) : ready.then((c) => c.aesCbcDecrypt(data))),
  };
}
