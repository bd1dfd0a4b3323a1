// The UNIX-socket daemon side: socket file life cycle, accepting connections, change fan-out (§1.1, §10).

import { chmod, chown, lstat, mkdir, readFile, stat, unlink } from 'node:fs/promises';
import { createConnection, createServer, type Server } from 'node:net';
import { dirname } from 'node:path';
import pino, { type Logger } from 'pino';
import type { ResourceManagerApi } from '../rm/contract.js';
import { PcscConnection } from './connection.js';
import { BusyPoll, DEFAULT_BUSY_POLL_MICROS } from '../net/busy-poll.js';
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
  /** Simultaneous connections; more are closed at once and logged (default 200, pcscd's PCSC_MAX_CONTEXT_THREADS). */
  maxConnections?: number;
  /** Close a connection that has no context and sends nothing this long (default 60 s): it holds a slot for nothing. */
  idleTimeoutMs?: number;
  /** A group (name or gid) that may use the socket too: socket 0660 in that group, directory group-searchable. */
  socketGroup?: string | null;
}

/** pcscd's default cap on client connections (PCSC_MAX_CONTEXT_THREADS in pcsc-lite 1.9.9's pcscd.h). */
export const DEFAULT_MAX_CONNECTIONS = 200;

export interface PcscLiteServer {
  readonly socketPath: string;
  /** Open client connections (context and cancel connections). */
  connectionCount(): number;
  /** Connections closed at once because `maxConnections` were open. */
  refusedCount(): number;
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
  const gid = opts.socketGroup == null ? null : await groupId(opts.socketGroup);
  await prepareSocketPath(socketPath, log, gid);
  const maxConnections = opts.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  const idleTimeoutMs = opts.idleTimeoutMs ?? 60_000;

  const hub = new EventHub();
  const connections = new Set<PcscConnection>();
  let nextId = 1;
  let refused = 0;
  const server: Server = createServer((socket) => {
    if (connections.size >= maxConnections) {
      // As pcscd: the new connection is closed at once, the ones already open are untouched. The first refusal
      // and every 100th are logged at warn so a flood shows its size without flooding the log.
      refused++;
      const level = refused === 1 || refused % 100 === 0 ? 'warn' : 'debug';
      log[level]({ open: connections.size, limit: maxConnections, refused }, `too many pcsc-lite connections (limit ${maxConnections}): refusing a new one`);
      socket.destroy();
      return;
    }
    const id = nextId++;
    const connection = new PcscConnection({
      id,
      socket,
      rm,
      hub,
      log: log.child({ conn: id }),
      frameTimeoutMs,
      idleTimeoutMs,
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
  // connect() needs write permission on the socket file. pcscd makes it 0666 and lets any local user in; here
  // only the service's user may connect (0600), or also one chosen group (0660), since any client can spend a
  // card's PIN and PUK tries.
  if (gid !== null) await chown(socketPath, -1, gid);
  await chmod(socketPath, gid === null ? 0o600 : 0o660);
  const ours = await stat(socketPath);
  const unsubscribe = rm.onChange(() => hub.signalAll());
  log.info({ socketPath }, 'pcsc-lite server listening');

  let closing: Promise<void> | null = null;
  return {
    socketPath,
    connectionCount: () => connections.size,
    refusedCount: () => refused,
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

/** A group name (looked up in /etc/group) or a numeric gid. */
async function groupId(group: string): Promise<number> {
  if (/^\d+$/.test(group)) return Number(group);
  const text = await readFile('/etc/group', 'utf8').catch(() => '');
  for (const line of text.split('\n')) {
    const [name, , id] = line.split(':');
    if (name === group && id !== undefined && /^\d+$/.test(id)) return Number(id);
  }
  throw new Error(`pcsc-lite socket group "${group}" is not in /etc/group (give a numeric gid instead)`);
}

/**
 * Creates the parent directory (0700, or 0710 in the socket's group) and removes a stale socket left by a crash.
 * A socket somebody still answers on, or a file that is not a socket, is never removed.
 */
async function prepareSocketPath(socketPath: string, log: Logger, gid: number | null): Promise<void> {
  const dir = dirname(socketPath);
  const created = await mkdir(dir, { recursive: true, mode: 0o700 });
  if (created !== undefined) await chmod(dir, 0o700);
  if (gid !== null) {
    // The group needs to search the directory to reach the socket, nothing more (it cannot list it).
    await chown(dir, -1, gid);
    await chmod(dir, ((await stat(dir)).mode & 0o7777) | 0o010);
  }
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
