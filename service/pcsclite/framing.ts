// Splits the client byte stream into complete request frames, validating sizes before buffering (§1.3, §1.4, §10).

import { readU32LE } from '../../kernel/bytes.js';
import {
  BODY_SIZE,
  type Command,
  commandName,
  HEADER_SIZE,
  isCommand,
  MAX_BUFFER_SIZE_EXTENDED,
  SEND_LENGTH_OFFSET,
} from './protocol.js';

/** One complete client message. `payload` is the TRANSMIT/CONTROL input buffer (empty for other commands). */
export interface Frame {
  command: Command;
  /** The fixed struct, exactly BODY_SIZE[command] bytes. */
  body: Uint8Array;
  payload: Uint8Array;
}

export type FramingViolation = 'unknown-command' | 'wrong-size' | 'oversize-payload';

/** A protocol violation after which pcscd closes the connection (§1.4). */
export class FramingError extends Error {
  constructor(
    readonly violation: FramingViolation,
    message: string,
  ) {
    super(message);
    this.name = 'FramingError';
  }
}

type Stage = { kind: 'header' } | { kind: 'body'; command: Command } | { kind: 'payload'; command: Command; body: Uint8Array; length: number };

/**
 * Incremental decoder: feed it whatever `data` events deliver (one byte at a time or many frames at once) and it
 * returns the frames completed so far. Declared sizes are checked against the fixed table before any buffer for
 * them is allocated, so a hostile length can never make us reserve memory. A violation is reported through
 * `error` after the frames that preceded it in the stream (pcscd answers those before it reads the bad header);
 * from then on the decoder is poisoned and the connection must be closed.
 */
export class FrameDecoder {
  private chunks: Uint8Array[] = [];
  private length = 0;
  /** Bytes of the current, incomplete frame already consumed (its header and maybe its struct). */
  private consumed = 0;
  private stage: Stage = { kind: 'header' };
  private failed: FramingError | null = null;

  /** Bytes received that do not yet form a complete frame (non-zero = the client is mid-frame). */
  get pending(): number {
    return this.length + this.consumed;
  }

  /** The violation that ended the stream, once one was seen. */
  get error(): FramingError | null {
    return this.failed;
  }

  /** Complete frames found so far; check `error` afterwards. Throws if called again after a violation. */
  push(chunk: Uint8Array): Frame[] {
    if (this.failed) throw this.failed;
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.length += chunk.length;
    }
    const frames: Frame[] = [];
    try {
      for (let frame = this.step(); frame; frame = this.step()) frames.push(frame);
    } catch (err) {
      if (!(err instanceof FramingError)) throw err;
      this.failed = err;
      this.chunks = [];
      this.length = 0;
      this.consumed = 0;
    }
    return frames;
  }

  /** Advances the state machine as far as the buffered bytes allow; returns a frame when one completes. */
  private step(): Frame | null {
    for (;;) {
      const stage = this.stage;
      if (stage.kind === 'header') {
        if (this.length < HEADER_SIZE) return null;
        // Two little-endian uint32s (rxHeader: size, command), read directly: this runs for every request.
        const header = this.take(HEADER_SIZE);
        const size = readU32LE(header, 0);
        const command = readU32LE(header, 4);
        if (!isCommand(command)) {
          throw new FramingError('unknown-command', `${commandName(command)} is not a 1.9.9 client command`);
        }
        if (size !== BODY_SIZE[command]) {
          throw new FramingError(
            'wrong-size',
            `${commandName(command)} declares ${size} body bytes, expected ${BODY_SIZE[command]}`,
          );
        }
        this.stage = { kind: 'body', command };
        continue;
      }
      if (stage.kind === 'body') {
        const size = BODY_SIZE[stage.command];
        if (this.length < size) return null;
        const body = this.take(size);
        const lengthOffset = SEND_LENGTH_OFFSET[stage.command];
        if (lengthOffset === undefined) {
          this.stage = { kind: 'header' };
          this.consumed = 0;
          return { command: stage.command, body, payload: new Uint8Array(0) };
        }
        const length = readU32LE(body, lengthOffset);
        if (length > MAX_BUFFER_SIZE_EXTENDED) {
          throw new FramingError(
            'oversize-payload',
            `${commandName(stage.command)} cbSendLength ${length} exceeds ${MAX_BUFFER_SIZE_EXTENDED}`,
          );
        }
        this.stage = { kind: 'payload', command: stage.command, body, length };
        continue;
      }
      if (this.length < stage.length) return null;
      const payload = this.take(stage.length);
      this.stage = { kind: 'header' };
      this.consumed = 0;
      return { command: stage.command, body: stage.body, payload };
    }
  }

  /** Removes and returns exactly `n` buffered bytes (caller checked availability); copies only across chunks. */
  private take(n: number): Uint8Array {
    this.length -= n;
    this.consumed += n;
    const first = this.chunks[0];
    if (n === 0) return new Uint8Array(0);
    if (first.length === n) {
      this.chunks.shift();
      return first;
    }
    if (first.length > n) {
      this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const head = this.chunks[0];
      const use = Math.min(head.length, n - filled);
      out.set(head.subarray(0, use), filled);
      filled += use;
      if (use === head.length) this.chunks.shift();
      else this.chunks[0] = head.subarray(use);
    }
    return out;
  }
}
