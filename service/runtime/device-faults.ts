// Faults on demand for the hosted crypto devices (docs/faults.md "Device faults"): arms them on a device model,
// lists and clears them, and logs and counts every fault that fires. REST and JSON-RPC share one instance.

import type { Logger } from 'pino';
import { DeviceFaultSpecError, type ArmedDeviceFault, type CryptoDeviceHost, type DeviceFaultRequest, type DeviceFaultSpec, type DeviceFaultTrigger } from '../../crypto-device/index.js';
import type { Metrics } from './metrics.js';

/** The reader faults count in the same family, labelled `reader` instead of `device`. */
export const DEVICE_FAULTS_FIRED_METRIC = ['vscr_faults_fired_total', 'Faults fired, by reader or device, and kind'] as const;

/** An armed device fault as listed over REST and JSON-RPC. */
export interface DeviceFaultView {
  id: number;
  device: number;
  kind: string;
  once: boolean;
  trigger: DeviceFaultTrigger | null;
  seen: number;
  fired: number;
  spec: DeviceFaultSpec;
}

export type { DeviceFaultRequest };

export class UnknownDeviceError extends Error {
  constructor(readonly device: number) {
    super(`no crypto device ${device}`);
    this.name = 'UnknownDeviceError';
  }
}

export class DeviceFaultHost {
  private readonly wired = new Set<number>();
  private readonly hostNow: () => CryptoDeviceHost | null;

  /**
   * `host` may be a getter: the service builds its HTTP app while the devices are still opening, and gives the
   * host once they are (no request is served before that).
   */
  constructor(
    host: CryptoDeviceHost | (() => CryptoDeviceHost | null),
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {
    this.hostNow = typeof host === 'function' ? host : () => host;
    this.metrics.declare(DEVICE_FAULTS_FIRED_METRIC[0], DEVICE_FAULTS_FIRED_METRIC[1], 'counter');
  }

  /** Device ids, as REST lists them. */
  has(device: number): boolean {
    const host = this.hostNow();
    return host !== null && Number.isSafeInteger(device) && device >= 0 && device < host.list().length;
  }

  arm(device: number, request: DeviceFaultRequest): DeviceFaultView {
    const { now, ...spec } = request;
    const armed = this.model(device).armFault(spec, now === true);
    this.log.info({ device, fault: armed.id, kind: armed.kind, now: now === true }, 'device fault armed');
    return view(device, armed);
  }

  list(device: number): DeviceFaultView[] {
    return this.model(device).faults.list().map((f) => view(device, f));
  }

  /** Clears one fault or all (ending a hang they caused); returns how many were armed. */
  clear(device: number, id?: number): number {
    return this.model(device).clearFaults(id);
  }

  private model(device: number) {
    const host = this.hostNow();
    if (host === null || !this.has(device)) throw new UnknownDeviceError(device);
    const model = host.device(device);
    if (!this.wired.has(device)) {
      this.wired.add(device);
      model.faults.onFired = (f) => {
        this.metrics.inc(DEVICE_FAULTS_FIRED_METRIC[0], DEVICE_FAULTS_FIRED_METRIC[1], { device, kind: f.kind });
        this.log.warn({ device, fault: f.id, kind: f.kind, fired: f.fired }, 'fault fired');
      };
    }
    return model;
  }
}

function view(device: number, f: ArmedDeviceFault): DeviceFaultView {
  return { id: f.id, device, kind: f.kind, once: f.once, trigger: f.spec.trigger ?? null, seen: f.seen, fired: f.fired, spec: f.spec };
}

export { DeviceFaultSpecError };
