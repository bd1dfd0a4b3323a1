// Response shapes of the vscr REST API (docs/service.md "Routes"), as the SDK returns them. Those the service
// declares in its published contract are derived from its schemas, so a schema change breaks this build.

import type { RestAddReaderBody, RestDevice, RestDeviceStatus, RestReader } from '../../service/contract/rest.js';

export interface Health {
  status: 'ok';
  version: string;
  node: string;
  uptimeSeconds: number;
}

/** GET /v1/devices/:id/status; derived from the service's response schema (service/contract/rest.ts). */
export type DeviceStatus = RestDeviceStatus;

/** One crypto device as GET /v1/devices lists it (`maxRequestBytes` when the service reports it). */
export type DeviceInfo = RestDevice;

/** A reader as the service answers it (`symbolicLink` and `pinpad` when the service reports them). */
export type ReaderInfo = RestReader;

/** POST /v1/readers: vendor name, IFD type, driver variant, and `pinpad` for a PIN-pad reader (docs/pinpad.md). */
export type AddReaderOptions = RestAddReaderBody;

/** The keypad of a PIN-pad reader: never the digits, only how many were typed. */
export interface PinpadStatus {
  prompting: boolean;
  stage: 'pin' | 'current' | 'new' | 'confirm' | null;
  digitsEntered: number;
  maxDigits: number | null;
  queued: number;
  entries: number;
}

/** Keys for the pad: the digits first, then a key. */
export interface PinpadKeys {
  digits?: string;
  key?: 'ok' | 'cancel' | 'clear';
}

/** One trace entry; the service defines the fields, the SDK passes them through. */
export type TraceEntry = Record<string, unknown>;

/** One server-sent event from `GET /v1/events`. */
export interface VscrEvent {
  /** The SSE `event:` field: `reader` or `device` (or `message` when absent). */
  event: string;
  /** The SSE `id:` field, when sent. */
  id?: string;
  /** The parsed `data:` JSON; it carries a `type`. */
  data: { type: string; [key: string]: unknown };
}

/** A reader named by its index or its exact name. */
export type ReaderRef = number | string;

/** A fault to arm on a reader (docs/faults.md). */
export interface FaultRequest {
  kind: 'remove-card' | 'mute' | 'slow' | 'sw' | 'corrupt' | 'unplug' | 'reset-card' | 'power-fail';
  trigger?: { nth?: number; match?: string; afterMs?: number; probability?: number; seed?: number };
  once?: boolean;
  now?: boolean;
  delayMs?: number;
  /** slow: added delay per command and response byte (ms). */
  perByteMs?: number;
  sw?: string;
  corruption?: 'bitflip' | 'truncate';
  replugMs?: number;
}

/** A fault to arm on a crypto device (docs/faults.md "Device faults"). */
export interface DeviceFaultRequest {
  kind: 'dma-error' | 'never-ready' | 'latched-error' | 'lost-interrupt';
  trigger?: { nth?: number; command?: 'reset' | 'encrypt' | 'decrypt' | 'sha256'; afterMs?: number; probability?: number; seed?: number };
  once?: boolean;
  now?: boolean;
  /** latched-error: the ErrorCode, 1..4 (default 4). */
  code?: number;
  /** never-ready: how long the device stays unresponsive, ms (default 10000). */
  holdMs?: number;
}

/** An armed device fault as the service lists it. */
export interface DeviceFaultInfo {
  id: number;
  device: number;
  kind: string;
  once: boolean;
  trigger: DeviceFaultRequest['trigger'] | null;
  seen: number;
  fired: number;
  spec: Record<string, unknown>;
}

/** An armed fault as the service lists it. */
export interface FaultInfo {
  id: number;
  reader: number;
  kind: string;
  once: boolean;
  trigger: FaultRequest['trigger'] | null;
  seen: number;
  fired: number;
  spec: Record<string, unknown>;
}
