// The UNIX-socket daemon side: socket file life cycle, accepting connections, change fan-out (§1.1, §10).

import { chmod, lstat, mkdir, stat, unlink } from 'node:fs/promises';
import { createConnection, createServer, type Server } from 'node:net';
import { dirname } from 'node:path';
import pino, { type Logger } from 'pino';
import type { ResourceManagerApi } from '../rm/contract.js';
import { PcscConnection } from './connection.js';
import { BusyPoll, DEFAULT_BUSY_POLL_MICROS } from '../rpc/busy-poll.js';
import { EventHub } from './event-hub.js';

export interface PcscLiteServerOptions {
  rm: ResourceManagerApi;
  /** Where clients find us: give the same path to clients in PCSCLITE_CSOCK_NAME. */
  socketPath: string;
  logger?: Logger;
  /** Close a client that stays mid-frame this long (default 30 s). */
  frameTimeoutMs?: number;
  /** Busy-poll window after client traffic in µs (default 500, 0 = off); see busy-poll.ts. */
  busyPollMicros?: number;
}

export interface PcscLiteServer {
  readonly socketPath: string;
  /** Open client connections (context and cancel connections). */
  connectionCount(): number;
  close(): Promise<void>;
}

/** sun_path is 108 bytes including the NUL; libpcsclite truncates PCSCLITE_CSOCK_NAME to 107 too (§1.1). */
const MAX_SOCKET_PATH_BYTES = 107;
const RELEASE_TIMEOUT_MS = 5000;

export async function startPcscLiteServer(opts: PcscLiteServerOptions): Promise<PcscLiteServer> {
  const base = opts.logger ?? pino({ level: 'silent' });
  // The service usually hands us a child already tagged; avoid a duplicate `component` key in every line.
  const log = base.bindings().component === undefined ? base.child({ component: 'pcsclite' }) : base;
  const { rm, socketPath } = opts;
  const frameTimeoutMs = opts.frameTimeoutMs ?? 30_000;
  const busyPoll = new BusyPoll(opts.busyPollMicros ?? DEFAULT_BUSY_POLL_MICROS);
  if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH_BYTES) {
    throw new Error(`pcsc-lite socket path is longer than ${MAX_SOCKET_PATH_BYTES} bytes: ${socketPath}`);
  }
  await prepareSocketPath(socketPath, log);

  const hub = new EventHub();
  const connections = new Set<PcscConnection>();
  let nextId = 1;
  const server: Server = createServer((socket) => {
    const id = nextId++;
    const connection = new PcscConnection({
      id,
      socket,
      rm,
      hub,
      log: log.child({ conn: id }),
      frameTimeoutMs,
      busyPoll,
      onClosed: (c) => connections.delete(c),
    });
    connections.add(connection);
  });
  server.on('error', (err) => log.error({ err }, 'pcsc-lite server error'));

  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen(socketPath, () => {
      server.off('error', onError);
      resolve();
    });
  });
  // libpcsclite connects as whatever user runs the application, and connect() needs write permission on the
  // socket file; pcscd makes it 0666 for the same reason. Who may reach it is decided by the directory.
  await chmod(socketPath, 0o666);
  const ours = await stat(socketPath);
  const unsubscribe = rm.onChange(() => hub.signalAll());
  log.info({ socketPath }, 'pcsc-lite server listening');

  let closing: Promise<void> | null = null;
  return {
    socketPath,
    connectionCount: () => connections.size,
    close() {
      closing ??= (async () => {
        unsubscribe();
        busyPoll.stop();
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        const open = [...connections];
        for (const c of open) c.close('server shutting down', true);
        // Every context, handle and transaction is back with the resource manager before it shuts down
        // (bounded: a resource manager that never settles must not hang the service's shutdown).
        let timer: NodeJS.Timeout | undefined;
        const released = await Promise.race([
          Promise.all(open.map((c) => c.released)).then(() => true),
          new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), RELEASE_TIMEOUT_MS))),
        ]);
        clearTimeout(timer);
        if (!released) log.warn({ timeoutMs: RELEASE_TIMEOUT_MS }, 'pcsc-lite sessions still releasing at shutdown');
        await stopped;
        // Remove the file only if it is still ours (a newer server may have replaced it).
        const now = await stat(socketPath).catch(() => null);
        if (now && now.ino === ours.ino && now.dev === ours.dev) await unlink(socketPath).catch(() => undefined);
        log.info({ socketPath }, 'pcsc-lite server stopped');
      })();
      return closing;
    },
  };
}

/**
 * Creates the parent directory (0755, like pcscd's /run/pcscd) and removes a stale socket left by a crash. A socket
 * somebody still answers on, or a file that is not a socket, is never removed.
 */
async function prepareSocketPath(socketPath: string, log: Logger): Promise<void> {
  const dir = dirname(socketPath);
  const created = await mkdir(dir, { recursive: true, mode: 0o755 });
  if (created !== undefined) await chmod(dir, 0o755);
  const existing = await lstat(socketPath).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw err;
  });
  if (!existing) return;
  if (!existing.isSocket()) throw new Error(`${socketPath} exists and is not a socket; refusing to replace it`);
  if (await isAnswering(socketPath)) throw new Error(`${socketPath} is in use by another PC/SC daemon`);
  log.info({ socketPath }, 'removing stale pcsc-lite socket');
  await unlink(socketPath);
}

function isAnswering(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createConnection(socketPath);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}
