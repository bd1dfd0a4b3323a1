// What every client command shares: the common options (--url, --token, --json), the SDK client they build,
// output helpers, and Ctrl-C handling for long operations.

import { type Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_URL, VscrClient } from '../sdk/client.js';
import { CancelledError } from './exit-codes.js';

export interface ClientFlags {
  url?: string;
  token?: string;
  json?: boolean;
}

/** The process surface a command touches, injected so tests can run the CLI in process. */
export interface Io {
  /** One line to stdout / stderr. */
  out(line: string): void;
  err(line: string): void;
  /** Raw text to stdout / stderr (help, trace dumps). */
  write(text: string): void;
  writeErr(text: string): void;
  readonly stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  /** VSCR_URL and VSCR_TOKEN come from here. */
  readonly env: NodeJS.ProcessEnv;
}

export const stdio: Io = {
  out: (line) => process.stdout.write(line + '\n'),
  err: (line) => process.stderr.write(line + '\n'),
  write: (text) => process.stdout.write(text),
  writeErr: (text) => process.stderr.write(text),
  // Getters: touching process.stdin opens it, which would keep a finished CLI alive.
  get stdin() {
    return process.stdin;
  },
  get env() {
    return process.env;
  },
};

/** Adds --url, --token and --json to a client command. */
export function withClientOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--url <url>', `service URL (default: $VSCR_URL or ${DEFAULT_URL})`).argParser(parseUrl))
    .addOption(new Option('--token <token>', 'bearer token, when the service was started with one (default: $VSCR_TOKEN)'))
    .option('--json', 'print machine-readable JSON instead of text');
}

/** Adds --device <n>. */
export function withDeviceOption(cmd: Command): Command {
  return cmd.addOption(new Option('--device <n>', 'crypto device id (see `vscr devices`)').argParser(parseIndex).default(0));
}

export function resolveUrl(flags: ClientFlags, env: NodeJS.ProcessEnv = process.env): string {
  return flags.url ?? (env.VSCR_URL ? parseUrl(env.VSCR_URL) : DEFAULT_URL);
}

/** --token, else $VSCR_TOKEN (an empty variable counts as unset). */
export function resolveToken(flags: ClientFlags, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return flags.token ?? (env.VSCR_TOKEN || undefined);
}

export function makeClient(flags: ClientFlags, io: Io): VscrClient {
  return new VscrClient({ url: resolveUrl(flags, io.env), token: resolveToken(flags, io.env) });
}

/** Runs one command's work with a REST client that is closed afterwards, whatever happens. */
export async function withClient(flags: ClientFlags, io: Io, work: (c: VscrClient) => Promise<void>): Promise<void> {
  const client = makeClient(flags, io);
  try {
    await work(client);
  } finally {
    await client.close();
  }
}

export function parseUrl(value: string): string {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new InvalidArgumentError(`"${value}" is not a URL; use e.g. ${DEFAULT_URL}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new InvalidArgumentError(`"${value}" must be an http:// or https:// URL`);
  return value.replace(/\/+$/, '');
}

export function parseIndex(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`"${value}" is not a non-negative integer`);
  return Number(value);
}

export function parsePositiveInt(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new InvalidArgumentError(`"${value}" is not a positive integer`);
  return Number(value);
}

export function parseSeconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`"${value}" is not a positive number of seconds`);
  return n;
}

/** A reader given on the command line: a number is an index, anything else an exact name. */
export function readerArg(value: string): number | string {
  return /^\d+$/.test(value) ? Number(value) : value;
}

/**
 * Runs `work` with an AbortSignal that Ctrl-C (SIGINT) fires. After an interrupt, `onCancel` runs (e.g. a device
 * reset, as the original's key press did) and the call rejects with CancelledError (exit 130).
 */
export async function cancellable<T>(work: (signal: AbortSignal) => Promise<T>, onCancel: () => Promise<void>): Promise<T> {
  const controller = new AbortController();
  let interrupted = false;
  const onSigint = () => {
    if (interrupted) process.exit(130); // a second Ctrl-C does not wait for the clean-up
    interrupted = true;
    controller.abort(new CancelledError());
  };
  process.on('SIGINT', onSigint);
  try {
    return await work(controller.signal);
  } catch (err) {
    if (!interrupted) throw err;
    await onCancel();
    throw new CancelledError();
  } finally {
    process.off('SIGINT', onSigint);
  }
}
