// Crypto devices for the service: adds each configured device to one CryptoDeviceHost and opens it once.
// The driver opens exclusively (docs/crypto-device.md "The driver"), so REST and every card applet share the handle.

import type { Logger } from 'pino';
import { CryptoDeviceHost, type AddDeviceOptions } from '../../crypto-device/index.js';
import type { CryptoDeviceControl } from '../../crypto-device/lib/contract.js';
import { countedCalls, DeviceOpCounts, type CountedDeviceCalls, type DeviceOpName } from '../../crypto-device/lib/op-counts.js';
import { NtStatusError } from '../../kernel/ntstatus.js';
import type { DeviceConfig } from '../config/types.js';
import { METRIC, type CountedSample, type Metrics } from './metrics.js';

export interface OpenedDevices {
  host: CryptoDeviceHost;
  /** Index = device id in the REST API. */
  controls: CryptoDeviceControl[];
  close(): Promise<void>;
}

/** Driver timings for every device; unset ones keep the driver's defaults (tests shorten them). */
export type DriverTimings = Pick<AddDeviceOptions, 'resetTimeoutMs' | 'commandTimeoutMs'>;

export async function openDevices(configs: readonly DeviceConfig[], logger: Logger, timings: DriverTimings = {}): Promise<OpenedDevices> {
  const host = new CryptoDeviceHost({ logger });
  const controls: CryptoDeviceControl[] = [];
  try {
    for (const device of configs) {
      const index = await host.addDevice({
        keyString: device.keyString,
        engine: device.engine,
        guestMemoryBytes: device.guestMemoryMiB * 1024 * 1024,
        interruptMode: device.interruptMode,
        ...(timings.resetTimeoutMs === undefined ? {} : { resetTimeoutMs: timings.resetTimeoutMs }),
        ...(timings.commandTimeoutMs === undefined ? {} : { commandTimeoutMs: timings.commandTimeoutMs }),
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

/** Operation names as /metrics labels them, in the device library's tally order. */
const COUNTED_OPS: readonly DeviceOpName[] = ['sha256', 'aes-cbc-encrypt', 'aes-cbc-decrypt'];

/**
 * The card applets' calls on each configured device, counted by the device library (crypto-device/lib/op-counts.ts)
 * as caller "card" and read into /metrics at scrape time. Usable at once: calls made while the device is still
 * being opened wait for it (cards can be made meanwhile), later ones reach the device with nothing of the
 * service in between.
 */
export function cardCallsOf(opening: Promise<OpenedDevices>, devices: number, metrics: Metrics): CountedDeviceCalls[] {
  const counts = Array.from({ length: devices }, () => new DeviceOpCounts());
  const calls = counts.map((c, i) => countedCalls(opening.then((d) => d.controls[i]), 'card', c));
  // An operation shows once it ran, as with inc() on its first call.
  const ran = (sample: (device: number, op: DeviceOpName, c: DeviceOpCounts) => CountedSample): CountedSample[] =>
    counts.flatMap((c, device) => COUNTED_OPS.filter((op) => c.ops[op].count > 0).map((op) => sample(device, op, c)));
  metrics.addCounterSource(...METRIC.deviceOps, () => ran((device, op, c) => ({ labels: { device, op, caller: 'card' }, value: c.ops[op].count })));
  metrics.addCounterSource(...METRIC.deviceBytes, () => ran((device, op, c) => ({ labels: { device, op }, value: c.ops[op].bytes })));
  metrics.addCounterSource(...METRIC.deviceErrors, () =>
    counts.flatMap((c, device) => c.failures().map(({ op, status, count }) => ({ labels: { device, op, status }, value: count }))),
  );
  return calls;
}
