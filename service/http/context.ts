// What the HTTP layer is given by the service composition: the shared objects every route plugin reads.

import type { Logger } from 'pino';
import type { CryptoDeviceControl } from '../../crypto-device/lib/contract.js';
import type { ServiceConfig } from '../config/types.js';
import type { DeviceFaultHost } from '../runtime/device-faults.js';
import type { EventHub } from '../runtime/events.js';
import type { Metrics } from '../runtime/metrics.js';
import type { ReaderHost } from '../runtime/readers.js';
import type { ResourceManagerApi } from '../rm/contract.js';
import type { SimHost } from '../sim/sim-host.js';

export interface AppContext {
  config: ServiceConfig;
  logger: Logger;
  /** Opened devices; index = REST device id. */
  devices: readonly CryptoDeviceControl[];
  /** Faults on demand for those devices (docs/faults.md "Device faults"). */
  deviceFaults: DeviceFaultHost;
  readers: ReaderHost;
  /** Transcripts, scripted/replayed/relayed cards (docs/simulation.md). */
  sim: SimHost;
  rm: ResourceManagerApi;
  events: EventHub;
  metrics: Metrics;
  version: string;
  /** ms since the epoch. */
  startedAt: number;
  /** True once close() began: new requests get 503. */
  shuttingDown(): boolean;
}
