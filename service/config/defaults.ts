// The embedded defaults: what `npm start` runs with when nothing is configured (see docs/configuration.md).

import type { DeviceConfig, ServiceConfig } from './types.js';

/** The key string of the e-book's QEMU command line (`aes_cbc_256=secret`, docs/background.md): published, so never a secret. */
export const PUBLISHED_KEY_STRING = 'secret';

export function defaultDeviceConfig(): DeviceConfig {
  return { keyString: PUBLISHED_KEY_STRING, engine: 'native', guestMemoryMiB: 1024, interruptMode: 'msi-multi' };
}

export function defaultConfig(): ServiceConfig {
  return {
    host: '127.0.0.1',
    port: 8790,
    dataDir: './.vscr-data',
    pcscSocket: null,
    pcsc: true,
    pcscBusyPollMicros: 500,
    pcscSocketGroup: null,
    pcscMaxConnections: 200,
    powerDownDelayMs: 5000,
    token: null,
    logLevel: 'info',
    logFormat: 'auto',
    devices: [defaultDeviceConfig()],
    readers: 2,
    defaultCard: 'default',
    cardReaders: ['piv', 'openpgp'],
    jsonBodyLimit: 1024 * 1024,
    httpRequestTimeoutMs: 60_000,
    badRequestLogIntervalMs: 60_000,
  };
}
