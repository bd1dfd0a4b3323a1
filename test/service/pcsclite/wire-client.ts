// A raw pcsc-lite socket client for tests: send frames, read exact byte counts, observe closes (bounded waits).
import { createConnection, type Socket } from 'node:net';
import {
  Command,
  connectStruct,
  encodeRequest,
  establishStruct,
  READER_STATES_SIZE,
  transmitStruct,
  versionStruct,
} from '../../../service/pcsclite/index.js';

export class WireClient {
  private buffered: Buffer[] = [];
  private length = 0;
  private waiter: (() => void) | null = null;
  closed = false;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffered.push(chunk);
      this.length += chunk.length;
      this.waiter?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.waiter?.();
    });
    socket.on('error', () => undefined);
  }

  static open(path: string, timeoutMs = 5000): Promise<WireClient> {
    return new Promise((resolve, reject) => {
      const socket = createConnection(path);
      const timer = setTimeout(() => reject(new Error('connect timeout')), timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(new WireClient(socket));
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  /** Bytes received and not yet read. */
  get available(): number {
    return this.length;
  }

  send(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  request(command: Command, body?: Uint8Array, extra?: Uint8Array): void {
    this.send(encodeRequest(command, body, extra));
  }

  /** Reads exactly n bytes, failing after timeoutMs or when the server closes first. */
  async read(n: number, timeoutMs = 5000): Promise<Uint8Array> {
    const deadline = Date.now() + timeoutMs;
    while (this.length < n) {
      if (this.closed) throw new Error(`connection closed with ${this.length}/${n} bytes`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timeout waiting for ${n} bytes (have ${this.length})`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.waiter = null;
    }
    const all = Buffer.concat(this.buffered);
    this.buffered = [all.subarray(n)];
    this.length -= n;
    return new Uint8Array(all.subarray(0, n));
  }

  /** Resolves once the server has closed the connection (throws after timeoutMs). */
  async waitClosed(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('server did not close the connection');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.waiter = null;
    }
  }

  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  // --- libpcsclite-shaped helpers ---

  async version(major = 4, minor = 4): Promise<number> {
    this.request(Command.CMD_VERSION, versionStruct.encode({ major, minor, rv: 0 }));
    return versionStruct.decode(await this.read(12)).rv;
  }

  async establish(dwScope = 2): Promise<{ rv: number; hContext: number }> {
    this.request(Command.SCARD_ESTABLISH_CONTEXT, establishStruct.encode({ dwScope, hContext: 0, rv: 0 }));
    return establishStruct.decode(await this.read(12));
  }

  /** VERSION + ESTABLISH like SCardEstablishContext; throws unless both succeed. */
  async context(): Promise<number> {
    const v = await this.version();
    if (v !== 0) throw new Error(`version rv ${v.toString(16)}`);
    const e = await this.establish();
    if (e.rv !== 0) throw new Error(`establish rv ${e.rv.toString(16)}`);
    return e.hContext;
  }

  async readerStates(): Promise<Uint8Array> {
    this.request(Command.CMD_GET_READERS_STATE);
    return this.read(READER_STATES_SIZE);
  }

  async connect(hContext: number, szReader: string, dwShareMode = 2, dwPreferredProtocols = 3) {
    this.request(
      Command.SCARD_CONNECT,
      connectStruct.encode({ hContext, szReader, dwShareMode, dwPreferredProtocols, hCard: 0, dwActiveProtocol: 0, rv: 0 }),
    );
    return connectStruct.decode(await this.read(152));
  }

  async transmit(hCard: number, apdu: Uint8Array, pcbRecvLength = 65548) {
    this.request(
      Command.SCARD_TRANSMIT,
      transmitStruct.encode({
        hCard,
        ioSendPciProtocol: 2,
        ioSendPciLength: 16,
        cbSendLength: apdu.length,
        ioRecvPciProtocol: 3,
        ioRecvPciLength: 16,
        pcbRecvLength,
        rv: 0,
      }),
      apdu,
    );
    const reply = transmitStruct.decode(await this.read(32));
    const data = reply.rv === 0 ? await this.read(reply.pcbRecvLength) : new Uint8Array(0);
    return { ...reply, data };
  }
}

/** Polls `predicate` until true; throws after timeoutMs (a bounded wait, not a timing assertion). */
export async function waitFor(predicate: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timeout waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
