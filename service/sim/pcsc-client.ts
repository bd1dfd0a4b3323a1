// A pcsc-lite 1.9.9 wire client in TypeScript on the daemon's own codec: one UNIX-socket connection per context,
// the calls a relay needs (connect, reconnect, transmit, disconnect, reader states, waiting for a change).

import { createConnection, type Socket } from 'node:net';
import {
  Command,
  connectStruct,
  decodeReaderStates,
  disconnectStruct,
  encodeRequest,
  establishStruct,
  MAX_BUFFER_SIZE_EXTENDED,
  PROTOCOL_VERSION_MAJOR,
  PROTOCOL_VERSION_MINOR,
  READER_STATES_SIZE,
  reconnectStruct,
  releaseStruct,
  transmitStruct,
  versionStruct,
  waitReaderStateChange,
  type ReaderStateEntry,
} from '../pcsclite/index.js';
import { SCARD_SCOPE, SCARD_SHARE, scardName } from '../contract/pcsclite.js';

/** A PC/SC call the remote daemon refused (`rv` is its SCARD_* code), or a broken connection (SCARD_F_COMM_ERROR). */
export class PcscClientError extends Error {
  readonly scard: string;
  constructor(readonly rv: number, what: string) {
    super(`${what}: ${scardName(rv)}`);
    this.scard = scardName(rv);
    this.name = 'PcscClientError';
  }
}

const COMM_ERROR = 0x80100013; // SCARD_F_COMM_ERROR
/** The longest a single reply may take before the connection is called broken (a card's slowest answer fits). */
const REPLY_TIMEOUT_MS = 60_000;

/** One connection to a pcsc-lite socket with one context on it; calls are serialised as libpcsclite does. */
export class PcscClient {
  private chunks: Buffer[] = [];
  private length = 0;
  private wake: (() => void) | null = null;
  private closed = false;
  private queue: Promise<unknown> = Promise.resolve();
  hContext = 0;

  private constructor(private readonly socket: Socket, readonly socketPath: string) {
    socket.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.length += chunk.length;
      this.wake?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake?.();
    });
    socket.on('error', () => undefined); // surfaced as `closed` to the waiting read
  }

  /** Connects and establishes a context (CMD_VERSION 4.4, then SCARD_ESTABLISH_CONTEXT). */
  static async open(socketPath: string, timeoutMs = 5000): Promise<PcscClient> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = createConnection(socketPath);
      const timer = setTimeout(() => {
        s.destroy();
        reject(new PcscClientError(COMM_ERROR, `connect to ${socketPath} timed out`));
      }, timeoutMs);
      s.once('connect', () => {
        clearTimeout(timer);
        resolve(s);
      });
      s.once('error', (err) => {
        clearTimeout(timer);
        reject(new PcscClientError(COMM_ERROR, `cannot connect to ${socketPath} (${err.message})`));
      });
    });
    const client = new PcscClient(socket, socketPath);
    try {
      const v = versionStruct.decode(await client.call(Command.CMD_VERSION, versionStruct.encode({ major: PROTOCOL_VERSION_MAJOR, minor: PROTOCOL_VERSION_MINOR, rv: 0 }), 12));
      if (v.rv !== 0) throw new PcscClientError(v.rv, 'protocol version');
      const e = establishStruct.decode(await client.call(Command.SCARD_ESTABLISH_CONTEXT, establishStruct.encode({ dwScope: SCARD_SCOPE.USER, hContext: 0, rv: 0 }), 12));
      if (e.rv !== 0) throw new PcscClientError(e.rv, 'SCardEstablishContext');
      client.hContext = e.hContext;
      return client;
    } catch (err) {
      client.destroy();
      throw err;
    }
  }

  get isClosed(): boolean {
    return this.closed;
  }

  async readerStates(): Promise<ReaderStateEntry[]> {
    return decodeReaderStates(await this.call(Command.CMD_GET_READERS_STATE, new Uint8Array(0), READER_STATES_SIZE));
  }

  async connect(reader: string, preferredProtocols = 3, shareMode: number = SCARD_SHARE.SHARED): Promise<{ hCard: number; protocol: number }> {
    const r = connectStruct.decode(await this.call(Command.SCARD_CONNECT, connectStruct.encode({ hContext: this.hContext, szReader: reader, dwShareMode: shareMode, dwPreferredProtocols: preferredProtocols, hCard: 0, dwActiveProtocol: 0, rv: 0 }), 152));
    if (r.rv !== 0) throw new PcscClientError(r.rv, `SCardConnect("${reader}")`);
    return { hCard: r.hCard, protocol: r.dwActiveProtocol };
  }

  /** `initialization`: 0 leave, 1 reset (warm), 2 unpower (cold). Returns the active protocol. */
  async reconnect(hCard: number, initialization: number, preferredProtocols = 3, shareMode: number = SCARD_SHARE.SHARED): Promise<number> {
    const r = reconnectStruct.decode(await this.call(Command.SCARD_RECONNECT, reconnectStruct.encode({ hCard, dwShareMode: shareMode, dwPreferredProtocols: preferredProtocols, dwInitialization: initialization, dwActiveProtocol: 0, rv: 0 }), 24));
    if (r.rv !== 0) throw new PcscClientError(r.rv, 'SCardReconnect');
    return r.dwActiveProtocol;
  }

  async disconnect(hCard: number, disposition: number): Promise<void> {
    const r = disconnectStruct.decode(await this.call(Command.SCARD_DISCONNECT, disconnectStruct.encode({ hCard, dwDisposition: disposition, rv: 0 }), 12));
    if (r.rv !== 0) throw new PcscClientError(r.rv, 'SCardDisconnect');
  }

  async transmit(hCard: number, protocol: number, apdu: Uint8Array): Promise<Uint8Array> {
    return this.serial(async () => {
      const head = transmitStruct.encode({
        hCard,
        ioSendPciProtocol: protocol,
        ioSendPciLength: 16,
        cbSendLength: apdu.length,
        ioRecvPciProtocol: protocol,
        ioRecvPciLength: 16,
        pcbRecvLength: MAX_BUFFER_SIZE_EXTENDED,
        rv: 0,
      });
      this.write(encodeRequest(Command.SCARD_TRANSMIT, head, apdu));
      const r = transmitStruct.decode(await this.read(32));
      if (r.rv !== 0) throw new PcscClientError(r.rv, 'SCardTransmit');
      if (r.pcbRecvLength > MAX_BUFFER_SIZE_EXTENDED) throw new PcscClientError(COMM_ERROR, `SCardTransmit reply of ${r.pcbRecvLength} bytes`);
      return this.read(r.pcbRecvLength);
    });
  }

  /**
   * SCardGetStatusChange's wire half: registers for the next change, returns the current states and a promise
   * of the change signal (its rv). Nothing else may be sent on this connection until the signal came.
   */
  async waitForChange(): Promise<{ states: ReaderStateEntry[]; changed: Promise<number> }> {
    const states = decodeReaderStates(await this.call(Command.CMD_WAIT_READER_STATE_CHANGE, new Uint8Array(0), READER_STATES_SIZE));
    const changed = this.serial(async () => waitReaderStateChange.decode(await this.read(8, 0)).rv);
    return { states, changed };
  }

  async release(): Promise<void> {
    if (this.closed) return;
    try {
      await this.call(Command.SCARD_RELEASE_CONTEXT, releaseStruct.encode({ hContext: this.hContext, rv: 0 }), 8);
    } finally {
      this.destroy();
    }
  }

  destroy(): void {
    this.socket.destroy();
    this.closed = true;
    this.wake?.();
  }

  private call(command: Command, body: Uint8Array, replySize: number): Promise<Uint8Array> {
    return this.serial(async () => {
      this.write(encodeRequest(command, body));
      return this.read(replySize);
    });
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private write(frame: Uint8Array): void {
    if (this.closed) throw new PcscClientError(COMM_ERROR, `connection to ${this.socketPath} is closed`);
    this.socket.write(frame);
  }

  /** Exactly n bytes; timeoutMs 0 waits for ever (the change signal). */
  private async read(n: number, timeoutMs = REPLY_TIMEOUT_MS): Promise<Uint8Array> {
    const deadline = timeoutMs > 0 ? Date.now() + timeoutMs : Infinity;
    while (this.length < n) {
      if (this.closed) throw new PcscClientError(COMM_ERROR, `connection to ${this.socketPath} closed`);
      const left = deadline - Date.now();
      if (left <= 0) {
        this.destroy();
        throw new PcscClientError(COMM_ERROR, `no reply from ${this.socketPath} within ${timeoutMs} ms`);
      }
      await new Promise<void>((resolve) => {
        const timer = Number.isFinite(left) ? setTimeout(resolve, left) : null;
        this.wake = () => {
          if (timer) clearTimeout(timer);
          resolve();
        };
      });
      this.wake = null;
    }
    const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    const out = new Uint8Array(all.subarray(0, n));
    const rest = all.subarray(n);
    this.chunks = rest.length ? [rest] : [];
    this.length -= n;
    return out;
  }
}

