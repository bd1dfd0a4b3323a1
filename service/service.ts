// startService(): composes the whole service — crypto devices, reader bus and readers, default card, resource
// manager, HTTP app, pcsc-lite socket — and tears it down in reverse order on close().

import { readFileSync } from 'node:fs';
import { chmod, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { AddressInfo, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { createRequire } from 'node:module';
import pino, { type Logger } from 'pino';
import type { FastifyInstance } from 'fastify';
import type { CryptoDeviceControl, CryptoDeviceHost } from '../crypto-device/index.js';
import type { ReaderBus } from '../smcard/reader/contract.js';
import { createReaderBus } from '../smcard/index.js';
import { removeStaleTempFiles } from '../smcard/card/index.js';
import { PUBLISHED_KEY_STRING } from './config/defaults.js';
import { pcscSocketPath, resolveConfig } from './config/load-config.js';
import type { LogFormat, ServiceConfig } from './config/types.js';
import { cardCallsOf, openDevices, type OpenedDevices } from './runtime/devices.js';
import { DeviceFaultHost } from './runtime/device-faults.js';
import { EventHub } from './runtime/events.js';
import { Metrics } from './runtime/metrics.js';
import { ReaderHost } from './runtime/readers.js';
import { SimHost } from './sim/sim-host.js';
import type { ResourceManagerApi } from './rm/contract.js';
import { createResourceManager } from './rm/index.js';
import { startPcscLiteServer } from './pcsclite/index.js';

export type { ServiceConfig } from './config/types.js';

export interface RunningService {
  /** `http://host:port` with the real port. */
  url: string;
  pcscSocketPath: string | null;
  config: ServiceConfig;
  rm: ResourceManagerApi;
  bus: ReaderBus;
  cryptoHost: CryptoDeviceHost;
  /** Added for tests and tools: the opened devices (index = REST id), the fastify instance, the reader host, metrics. */
  devices: readonly CryptoDeviceControl[];
  app: FastifyInstance;
  readers: ReaderHost;
  sim: SimHost;
  metrics: Metrics;
  logger: Logger;
  close(): Promise<void>;
}

/** How long close() lets HTTP/WebSocket peers finish before cutting their connections. */
export const SHUTDOWN_GRACE_MS = 3000;

export interface StartOptions {
  /** Use this logger instead of creating one (tests). */
  logger?: Logger;
  /** Where the service's own (redacting) logger writes; stdout by default. */
  logStream?: pino.DestinationStream;
  /**
   * Timings a test shortens so it does not sleep through the production values; not configuration (a deployment
   * has no reason to change them). Each defaults to the production value.
   */
  timings?: ServiceTimings;
}

export interface ServiceTimings {
  /** close(): grace for HTTP/WebSocket peers before their connections are cut. Default SHUTDOWN_GRACE_MS (3000). */
  shutdownGraceMs?: number;
  /** Every crypto driver's reset wait before STATUS_DEVICE_BUSY. Default the driver's 1000 ms. */
  deviceResetTimeoutMs?: number;
  /** Every crypto driver's base wait for a command's interrupt before STATUS_IO_TIMEOUT. Default the driver's 2000 ms (plus 250 ms per MiB). */
  deviceCommandTimeoutMs?: number;
}

/** Secrets never reach the log: device key strings, tokens, authorization headers. */
export const REDACT_PATHS = [
  'keyString', '*.keyString', 'devices[*].keyString', '*.devices[*].keyString',
  'token', '*.token', 'authorization', '*.authorization', 'headers.authorization', '*.headers.authorization',
  'access_token', '*.access_token',
];

/** `auto` is pretty only when stdout is a terminal: files, pipes and collectors get one JSON object per line. */
export function chooseLogFormat(format: LogFormat, stdoutIsTty: boolean): 'pretty' | 'json' {
  return format === 'auto' ? (stdoutIsTty ? 'pretty' : 'json') : format;
}

/** A given `stream` always gets JSON lines (tests parse them); otherwise stdout in the chosen format. */
export function createLogger(level: ServiceConfig['logLevel'], stream?: pino.DestinationStream, format: LogFormat = 'json'): Logger {
  const options = { level, redact: { paths: REDACT_PATHS, censor: '[Redacted]' }, base: { service: 'vscr' } };
  if (stream !== undefined) return pino(options, stream);
  // Synchronous so the last lines before an exit are not lost; redaction happens before formatting.
  if (chooseLogFormat(format, process.stdout.isTTY === true) === 'pretty') {
    // Loaded only for a terminal: JSON-line runs (services, pipes, tests) never pay for the formatter.
    const pretty = createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty');
    return pino(options, pretty({ sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service' }));
  }
  return pino(options);
}

export function serviceVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

function urlOf(address: AddressInfo): string {
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}

export async function startService(partial: Partial<ServiceConfig> = {}, options: StartOptions = {}): Promise<RunningService> {
  const config = resolveConfig(partial);
  const logger = options.logger ?? createLogger(config.logLevel, options.logStream, config.logFormat);
  const log = logger.child({ component: 'service' });
  const graceMs = options.timings?.shutdownGraceMs ?? SHUTDOWN_GRACE_MS;
  const started = performance.now();
  const startedAt = Date.now();
  const steps: Record<string, number> = {};
  const step = async <T>(name: string, run: () => Promise<T> | T): Promise<T> => {
    const t = performance.now();
    const result = await run();
    steps[name] = Math.round((performance.now() - t) * 10) / 10;
    log.debug({ step: name, ms: steps[name] }, 'start-up step done');
    return result;
  };

  // Teardown mirrors set-up: each acquired resource pushes its release, run in reverse on failure or close().
  const undo: { name: string; run: () => Promise<void> }[] = [];
  let shuttingDown = false;
  const teardown = async (): Promise<void> => {
    shuttingDown = true;
    while (undo.length > 0) {
      const { name, run } = undo.pop()!;
      const t = performance.now();
      try {
        await run();
        log.debug({ step: name, ms: Math.round(performance.now() - t) }, 'shutdown step done');
      } catch (err) {
        log.error({ err, step: name }, 'shutdown step failed');
      }
    }
  };

  try {
    // The e-book's key string is printed in a public document (docs/background.md): say so when it is in use.
    if (config.devices.some((d) => d.keyString === PUBLISHED_KEY_STRING)) {
      log.warn('device key string is the published default "secret" from the e-book: anyone can decrypt; set --device-key or VSCR_DEVICE_KEY');
    }
    const metrics = new Metrics();
    // The device worker threads start first and boot while this thread loads and sets up everything else (a
    // start-up profile had this thread mostly waiting for them); card crypto calls and listening await them.
    const opening: Promise<OpenedDevices> = step('crypto-devices', () => openDevices(config.devices, logger, { resetTimeoutMs: options.timings?.deviceResetTimeoutMs, commandTimeoutMs: options.timings?.deviceCommandTimeoutMs }));
    opening.catch(() => undefined); // awaited below; a failure must not count as unhandled meanwhile
    undo.push({ name: 'crypto-devices', run: async () => (await opening.catch(() => null))?.close() });
    // The HTTP app's modules (fastify and its plugins: the largest block of start-up work) are loaded only now, so
    // the device workers boot meanwhile; in full before the app is built, so nothing changes for requests.
    const { buildApp } = await step('http-modules', () => import('./http/app.js'));
    await step('data-dir', async () => {
      // 0700: card state (PIN/PUK counters) and the pcsc-lite socket live here; other local users stay out.
      const created = await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
      if (created !== undefined) await chmod(config.dataDir, 0o700);
      const removed = await removeStaleTempFiles(join(config.dataDir, 'cards'));
      if (removed.length > 0) log.info({ removed: removed.length }, 'removed temp state files left by a crashed writer');
    });

    const controls: CryptoDeviceControl[] = [];
    let openedHost: CryptoDeviceHost | null = null;

    const cardCalls = cardCallsOf(opening, config.devices.length, metrics);
    const bus = createReaderBus({ logger });
    const readers = new ReaderHost({
      bus,
      dataDir: config.dataDir,
      // One view per configured device; an insert waits for that device to be open.
      crypto: (device: number) => cardCalls[device],
      logger: logger.child({ component: 'readers' }),
      metrics,
    });
    const sim = new SimHost({ readers, logger: logger.child({ component: 'sim' }), rawTranscripts: config.rawTranscripts });
    await step('card-modules', async () => {
      for (const file of config.cardModules ?? []) await sim.registerModule(file);
    });
    await step('readers', () => {
      for (let i = 0; i < config.readers; i += 1) readers.addReaderNow();
    });
    // Cards hold state in the data directory: flush after the RM let go of them, before devices close.
    undo.push({ name: 'flush-cards', run: () => readers.flushAll() });

    const rm = await step('resource-manager', async () => {
      const created = createResourceManager({ bus, logger, powerDownDelayMs: config.powerDownDelayMs });
      readers.attachResourceManager(created);
      undo.push({ name: 'resource-manager', run: () => created.shutdown() });
      await created.ready();
      return created;
    });

    const events = new EventHub(rm);
    undo.push({ name: 'events', run: async () => events.close() });
    // Relays take their cards out through the RM, so they stop before it does.
    undo.push({ name: 'sim', run: () => sim.close() });

    // The start-up cards are made while the HTTP app is built: making one mostly waits for the device and for the
    // data directory (lock, state file), time this thread spends on the app meanwhile. One after another, in the
    // configured order, so readers, card ids and device calls come as they always did.
    const inserting = (async () => {
      if (config.defaultCard !== null && config.readers > 0) {
        const card = config.defaultCard;
        await step('default-card', () => (card.startsWith('module:') ? sim.insertModule(bus.readers()[0], card) : readers.insertCard(bus.readers()[0], card)));
      }
      for (const profile of config.cardReaders) {
        await step(`card-reader-${profile}`, () => readers.insertCard(readers.addReaderNow({ ifdType: cardReaderName(profile) }), profile));
      }
    })();
    inserting.catch(() => undefined); // awaited below, like `opening`

    const app = await step('http-app', () => buildApp({
      config,
      logger,
      // Filled before listening: the routes read it per request.
      devices: controls,
      deviceFaults: new DeviceFaultHost(() => openedHost, metrics, logger.child({ component: 'faults' })),
      readers,
      sim,
      rm,
      events,
      metrics,
      version: serviceVersion(),
      startedAt,
      shuttingDown: () => shuttingDown,
    })).catch(async (err: unknown) => {
      await inserting.catch(() => undefined); // teardown flushes the cards: none may still be on its way in
      throw err;
    });
    // Graceful, but bounded: a peer that never finishes (a half-open socket, a WebSocket that ignores the close
    // handshake) must not hold shutdown forever, so whatever is still connected after the grace period is cut.
    const sockets = new Set<Socket>();
    app.server.on('connection', (socket: Socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    });
    undo.push({
      name: 'http',
      run: async () => {
        // A connection that never sent a byte has nothing in flight, and node's server.close() would wait for
        // its headers timeout (clients such as undici open spare sockets), so it goes at once.
        for (const socket of sockets) if (socket.bytesRead === 0) socket.destroy();
        const force = setTimeout(() => {
          log.warn({ sockets: sockets.size, graceMs }, 'connections still open after the grace period: closing them');
          for (const socket of sockets) socket.destroy();
        }, graceMs);
        try {
          await app.close();
        } finally {
          clearTimeout(force);
        }
      },
    });
    await inserting;
    const devices = await opening;
    controls.push(...devices.controls);
    openedHost = devices.host;
    await step('http-listen', () => app.listen({ host: config.host, port: config.port }));
    const url = urlOf(app.server.address() as AddressInfo);

    let pcscPath: string | null = null;
    if (config.pcsc) {
      const server = await step('pcsc-lite', () => startPcscLiteServer({
        rm,
        socketPath: pcscSocketPath(config),
        busyPollMicros: config.pcscBusyPollMicros,
        maxConnections: config.pcscMaxConnections,
        socketGroup: config.pcscSocketGroup,
        logger: logger.child({ component: 'pcsclite' }),
      }));
      pcscPath = server.socketPath;
      // Teardown runs in reverse: HTTP (REST, WebSocket) first, then this socket, then the RM, so every transport
      // has stopped taking calls before the RM cancels what is pending.
      undo.splice(undo.findIndex((u) => u.name === 'resource-manager') + 1, 0, { name: 'pcsc-lite', run: () => server.close() });
    }

    log.info({
      url,
      pcscSocket: pcscPath,
      devices: config.devices.length,
      readers: config.readers,
      dataDir: config.dataDir,
      auth: config.token !== null,
      startupMs: Math.round(performance.now() - started),
      steps,
    }, `listening on ${url}`);

    let closing: Promise<void> | null = null;
    return {
      url,
      pcscSocketPath: pcscPath,
      config,
      rm,
      bus,
      cryptoHost: devices.host,
      devices: devices.controls,
      app,
      readers,
      sim,
      metrics,
      logger,
      close() {
        closing ??= (async () => {
          const t = performance.now();
          log.info('shutting down');
          await teardown();
          log.info({ ms: Math.round(performance.now() - t) }, 'stopped');
        })();
        return closing;
      },
    };
  } catch (err) {
    await teardown();
    throw err;
  }
}

/** `openpgp` → `OpenPGP Reader`: the reader of a start-up card is named after its profile (scdaemon's reader-port matches a prefix). */
function cardReaderName(profile: string): string {
  const known: Readonly<Record<string, string>> = { openpgp: 'OpenPGP', piv: 'PIV' };
  return `${known[profile] ?? profile} Reader`;
}
