// The service configuration: one plain, JSON-serialisable shape shared by the loader, the CLI and startService.

import type { EngineName, InterruptMode } from '../../crypto-device/device/contract.js';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
export const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
/** `auto`: pretty lines on a terminal, JSON lines otherwise (a file, a pipe, a log collector). */
export type LogFormat = 'auto' | 'pretty' | 'json';
export const LOG_FORMATS: readonly LogFormat[] = ['auto', 'pretty', 'json'];
export const ENGINES: readonly EngineName[] = ['native', 'noble'];
export const INTERRUPT_MODES: readonly InterruptMode[] = ['intx', 'msi', 'msi-multi'];

/** One emulated PCI crypto device (the QEMU `-device pci-crypto,aes_cbc_256=…` line). */
export interface DeviceConfig {
  /** The `aes_cbc_256` key string; the AES key is SHA-256 of it. Never logged, never returned. */
  keyString: string;
  engine: EngineName;
  /** Guest RAM in MiB (1..4096). */
  guestMemoryMiB: number;
  interruptMode: InterruptMode;
  /** Largest single request in MiB; default (unset): half of guest memory, at most 256 MiB. */
  maxRequestMiB?: number;
}

export interface ServiceConfig {
  host: string;
  /** 0 picks a free port. */
  port: number;
  dataDir: string;
  /** The pcsc-lite UNIX socket; null means `<dataDir>/pcscd.comm`. */
  pcscSocket: string | null;
  /** Serve the pcsc-lite wire protocol on `pcscSocket`. */
  pcsc: boolean;
  /**
   * Group (name or numeric gid) whose members may use the pcsc-lite socket too; null = only the service's user.
   * The socket becomes 0660 in that group, and its directory group-searchable.
   */
  pcscSocketGroup: string | null;
  /** Simultaneous pcsc-lite connections (pcscd's own limit is 200); more are refused and logged. */
  pcscMaxConnections: number;
  /**
   * Power a card down this long after its last PC/SC handle is gone (pcscd: 5 s), in ms; 0 = never. The next
   * connection powers it up and negotiates again, so no selection or PIN state carries over between sessions.
   */
  powerDownDelayMs: number;
  /** How long the PC/SC transports (pcsc-lite socket, JSON-RPC) keep polling after client traffic, in µs (0 = off). */
  pcscBusyPollMicros: number;
  /** Bearer token; null = no authentication (loopback only). */
  token: string | null;
  logLevel: LogLevel;
  logFormat: LogFormat;
  devices: DeviceConfig[];
  /** Virtual readers created at start-up. */
  readers: number;
  /** Profile of the card inserted in reader 0 at start-up; null = no card. */
  defaultCard: string | null;
  /** Profiles inserted at start-up, each into a reader of its own (named after the profile), after `readers`. */
  cardReaders: string[];
  /** A request (headers and body) must arrive in full within this many ms, or it is answered 408 and closed. */
  httpRequestTimeoutMs: number;
  /** Largest JSON request body in bytes. */
  jsonBodyLimit: number;
  /** How often the count of rejected (4xx) requests is logged, in ms; 0 disables the line. */
  badRequestLogIntervalMs: number;
  /** Record the PIN bytes of VERIFY / CHANGE REFERENCE DATA / RESET RETRY COUNTER in transcripts (default: masked). */
  rawTranscripts?: boolean;
  /** Card modules (TypeScript/JavaScript files exporting a VirtualCard class), inserted as `module:<file name>`. */
  cardModules?: string[];
}
