// The vpcd bridge against a fake vpcd on loopback: framing, controls, APDUs, real card ATR, reconnect, detach.
import { createServer, type Server, type Socket } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { VirtualCard } from '../../../smcard/card/contract.js';
import { createVirtualCard } from '../../../smcard/card/index.js';
import { encodeVpcdMessage, startVpcdBridge, VPCD_CTRL, VpcdDecoder, type VpcdBridge } from '../../../service/vpcd/index.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** A card that records power calls and answers APDUs with their INS byte + 9000. */
function fakeCard(): VirtualCard & { calls: string[] } {
  const calls: string[] = [];
  let powered = false;
  return {
    calls,
    atr: Uint8Array.from([0x3b, 0x80, 0x80, 0x01, 0x01]),
    supportedProtocols: 3,
    profile: 'fake',
    get powered() {
      return powered;
    },
    async coldReset() {
      calls.push('cold');
      powered = true;
      return this.atr;
    },
    async warmReset() {
      calls.push('warm');
      return this.atr;
    },
    async powerDown() {
      calls.push('off');
      powered = false;
    },
    async transmit(apdu, protocol) {
      calls.push(`apdu:${hex(apdu)}:T${protocol === 2 ? 1 : 0}`);
      return Uint8Array.from([apdu[1], 0x90, 0x00]);
    },
    async flush() {
      calls.push('flush');
    },
  };
}

/** One accepted vpcd-side connection: send a message, read the next answer. */
class FakeVpcdPeer {
  private readonly decoder = new VpcdDecoder();
  private readonly inbox: Uint8Array[] = [];
  private wake: (() => void) | null = null;
  closed = false;
  constructor(readonly socket: Socket) {
    socket.on('data', (c: Buffer) => {
      this.inbox.push(...this.decoder.push(c));
      this.wake?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake?.();
    });
  }
  /** vpcd writes length and payload separately (two send() calls); mimic that. */
  send(payload: number[]): void {
    const framed = encodeVpcdMessage(Uint8Array.from(payload));
    this.socket.write(framed.subarray(0, 2));
    this.socket.write(framed.subarray(2));
  }
  async next(timeoutMs = 5000): Promise<Uint8Array> {
    const deadline = Date.now() + timeoutMs;
    while (this.inbox.length === 0) {
      if (this.closed) throw new Error('bridge closed the connection');
      if (Date.now() > deadline) throw new Error('timeout waiting for the bridge');
      await new Promise<void>((r) => {
        const t = setTimeout(r, 50);
        this.wake = () => {
          clearTimeout(t);
          r();
        };
      });
    }
    return this.inbox.shift() as Uint8Array;
  }
  async waitClosed(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error('bridge did not close');
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

class FakeVpcd {
  private readonly accepted: FakeVpcdPeer[] = [];
  private constructor(readonly server: Server, readonly port: number) {
    server.on('connection', (s) => this.accepted.push(new FakeVpcdPeer(s)));
  }
  static async start(): Promise<FakeVpcd> {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    return new FakeVpcd(server, address.port);
  }
  async peer(index: number, timeoutMs = 5000): Promise<FakeVpcdPeer> {
    const deadline = Date.now() + timeoutMs;
    while (!this.accepted[index]) {
      if (Date.now() > deadline) throw new Error(`no connection #${index}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    return this.accepted[index];
  }
  async close(): Promise<void> {
    for (const p of this.accepted) p.socket.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

describe('vpcd codec', () => {
  it('frames with a big-endian length and reassembles at any split', () => {
    expect(hex(encodeVpcdMessage(Uint8Array.of(VPCD_CTRL.ATR)))).toBe('000104');
    expect(() => encodeVpcdMessage(new Uint8Array(0x10000))).toThrow(RangeError);
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 6 }), fc.array(fc.nat(), { maxLength: 10 }), (msgs, cuts) => {
        const stream = Buffer.concat(msgs.map((m) => encodeVpcdMessage(m)));
        const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
        const decoder = new VpcdDecoder();
        const out: Uint8Array[] = [];
        let prev = 0;
        for (const p of [...points, stream.length]) {
          out.push(...decoder.push(stream.subarray(prev, p)));
          prev = p;
        }
        expect(out.map(hex)).toEqual(msgs.map(hex));
        expect(decoder.pending).toBe(0);
      }),
    );
  });
});

describe('vpcd bridge', () => {
  let vpcd: FakeVpcd | null = null;
  let bridge: VpcdBridge | null = null;
  let dataDir: string | null = null;

  afterEach(async () => {
    await bridge?.close();
    await vpcd?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
    bridge = null;
    vpcd = null;
    dataDir = null;
  });

  it('answers GET ATR, powers the card on/off/reset, relays APDUs in T=1, and reconnects after vpcd drops it', async () => {
    vpcd = await FakeVpcd.start();
    const card = fakeCard();
    bridge = startVpcdBridge({ card, port: vpcd.port, reconnectMs: 50 });
    await bridge.whenConnected();
    const peer = await vpcd.peer(0);
    peer.send([VPCD_CTRL.ATR]);
    expect(hex(await peer.next())).toBe('3b80800101');
    peer.send([VPCD_CTRL.ON]);
    peer.send([VPCD_CTRL.ATR]); // ON has no answer: the next message we read is the ATR
    expect(hex(await peer.next())).toBe('3b80800101');
    peer.send([0x00, 0x84, 0x00, 0x00, 0x08]);
    expect(hex(await peer.next())).toBe('849000');
    peer.send([VPCD_CTRL.RESET]);
    peer.send([VPCD_CTRL.OFF]);
    peer.send([0x00, 0xa4, 0x04, 0x00]);
    expect(hex(await peer.next())).toBe('a49000');
    expect(card.calls).toEqual(['cold', 'apdu:0084000008:T1', 'warm', 'off', 'cold', 'apdu:00a40400:T1']);

    // vpcd closes (pcscd restarted): the bridge comes back on a new connection.
    peer.socket.destroy();
    const again = await vpcd.peer(1);
    again.send([VPCD_CTRL.ATR]);
    expect(hex(await again.next())).toBe('3b80800101');

    // close() detaches the card: vpcd sees EOF, i.e. a removal.
    await bridge.close();
    bridge = null;
    await again.waitClosed();
    expect(card.calls.at(-1)).toBe('flush');
  });

  it('serves a real vscr card (its ATR and a SELECT of the crypto applet)', async () => {
    vpcd = await FakeVpcd.start();
    dataDir = await mkdtemp(path.join(tmpdir(), 'vscr-vpcd-'));
    const card = await createVirtualCard({ profile: 'default', dataDir });
    bridge = startVpcdBridge({ card, port: vpcd.port });
    const peer = await vpcd.peer(0);
    peer.send([VPCD_CTRL.ON]);
    peer.send([VPCD_CTRL.ATR]);
    expect(hex(await peer.next())).toBe(hex(card.atr));
    peer.send([0x00, 0xa4, 0x04, 0x00, 0x06, 0xf0, 0x76, 0x73, 0x63, 0x72, 0x01]);
    const sw = await peer.next();
    expect(hex(sw.subarray(-2))).toMatch(/^(9000|61..)$/);
  });
});
