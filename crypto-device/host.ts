// The crypto device host: several emulated PCI crypto devices per process, each with its driver started and
// opened through the CryptoDeviceCtrl library.

import pino, { type Logger } from 'pino';
import { NTSTATUS } from '../kernel/ntstatus.js';
import { ntError } from '../kernel/nt-error.js';
import type { CryptoDeviceOptions, InterruptMode } from './device/contract.js';
import { createPciCryptoDevice, type PciCryptoDeviceModel } from './device/index.js';
import { CryptoDeviceDriver } from './driver/crypto-device-driver.js';
import type { CryptoDeviceInfo } from './lib/contract.js';
import { CryptoDeviceCtrl, type CryptoDeviceCtrlOptions } from './lib/crypto-device-ctrl.js';

export type AddDeviceOptions = CryptoDeviceOptions & {
  interruptMode?: InterruptMode;
  /** Library limit for one request (default 256 MiB, at most half of guest memory). */
  maxRequestBytes?: number;
  /** Driver reset timeout (default 1000 ms). */
  resetTimeoutMs?: number;
  /** Driver wait for a command's interrupt before STATUS_IO_TIMEOUT (default 2000 ms plus 250 ms per MiB). */
  commandTimeoutMs?: number;
};

interface HostedDevice {
  info: CryptoDeviceInfo;
  device: PciCryptoDeviceModel;
  driver: CryptoDeviceDriver;
  ctrlOptions: CryptoDeviceCtrlOptions;
}

export class CryptoDeviceHost {
  private readonly log: Logger;
  private readonly devices: HostedDevice[] = [];
  private shuttingDown = false;

  constructor(opts: { logger?: Logger } = {}) {
    this.log = (opts.logger ?? pino({ level: 'silent' })).child({ component: 'crypto-host' });
  }

  /** Plugs a device in, starts its driver (prepare-hardware, D0 entry) and returns its index (0, 1, 2…). */
  async addDevice(options: AddDeviceOptions = {}): Promise<number> {
    if (this.shuttingDown) throw ntError(NTSTATUS.STATUS_DELETE_PENDING, 'host is shutting down');
    const { interruptMode, maxRequestBytes, resetTimeoutMs, commandTimeoutMs, ...deviceOptions } = options;
    const device = await createPciCryptoDevice({ logger: this.log, ...deviceOptions });
    const index = this.devices.length;
    const driver = new CryptoDeviceDriver(device, { interruptMode, resetTimeoutMs, commandTimeoutMs, logger: this.log.child({ device: index }) });
    try {
      driver.start();
    } catch (err) {
      await device.destroy();
      throw err;
    }
    const info: CryptoDeviceInfo = {
      index,
      vendorId: device.pci.vendorId,
      deviceId: device.pci.deviceId,
      revision: device.pci.revision,
      engine: device.engine,
      interruptMode: driver.interruptMode,
      guestMemoryBytes: device.memory.sizeBytes,
    };
    this.devices.push({ info, device, driver, ctrlOptions: { maxRequestBytes } });
    // The key string is a secret: only whether one is set is logged.
    this.log.info({ index, engine: info.engine, interruptMode: info.interruptMode, keyStringSet: options.keyString !== undefined }, 'crypto device added');
    return index;
  }

  /** CreateFile + CryptoDeviceCtrl. Exclusive: a second open before close fails with STATUS_SHARING_VIOLATION. */
  async open(index: number): Promise<CryptoDeviceCtrl> {
    const hosted = this.hosted(index);
    const handle = hosted.driver.open();
    return new CryptoDeviceCtrl(handle, { ...hosted.info }, hosted.ctrlOptions);
  }

  /** The original console's `devices` command. */
  list(): CryptoDeviceInfo[] {
    return this.devices.map((d) => ({ ...d.info }));
  }

  /** The driver of a device, for tools and tests that need the kernel side. */
  driver(index: number): CryptoDeviceDriver {
    return this.hosted(index).driver;
  }

  /** The device model itself, for faults on demand (its armFault / clearFaults / faults). */
  device(index: number): PciCryptoDeviceModel {
    return this.hosted(index).device;
  }

  /** Closes open handles (each resets its device), stops the drivers and destroys the devices. Idempotent. */
  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    const devices = this.devices.splice(0);
    // Keep the process alive until every worker has really exited: an idle device worker is unreferenced, so
    // awaiting its exit alone would let Node end the event loop with this promise unsettled.
    const keepAlive = setInterval(() => undefined, 1 << 30);
    try {
      for (const hosted of devices.reverse()) {
        try {
          await hosted.driver.stop();
        } finally {
          await hosted.device.destroy();
        }
      }
    } finally {
      clearInterval(keepAlive);
    }
  }

  private hosted(index: number): HostedDevice {
    const hosted = Number.isInteger(index) ? this.devices[index] : undefined;
    if (!hosted) throw ntError(NTSTATUS.STATUS_NO_SUCH_DEVICE, `no crypto device ${index}`);
    return hosted;
  }
}
