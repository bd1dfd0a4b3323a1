// The `npm start` entry point: parses flags (commander), merges file/env/flags over the defaults, starts the
// service and shuts it down gracefully on SIGINT/SIGTERM.

import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { configFromEnv, ConfigError, readConfigFile, resolveConfig, type ConfigLayer } from './config/load-config.js';
import { ENGINES, INTERRUPT_MODES, LOG_FORMATS, LOG_LEVELS, type DeviceConfig, type LogFormat, type LogLevel } from './config/types.js';
import { startService, type RunningService } from './service.js';
import { isMainModule } from './main-module.js';

function integer(name: string, min: number, max: number): (value: string) => number {
  return (value) => {
    if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}`);
    return Number(value);
  };
}

interface CliOptions {
  config?: string;
  host?: string;
  port?: number;
  dataDir?: string;
  token?: string;
  logLevel?: LogLevel;
  logFormat?: LogFormat;
  pcscSocket?: string;
  pcsc?: boolean;
  pcscBusyPoll?: number;
  pcscSocketGroup?: string;
  pcscMaxConnections?: number;
  powerDownDelay?: number;
  readers?: number;
  card?: string | false;
  devices?: number;
  deviceKey?: string;
  engine?: DeviceConfig['engine'];
  guestMemory?: number;
  interruptMode?: DeviceConfig['interruptMode'];
  maxRequest?: number;
  rawTranscripts?: boolean;
  cardModule?: string[];
}

export function buildCommand(): Command {
  return new Command('vscr-service')
    .description('Run the vscr service: emulated PCI crypto devices, virtual readers and cards, a PC/SC resource manager\n'
      + 'served over REST (/v1, /docs), JSON-RPC over WebSocket (/v1/pcsc) and the pcsc-lite socket.\n'
      + 'Precedence: flags > environment (VSCR_*) > --config file > defaults. See docs/configuration.md.')
    .option('--config <file>', 'JSON configuration file (VSCR_CONFIG)')
    .option('--host <host>', 'address to bind (VSCR_HOST); non-loopback requires --token', undefined)
    .option('--port <n>', 'TCP port, 0 picks a free one (VSCR_PORT)', integer('--port', 0, 65535))
    .option('--data-dir <dir>', 'card state and the pcsc-lite socket (VSCR_DATA_DIR)')
    .option('--token <token>', 'require "Authorization: Bearer <token>" (VSCR_TOKEN; prefer the variable: flags show in ps)')
    .addOption(new Option('--log-level <level>', 'pino log level (VSCR_LOG_LEVEL)').choices(LOG_LEVELS))
    .addOption(new Option('--log-format <format>', 'auto: pretty on a terminal, JSON lines otherwise (VSCR_LOG_FORMAT)').choices(LOG_FORMATS))
    .option('--pcsc-socket <path>', 'pcsc-lite socket path, default <data-dir>/pcscd.comm (VSCR_PCSC_SOCKET)')
    .option('--no-pcsc', 'do not serve the pcsc-lite socket (VSCR_PCSC=0)')
    .option('--pcsc-busy-poll <us>', 'keep polling this long after PC/SC traffic (pcsc-lite, JSON-RPC), 0 = off (VSCR_PCSC_BUSY_POLL_US)', integer('--pcsc-busy-poll', 0, 10_000))
    .option('--pcsc-socket-group <group>', 'also let this group use the pcsc-lite socket (0660, group-owned) (VSCR_PCSC_SOCKET_GROUP)')
    .option('--pcsc-max-connections <n>', 'simultaneous pcsc-lite connections, like pcscd\'s 200 (VSCR_PCSC_MAX_CONNECTIONS)', integer('--pcsc-max-connections', 1, 10_000))
    .option('--power-down-delay <ms>', 'power an unused card down this long after its last handle, 0 = never; pcscd: 5000 (VSCR_POWER_DOWN_DELAY_MS)', integer('--power-down-delay', 0, 24 * 3600 * 1000))
    .option('--readers <n>', 'virtual readers at start-up (VSCR_READERS)', integer('--readers', 0, 16))
    .option('--card <profile>', 'card profile inserted in reader 0 at start-up (VSCR_CARD, "none" for no card)')
    .option('--no-card', 'start with every reader empty')
    .option('--devices <n>', 'number of crypto devices (VSCR_DEVICES)', integer('--devices', 1, 16))
    .option('--device-key <string>', 'device key string (aes_cbc_256); key = SHA-256 of it (VSCR_DEVICE_KEY)')
    .addOption(new Option('--engine <engine>', 'crypto engine (VSCR_ENGINE)').choices(ENGINES))
    .option('--guest-memory <MiB>', 'guest RAM per device in MiB (VSCR_GUEST_MEMORY_MIB)', integer('--guest-memory', 1, 4096))
    .addOption(new Option('--interrupt-mode <mode>', 'interrupt mode (VSCR_INTERRUPT_MODE)').choices(INTERRUPT_MODES))
    .option('--max-request <MiB>', 'largest single device request in MiB; default half of guest memory, at most 256 (VSCR_MAX_REQUEST_MIB)', integer('--max-request', 1, 4096))
    .option('--raw-transcripts', 'record PIN bytes in transcripts instead of masking them (VSCR_RAW_TRANSCRIPTS)')
    .option('--card-module <file...>', 'load a card written in TypeScript; insert it as module:<file name> (config: cardModules)')
    .showHelpAfterError()
    .allowExcessArguments(false)
    // Throw instead of exiting so callers (tests, embedding) decide; the entry point below exits.
    .exitOverride();
}

/** Only the flags the user gave: commander's negatable defaults (pcsc, card = true) must not mask env or file. */
function layerFromFlags(cmd: Command, o: CliOptions): ConfigLayer {
  const given = (name: keyof CliOptions): boolean => cmd.getOptionValueSource(name) === 'cli';
  const layer: ConfigLayer = {};
  if (given('host')) layer.host = o.host;
  if (given('port')) layer.port = o.port;
  if (given('dataDir')) layer.dataDir = o.dataDir;
  if (given('token')) layer.token = o.token;
  if (given('logLevel')) layer.logLevel = o.logLevel;
  if (given('logFormat')) layer.logFormat = o.logFormat;
  if (given('pcscSocket')) layer.pcscSocket = o.pcscSocket;
  if (given('pcsc')) layer.pcsc = o.pcsc;
  if (given('pcscBusyPoll')) layer.pcscBusyPollMicros = o.pcscBusyPoll;
  if (given('pcscSocketGroup')) layer.pcscSocketGroup = o.pcscSocketGroup;
  if (given('pcscMaxConnections')) layer.pcscMaxConnections = o.pcscMaxConnections;
  if (given('powerDownDelay')) layer.powerDownDelayMs = o.powerDownDelay;
  if (given('readers')) layer.readers = o.readers;
  if (given('card')) layer.defaultCard = o.card === false || o.card === 'none' ? null : (o.card as string);
  if (given('devices')) layer.deviceCount = o.devices;
  if (given('rawTranscripts')) layer.rawTranscripts = o.rawTranscripts;
  if (given('cardModule')) layer.cardModules = o.cardModule;
  const device: Partial<DeviceConfig> = {};
  if (given('deviceKey')) device.keyString = o.deviceKey;
  if (given('engine')) device.engine = o.engine;
  if (given('guestMemory')) device.guestMemoryMiB = o.guestMemory;
  if (given('interruptMode')) device.interruptMode = o.interruptMode;
  if (given('maxRequest')) device.maxRequestMiB = o.maxRequest;
  if (Object.keys(device).length > 0) layer.device = device;
  return layer;
}

/** Where the flag parser prints help and usage errors; the process's stdout/stderr unless a caller injects its own. */
export interface ServiceCliOutput {
  writeOut(text: string): void;
  writeErr(text: string): void;
}

/** Parses `argv` (without node and script), starts the service, and returns once it is listening. */
export async function runServiceCli(argv: string[], env: NodeJS.ProcessEnv = process.env, output?: ServiceCliOutput): Promise<RunningService> {
  const cmd = buildCommand();
  if (output) cmd.configureOutput({ writeOut: (s) => output.writeOut(s), writeErr: (s) => output.writeErr(s) });
  cmd.parse(argv, { from: 'user' });
  const opts = cmd.opts<CliOptions>();
  const configFile = opts.config ?? env.VSCR_CONFIG;
  const config = resolveConfig(configFile ? await readConfigFile(configFile) : undefined, configFromEnv(env), layerFromFlags(cmd, opts));
  const service = await startService(config);
  const close = service.close.bind(service);
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (signalled) {
      service.logger.warn({ signal }, 'second signal: exiting without waiting');
      process.exit(130);
    }
    signalled = true;
    service.logger.info({ signal }, 'signal received: shutting down gracefully');
    // close() without unhooking: a second Ctrl-C still reaches the handler above and exits at once.
    close().then(() => process.exit(0), (err: unknown) => {
      service.logger.error({ err }, 'shutdown failed');
      process.exit(1);
    });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // Embedders (tests) that close the service themselves must not leave the handlers behind.
  service.close = () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    return close();
  };
  return service;
}

/** The process entry: runs the service for `argv`; a start-up failure is printed and exits non-zero. */
export function main(argv: string[]): void {
  runServiceCli(argv).catch((err: unknown) => {
    if (err instanceof CommanderError) process.exit(err.exitCode);
    if (err instanceof ConfigError) process.stderr.write(`vscr: ${err.message}\n`);
    else process.stderr.write(`vscr: failed to start: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}

// `npm start` calls main() from bin/vscr-service.js; `node --import tsx service/main.ts` still works.
if (isMainModule(import.meta.url)) main(process.argv.slice(2));
