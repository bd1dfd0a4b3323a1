// Builds a validated ServiceConfig from layers: defaults < JSON file < environment (VSCR_*) < flags.

import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import path from 'node:path';
import { MAX_BUSY_POLL_MICROS } from '../net/busy-poll.js';
import { defaultConfig, defaultDeviceConfig } from './defaults.js';
import { ENGINES, INTERRUPT_MODES, LOG_FORMATS, LOG_LEVELS, type DeviceConfig, type LogFormat, type LogLevel, type ServiceConfig } from './types.js';

/** One source of settings. `device` applies to every device; `deviceCount` resizes the device list. */
export interface ConfigLayer {
  host?: string;
  port?: number;
  dataDir?: string;
  pcscSocket?: string | null;
  pcsc?: boolean;
  pcscBusyPollMicros?: number;
  pcscSocketGroup?: string | null;
  pcscMaxConnections?: number;
  powerDownDelayMs?: number;
  token?: string | null;
  logLevel?: LogLevel;
  logFormat?: LogFormat;
  readers?: number;
  defaultCard?: string | null;
  cardReaders?: string[];
  jsonBodyLimit?: number;
  httpRequestTimeoutMs?: number;
  badRequestLogIntervalMs?: number;
  rawTranscripts?: boolean;
  cardModules?: string[];
  devices?: Partial<DeviceConfig>[];
  device?: Partial<DeviceConfig>;
  deviceCount?: number;
}

/** Every problem found, one per line, so a user fixes them all at once. */
export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

const LAYER_KEYS = new Set([
  'host', 'port', 'dataDir', 'pcscSocket', 'pcsc', 'pcscBusyPollMicros', 'pcscSocketGroup', 'pcscMaxConnections', 'powerDownDelayMs', 'token', 'logLevel', 'logFormat',
  'readers', 'defaultCard', 'cardReaders', 'jsonBodyLimit', 'httpRequestTimeoutMs', 'badRequestLogIntervalMs', 'rawTranscripts', 'cardModules',
  'devices', 'device', 'deviceCount',
]);
const DEVICE_KEYS = new Set(['keyString', 'engine', 'guestMemoryMiB', 'interruptMode', 'maxRequestMiB']);

/** Reads the `--config` JSON file; unknown keys are errors so a typo never silently falls back to a default. */
export async function readConfigFile(file: string): Promise<ConfigLayer> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError([`cannot read config file ${file}: ${(err as Error).message}`]);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    // Only where: the parser's message quotes text around the error, which may be part of a token or key.
    throw new ConfigError([`config file ${file} is not valid JSON (${jsonErrorPlace(text, (err as Error).message)})`]);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError([`config file ${file} must hold a JSON object`]);
  }
  const problems: string[] = [];
  const obj = parsed as Record<string, unknown>;
  for (const key of Object.keys(obj)) if (!LAYER_KEYS.has(key)) problems.push(`config file ${file}: unknown key "${key}"`);
  const devices = obj.devices;
  if (devices !== undefined && !Array.isArray(devices)) problems.push(`config file ${file}: "devices" must be an array`);
  const deviceObjects = [...(Array.isArray(devices) ? devices : []), ...(obj.device !== undefined ? [obj.device] : [])];
  for (const d of deviceObjects) {
    if (typeof d !== 'object' || d === null) {
      problems.push(`config file ${file}: each device must be an object`);
      continue;
    }
    for (const key of Object.keys(d)) if (!DEVICE_KEYS.has(key)) problems.push(`config file ${file}: unknown device key "${key}"`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  // Types are checked by validateConfig after merging, where every layer gets the same messages.
  return obj as ConfigLayer;
}

/** "line L column C" of a JSON.parse error, from the position in its message; never any of the text itself. */
function jsonErrorPlace(text: string, message: string): string {
  const m = /position (\d+)/.exec(message);
  if (m === null) return text.trim() === '' ? 'the file is empty' : 'syntax error';
  const pos = Math.min(Number(m[1]), text.length);
  const before = text.slice(0, pos);
  const line = before.split('\n').length;
  const column = pos - before.lastIndexOf('\n');
  return `syntax error at line ${line} column ${column}`;
}

/** The VSCR_* environment variables (documented in docs/configuration.md). */
export function configFromEnv(env: NodeJS.ProcessEnv): ConfigLayer {
  const layer: ConfigLayer = {};
  const device: Partial<DeviceConfig> = {};
  const problems: string[] = [];
  const num = (name: string): number | undefined => {
    const raw = env[name];
    if (raw === undefined || raw === '') return undefined;
    const value = Number(raw);
    if (!/^\s*-?\d+\s*$/.test(raw) || !Number.isSafeInteger(value)) {
      problems.push(`${name} must be an integer, got "${raw}"`);
      return undefined;
    }
    return value;
  };
  const str = (name: string): string | undefined => (env[name] === undefined || env[name] === '' ? undefined : env[name]);
  const bool = (name: string): boolean | undefined => {
    const raw = str(name);
    if (raw === undefined) return undefined;
    if (/^(1|true|yes|on)$/i.test(raw)) return true;
    if (/^(0|false|no|off)$/i.test(raw)) return false;
    problems.push(`${name} must be true or false, got "${raw}"`);
    return undefined;
  };
  assign(layer, 'host', str('VSCR_HOST'));
  assign(layer, 'port', num('VSCR_PORT'));
  assign(layer, 'dataDir', str('VSCR_DATA_DIR'));
  assign(layer, 'pcscSocket', str('VSCR_PCSC_SOCKET'));
  assign(layer, 'pcsc', bool('VSCR_PCSC'));
  assign(layer, 'pcscBusyPollMicros', num('VSCR_PCSC_BUSY_POLL_US'));
  assign(layer, 'pcscSocketGroup', str('VSCR_PCSC_SOCKET_GROUP'));
  assign(layer, 'pcscMaxConnections', num('VSCR_PCSC_MAX_CONNECTIONS'));
  assign(layer, 'powerDownDelayMs', num('VSCR_POWER_DOWN_DELAY_MS'));
  assign(layer, 'httpRequestTimeoutMs', num('VSCR_HTTP_REQUEST_TIMEOUT_MS'));
  assign(layer, 'token', str('VSCR_TOKEN'));
  assign(layer, 'logLevel', str('VSCR_LOG_LEVEL') as LogLevel | undefined);
  assign(layer, 'logFormat', str('VSCR_LOG_FORMAT') as LogFormat | undefined);
  assign(layer, 'readers', num('VSCR_READERS'));
  const card = str('VSCR_CARD');
  if (card !== undefined) layer.defaultCard = card === 'none' ? null : card;
  const cardReaders = str('VSCR_CARD_READERS');
  if (cardReaders !== undefined) layer.cardReaders = cardReaders === 'none' ? [] : cardReaders.split(',').map((c) => c.trim()).filter((c) => c !== '');
  assign(layer, 'deviceCount', num('VSCR_DEVICES'));
  assign(layer, 'rawTranscripts', bool('VSCR_RAW_TRANSCRIPTS'));
  assign(device, 'keyString', env.VSCR_DEVICE_KEY);
  assign(device, 'engine', str('VSCR_ENGINE') as DeviceConfig['engine'] | undefined);
  assign(device, 'guestMemoryMiB', num('VSCR_GUEST_MEMORY_MIB'));
  assign(device, 'interruptMode', str('VSCR_INTERRUPT_MODE') as DeviceConfig['interruptMode'] | undefined);
  assign(device, 'maxRequestMiB', num('VSCR_MAX_REQUEST_MIB'));
  if (Object.keys(device).length > 0) layer.device = device;
  if (problems.length > 0) throw new ConfigError(problems);
  return layer;
}

function assign<T extends object, K extends keyof T>(target: T, key: K, value: T[K] | undefined): void {
  if (value !== undefined) target[key] = value;
}

/** Merges layers over the defaults (later layers win), then validates. */
export function resolveConfig(...layers: (ConfigLayer | Partial<ServiceConfig> | undefined)[]): ServiceConfig {
  const config = defaultConfig();
  let devices: Partial<DeviceConfig>[] = config.devices;
  for (const raw of layers) {
    if (raw === undefined) continue;
    const layer = raw as ConfigLayer;
    for (const key of Object.keys(layer) as (keyof ConfigLayer)[]) {
      const value = layer[key];
      if (value === undefined || key === 'devices' || key === 'device' || key === 'deviceCount') continue;
      (config as unknown as Record<string, unknown>)[key] = value;
    }
    if (layer.devices !== undefined) devices = Array.isArray(layer.devices) ? layer.devices.map((d) => ({ ...d })) : devices;
    if (layer.deviceCount !== undefined && Number.isInteger(layer.deviceCount) && layer.deviceCount >= 0 && layer.deviceCount <= 64) {
      const template = devices[0] ?? {};
      devices = Array.from({ length: layer.deviceCount }, (_, i) => ({ ...(devices[i] ?? template) }));
    }
    if (layer.device !== undefined) devices = devices.map((d) => ({ ...d, ...stripUndefined(layer.device ?? {}) }));
  }
  config.devices = devices.map((d) => ({ ...defaultDeviceConfig(), ...stripUndefined(d) }));
  return validateConfig(config);
}

function stripUndefined<T extends object>(obj: T): Partial<T> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Loopback means the service is reachable only from this machine, so running without a token is safe. */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (h.startsWith('::ffff:')) return h.slice(7).startsWith('127.');
  return false;
}

/** The pcsc-lite socket path after resolving the `<dataDir>/pcscd.comm` default. */
export function pcscSocketPath(config: ServiceConfig): string {
  return path.resolve(config.pcscSocket ?? path.join(config.dataDir, 'pcscd.comm'));
}

/** Checks every field; throws ConfigError listing all problems. */
export function validateConfig(config: ServiceConfig): ServiceConfig {
  const p: string[] = [];
  const int = (name: string, v: unknown, min: number, max: number): void => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) p.push(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
  };
  if (typeof config.host !== 'string' || config.host.trim() === '') p.push('host must be a non-empty string');
  int('port', config.port, 0, 65535);
  if (typeof config.dataDir !== 'string' || config.dataDir === '') p.push('dataDir must be a non-empty path');
  if (config.pcscSocket !== null && (typeof config.pcscSocket !== 'string' || config.pcscSocket === '')) p.push('pcscSocket must be a path or null');
  if (typeof config.pcsc !== 'boolean') p.push('pcsc must be true or false');
  int('pcscBusyPollMicros', config.pcscBusyPollMicros, 0, MAX_BUSY_POLL_MICROS);
  if (config.pcscSocketGroup !== null && (typeof config.pcscSocketGroup !== 'string' || !/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}\$?$/.test(config.pcscSocketGroup))) {
    p.push('pcscSocketGroup must be a group name or numeric gid (or null)');
  }
  int('pcscMaxConnections', config.pcscMaxConnections, 1, 10_000);
  int('powerDownDelayMs', config.powerDownDelayMs, 0, 24 * 3600 * 1000);
  if (config.token !== null && (typeof config.token !== 'string' || config.token.length < 8 || /\s/.test(config.token))) {
    p.push('token must be at least 8 characters without spaces (or null for none)');
  }
  if (!LOG_FORMATS.includes(config.logFormat)) p.push(`logFormat must be one of ${LOG_FORMATS.join(', ')}, got ${JSON.stringify(config.logFormat)}`);
  if (!LOG_LEVELS.includes(config.logLevel)) p.push(`logLevel must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(config.logLevel)}`);
  int('readers', config.readers, 0, 16);
  if (config.defaultCard !== null && (typeof config.defaultCard !== 'string' || config.defaultCard === '')) p.push('defaultCard must be a profile name or null');
  if (config.defaultCard !== null && config.readers === 0) p.push('defaultCard needs at least one reader (set readers >= 1 or defaultCard to null)');
  if (!Array.isArray(config.cardReaders) || config.cardReaders.length > 8 || !config.cardReaders.every((c) => typeof c === 'string' && /^[a-z0-9][a-z0-9-]{0,63}$/.test(c))) {
    p.push('cardReaders must list at most 8 profile names');
  }
  int('jsonBodyLimit', config.jsonBodyLimit, 1024, 64 * 1024 * 1024);
  int('httpRequestTimeoutMs', config.httpRequestTimeoutMs, 100, 3600 * 1000);
  int('badRequestLogIntervalMs', config.badRequestLogIntervalMs, 0, 24 * 3600 * 1000);
  if (config.rawTranscripts !== undefined && typeof config.rawTranscripts !== 'boolean') p.push('rawTranscripts must be true or false');
  if (config.cardModules !== undefined && (!Array.isArray(config.cardModules) || config.cardModules.some((m) => typeof m !== 'string' || m === ''))) p.push('cardModules must be a list of file paths');
  if (!Array.isArray(config.devices) || config.devices.length === 0 || config.devices.length > 16) p.push('devices must list 1 to 16 devices');
  else {
    config.devices.forEach((d, i) => {
      // Never echo the key string itself in an error message: it may be a real secret.
      if (typeof d.keyString !== 'string') p.push(`devices[${i}].keyString must be a string`);
      if (!ENGINES.includes(d.engine)) p.push(`devices[${i}].engine must be one of ${ENGINES.join(', ')}, got ${JSON.stringify(d.engine)}`);
      int(`devices[${i}].guestMemoryMiB`, d.guestMemoryMiB, 1, 4096);
      if (d.maxRequestMiB !== undefined) int(`devices[${i}].maxRequestMiB`, d.maxRequestMiB, 1, 4096);
      if (!INTERRUPT_MODES.includes(d.interruptMode)) {
        p.push(`devices[${i}].interruptMode must be one of ${INTERRUPT_MODES.join(', ')}, got ${JSON.stringify(d.interruptMode)}`);
      }
    });
  }
  if (p.length === 0) {
    // sun_path holds 108 bytes including the terminating NUL on Linux.
    const sock = pcscSocketPath(config);
    if (config.pcsc && Buffer.byteLength(sock) > 107) p.push(`pcsc socket path is ${Buffer.byteLength(sock)} bytes; UNIX sockets allow 107 (set pcscSocket or a shorter dataDir)`);
    if (!isLoopbackHost(config.host) && config.token === null) {
      p.push(`refusing to bind to non-loopback host ${config.host} without a token: set --token or VSCR_TOKEN (or bind to 127.0.0.1)`);
    }
  }
  if (p.length > 0) throw new ConfigError(p);
  return config;
}
