// Standalone vpcd bridge: `tsx service/vpcd/main.ts --port 35963` puts one vscr card into a system pcscd's vpcd reader.

import { pathToFileURL } from 'node:url';
import { Command, Option } from 'commander';
import pino from 'pino';
import { CryptoDeviceHost } from '../../crypto-device/index.js';
import { createVirtualCard, type CardCrypto } from '../../smcard/card/index.js';
import { startVpcdBridge } from './bridge.js';

const PUBLISHED_KEY = 'secret';

export async function runVpcdBridgeCli(argv: string[]): Promise<void> {
  const program = new Command('vscr-vpcd')
    .description('attach a vscr virtual card to a pcscd vsmartcard-vpcd reader over TCP')
    .option('--host <host>', 'where vpcd listens', '127.0.0.1')
    .option('--port <port>', 'vpcd port: 35963 = "Virtual PCD 00 00", 35964 = slot 1', '35963')
    .option('--profile <name>', 'card profile', 'default')
    .option('--data-dir <dir>', 'card state directory', './.vscr-data')
    .option('--no-crypto', 'no crypto device: the crypto applet answers "function not supported"')
    .addOption(new Option('--log-level <level>', 'pino log level').default('info').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']))
    .parse(argv, { from: 'user' });
  const opts = program.opts<{ host: string; port: string; profile: string; dataDir: string; crypto: boolean; logLevel: string }>();
  const port = Number(opts.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`--port must be 1..65535, got ${opts.port}`);
  const logger = pino({ level: opts.logLevel, redact: ['keyString', '*.keyString'] });

  let host: CryptoDeviceHost | null = null;
  let crypto: CardCrypto | undefined;
  if (opts.crypto) {
    // The device key comes from the environment only (flags show up in `ps`).
    const keyString = process.env.VSCR_DEVICE_KEY ?? PUBLISHED_KEY;
    if (keyString === PUBLISHED_KEY) logger.warn('device key is the published default "secret"; set VSCR_DEVICE_KEY');
    host = new CryptoDeviceHost({ logger });
    const index = await host.addDevice({ keyString, engine: 'native', guestMemoryBytes: 64 * 1024 * 1024 });
    crypto = await host.open(index);
  }
  const card = await createVirtualCard({ profile: opts.profile, crypto, dataDir: opts.dataDir, cardId: `${opts.profile}-vpcd`, logger });
  const bridge = startVpcdBridge({ card, host: opts.host, port, logger });

  const stop = async (): Promise<void> => {
    await bridge.close();
    await host?.shutdown();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runVpcdBridgeCli(process.argv.slice(2)).catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
