// One client connection: framing, strictly ordered command processing, replies and teardown (§1.2, §8a).

import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { ResourceManagerApi, RmSession } from '../rm/contract.js';
import { encodeSignal } from './codec.js';
import type { BusyPoll } from '../net/busy-poll.js';
import type { EventHub } from './event-hub.js';
import { type Frame, FrameDecoder, type FramingError } from './framing.js';
import { CloseConnection, type ConnectionContext, HANDLERS, type HandlerResult } from './handlers.js';
import { commandName } from './protocol.js';

/** Requests buffered per connection before we stop reading from it (a real client has at most one in flight). */
const MAX_QUEUED_FRAMES = 32;

export interface ConnectionOptions {
  id: number;
  socket: Socket;
  rm: ResourceManagerApi;
  hub: EventHub;
  log: Logger;
  /** A client that stays mid-frame this long is closed (pcscd would wait forever). */
  frameTimeoutMs: number;
  /** A connection without a context that sends nothing this long is closed (it only holds a connection slot). */
  idleTimeoutMs: number;
  /** Shared by the server's connections: extended on every request and reply. */
  busyPoll: BusyPoll;
  onClosed(connection: PcscConnection): void;
}

/**
 * A context connection (or a short-lived CANCEL connection: any command is accepted first). Frames are processed
 * one at a time in arrival order — the client serialises per context anyway — so a reply that must wait (BEGIN or
 * CONNECT behind another client's transaction) simply delays the ones after it, never another connection's.
 */
/** How long a closed connection's peer may go without reading before the socket is destroyed. */
const CLOSE_GRACE_MS = 2000;

export class PcscConnection implements ConnectionContext {
  readonly id: number;
  readonly session: RmSession;
  readonly rm: ResourceManagerApi;
  readonly hub: EventHub;
  readonly log: Logger;
  hContext = 0;

  private readonly socket: Socket;
  private readonly decoder = new FrameDecoder();
  private readonly queue: Frame[] = [];
  private readonly frameTimeoutMs: number;
  private readonly busyPoll: BusyPoll;
  private readonly onClosed: (connection: PcscConnection) => void;
  private busy = false;
  private closed = false;
  /** Reading is paused because the client does not read its replies, or pipelines too many requests. */
  private pausedForWrites = false;
  private pausedForQueue = false;
  /** Set when framing failed: close once the frames before the violation have been answered. */
  private closeAfterQueue: string | null = null;
  /** Settles when the resource-manager session has been released after the connection ended. */
  readonly released: Promise<void>;
  private readonly markReleased: () => void;
  private stallTimer: NodeJS.Timeout | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  /** Chunks received so far: the idle check compares it instead of re-arming a timer per chunk. */
  private chunks = 0;
  private readonly idleTimeoutMs: number;

  constructor(opts: ConnectionOptions) {
    this.id = opts.id;
    this.socket = opts.socket;
    this.rm = opts.rm;
    this.hub = opts.hub;
    this.log = opts.log;
    this.frameTimeoutMs = opts.frameTimeoutMs;
    this.idleTimeoutMs = opts.idleTimeoutMs;
    this.busyPoll = opts.busyPoll;
    this.onClosed = opts.onClosed;
    let markReleased = (): void => undefined;
    this.released = new Promise<void>((resolve) => (markReleased = resolve));
    this.markReleased = markReleased;
    this.session = opts.rm.openSession(`pcsclite#${opts.id}`);
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', (err) => this.log.debug({ err: err.message }, 'socket error'));
    this.socket.on('drain', () => {
      this.pausedForWrites = false;
      this.updateFlow();
    });
    this.socket.on('close', () => this.teardown('peer closed'));
    this.armIdle();
  }

  /**
   * A connection with a context may idle for as long as it likes (a waiting SCardGetStatusChange is silent for
   * minutes); one without holds nothing but a connection slot, so silence ends it.
   */
  private armIdle(): void {
    const seen = this.chunks;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      if (this.closed || this.hContext !== 0) return; // a context holder is a real client: no more checks
      if (this.chunks === seen && !this.busy && this.queue.length === 0) this.close(`idle for ${this.idleTimeoutMs} ms without a context`);
      else this.armIdle();
    }, this.idleTimeoutMs);
    this.idleTimer.unref();
  }

  /** The asynchronous 8-byte event or cancel message (EventHub guarantees at most one per registration). */
  sendSignal(rv: number): void {
    this.log.trace({ rv }, 'signal');
    this.write(encodeSignal(rv));
  }

  /** Protocol violation (or, with `force`, server shutdown): close this connection only. */
  close(reason: string, force = false): void {
    if (this.closed) return;
    // debug, as docs/errors.md says: a misbehaving local client must not be able to flood the log.
    this.log.debug({ reason }, 'closing pcsc-lite connection');
    this.teardown(reason);
    if (force) {
      this.socket.destroy();
      return;
    }
    // Replies already queued still reach the client (pcscd's writes were blocking, so they had been sent);
    // a peer that stops reading them cannot keep the socket alive for long.
    this.socket.end();
    this.destroyWhenStalled(this.socket.writableLength);
  }

  /**
   * After end(): destroys the socket once the peer has taken none of the queued replies for CLOSE_GRACE_MS (or
   * all of them were handed over). A client still reading a long backlog on a busy machine is not cut off.
   */
  private destroyWhenStalled(queued: number): void {
    setTimeout(() => {
      const left = this.socket.writableLength;
      if (this.socket.destroyed) return;
      if (left > 0 && left < queued) this.destroyWhenStalled(left);
      else this.socket.destroy();
    }, CLOSE_GRACE_MS).unref();
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.busyPoll.extend();
    this.chunks++;
    if (this.decoder.error) return; // already condemned; waiting for the queue to drain
    const frames = this.decoder.push(chunk);
    // Re-read after push (the guard above narrowed it to null).
    const violation = this.decoder.error as FramingError | null;
    if (violation) {
      // Requests before the bad header are answered first, as pcscd does, then the connection closes.
      this.closeAfterQueue = `protocol violation (${violation.violation}): ${violation.message}`;
      this.socket.pause();
    }
    this.watchStall();
    for (const frame of frames) this.queue.push(frame);
    if (this.queue.length >= MAX_QUEUED_FRAMES) {
      this.pausedForQueue = true;
      this.updateFlow();
    }
    if (!this.busy) void this.pump();
  }

  /**
   * libpcsclite never pipelines (one request, one reply), so a deep queue or replies piling up unread mean a
   * misbehaving peer: stop reading from it instead of buffering without bound. Other connections are unaffected.
   */
  private updateFlow(): void {
    if (this.closed) return;
    if (this.pausedForWrites || this.pausedForQueue) this.socket.pause();
    else this.socket.resume();
  }

  /** Arms a timer while a frame is incomplete and disarms it when the stream is back on a frame boundary. */
  private watchStall(): void {
    if (this.decoder.pending === 0) {
      if (this.stallTimer) {
        clearTimeout(this.stallTimer);
        this.stallTimer = null;
      }
      return;
    }
    if (this.stallTimer) return;
    this.stallTimer = setTimeout(() => {
      this.stallTimer = null;
      if (this.decoder.pending > 0) this.close(`client stopped mid-frame (${this.decoder.pending} bytes pending)`);
    }, this.frameTimeoutMs);
    this.stallTimer.unref();
  }

  private async pump(): Promise<void> {
    this.busy = true;
    try {
      while (!this.closed && this.queue.length > 0) {
        const frame = this.queue.shift() as Frame;
        if (this.pausedForQueue && this.queue.length < MAX_QUEUED_FRAMES / 2) {
          this.pausedForQueue = false;
          this.updateFlow();
        }
        let result: HandlerResult;
        try {
          const pending = HANDLERS[frame.command](this, frame);
          result = pending instanceof Promise ? await pending : pending;
        } catch (err) {
          // A resource-manager bug must not take the daemon down; like any fault it ends this connection only.
          this.log.error({ err, command: commandName(frame.command) }, 'handler failed');
          result = new CloseConnection('internal error');
        }
        if (this.closed) return;
        if (result instanceof CloseConnection) {
          this.close(`${commandName(frame.command)}: ${result.reason}`);
          return;
        }
        if (this.log.isLevelEnabled('trace')) {
          this.log.trace({ command: commandName(frame.command), reply: result?.length ?? 0 }, 'command');
        }
        if (result) this.write(result);
      }
      if (this.closeAfterQueue !== null) this.close(this.closeAfterQueue);
    } finally {
      this.busy = false;
    }
  }

  private write(bytes: Uint8Array): void {
    if (this.closed || this.socket.destroyed) return;
    this.busyPoll.extend(); // the client's next request usually follows within microseconds
    if (!this.socket.write(bytes) && !this.pausedForWrites) {
      this.pausedForWrites = true;
      this.updateFlow();
    }
  }

  /** EOF, violation or shutdown: unregister, forget the context and release everything like RELEASE_CONTEXT. */
  private teardown(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    if (this.stallTimer) clearTimeout(this.stallTimer);
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.queue.length = 0;
    this.hub.unregister(this);
    if (this.hContext !== 0) this.hub.unbindContext(this.hContext, this);
    this.log.debug({ reason }, 'connection closed');
    this.session
      .close()
      .catch((err: unknown) => this.log.error({ err }, 'releasing the session failed'))
      .finally(() => this.markReleased());
    this.onClosed(this);
  }
}
