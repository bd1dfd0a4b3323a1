// Attaches one virtual card to a real pcscd's vsmartcard vpcd reader over TCP, reconnecting when vpcd goes away.

import { createConnection, type Socket } from 'node:net';
import pino, { type Logger } from 'pino';
import type { VirtualCard } from '../../smcard/card/contract.js';
import { encodeVpcdMessage, VPCD_CTRL, VpcdDecoder } from './codec.js';

export interface VpcdBridgeOptions {
  card: VirtualCard;
  /** Where pcscd's vpcd listens: `DEVICENAME /dev/null:PORT` ⇒ 127.0.0.1, PORT + slot (default 35963 = slot 0). */
  host?: string;
  port?: number;
  /** Delay before reconnecting after vpcd closed or refused us (default 1000 ms). */
  reconnectMs?: number;
  logger?: Logger;
}

export interface VpcdBridge {
  /** True while a TCP connection to vpcd is open (the card is "inserted" in the vpcd reader). */
  readonly connected: boolean;
  /** Resolves when the next connection to vpcd is established (tests, start-up scripts). */
  whenConnected(): Promise<void>;
  /** Detaches the card (vpcd sees a removal) and stops reconnecting. */
  close(): Promise<void>;
}

const SW_NO_PRECISE_DIAGNOSIS = Uint8Array.of(0x6f, 0x00);

/**
 * The card side of docs/vpcd-protocol.md §2: answer GET ATR with the card's ATR, map OFF/ON/RESET to power calls, and
 * everything longer than one byte is a C-APDU answered with the card's R-APDU. Messages are handled strictly in
 * order (vpcd waits for each answer anyway).
 */
export function startVpcdBridge(opts: VpcdBridgeOptions): VpcdBridge {
  const host = opts.host ?? '127.0.0.1';
  const port = opts.port ?? 0x8c7b;
  const reconnectMs = opts.reconnectMs ?? 1000;
  const log = (opts.logger ?? pino({ level: 'silent' })).child({ component: 'vpcd-bridge', vpcd: `${host}:${port}` });
  const { card } = opts;
  // pcscd picks T=1 first and vpcd ignores PPS (docs/vpcd-protocol.md §1), so run the card in T=1 when it offers it.
  const protocol = card.supportedProtocols & 2 ? 2 : 1;

  let socket: Socket | null = null;
  let closed = false;
  let timer: NodeJS.Timeout | null = null;
  let waiters: (() => void)[] = [];

  const handle = async (msg: Uint8Array): Promise<Uint8Array | null> => {
    if (msg.length === 1) {
      switch (msg[0]) {
        case VPCD_CTRL.ATR:
          return card.atr;
        case VPCD_CTRL.ON:
          await card.coldReset();
          return null;
        case VPCD_CTRL.RESET:
          await card.warmReset();
          return null;
        case VPCD_CTRL.OFF:
          await card.powerDown();
          return null;
        default:
          // The reference vicc ignores unknown controls without answering; so do we.
          log.debug({ control: msg[0] }, 'unknown vpcd control byte ignored');
          return null;
      }
    }
    if (msg.length === 0) return null;
    if (!card.powered) await card.coldReset();
    try {
      return await card.transmit(msg, protocol);
    } catch (err) {
      // The card contract never throws for card errors; anything else must still answer vpcd, or its
      // reader thread would block in recv() forever (docs/vpcd-protocol.md §2).
      log.error({ err }, 'card transmit failed');
      return SW_NO_PRECISE_DIAGNOSIS;
    }
  };

  const connect = (): void => {
    if (closed) return;
    const s = createConnection({ host, port });
    socket = s;
    const decoder = new VpcdDecoder();
    let chain = Promise.resolve();
    s.setNoDelay(true);
    s.on('connect', () => {
      log.info('card attached to vpcd');
      const ready = waiters;
      waiters = [];
      for (const w of ready) w();
    });
    s.on('data', (chunk: Buffer) => {
      for (const msg of decoder.push(chunk)) {
        chain = chain.then(async () => {
          const reply = await handle(msg);
          if (reply && !s.destroyed) s.write(encodeVpcdMessage(reply));
        });
      }
    });
    s.on('error', (err) => log.debug({ err: err.message }, 'vpcd connection error'));
    s.on('close', () => {
      if (socket === s) socket = null;
      if (closed) return;
      log.info({ reconnectMs }, 'vpcd connection closed; reconnecting');
      timer = setTimeout(connect, reconnectMs);
      timer.unref();
    });
  };
  connect();

  return {
    get connected() {
      return socket !== null && !socket.connecting && !socket.destroyed;
    },
    whenConnected() {
      if (this.connected) return Promise.resolve();
      return new Promise<void>((resolve) => waiters.push(resolve));
    },
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      const s = socket;
      socket = null;
      if (s && !s.destroyed) {
        await new Promise<void>((resolve) => {
          s.once('close', () => resolve());
          s.end();
          setTimeout(() => s.destroy(), 1000).unref();
        });
      }
      await card.flush();
    },
  };
}
