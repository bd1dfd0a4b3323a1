// The pcsc-lite daemon over a real UNIX socket with an in-memory resource manager: replies, events, cancel, closes.
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm as rmrf, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  beginStruct,
  cancelStruct,
  DEFAULT_MAX_CONNECTIONS,
  Command,
  controlStruct,
  decodeReaderStates,
  disconnectStruct,
  encodeRequest,
  endStruct,
  getsetStruct,
  type PcscLiteServer,
  releaseStruct,
  rxHeader,
  startPcscLiteServer,
  statusStruct,
  transmitStruct,
  waitReaderStateChange,
} from '../../../service/pcsclite/index.js';
import { SCARD } from '../../../service/contract/pcsclite.js';
import { FakeRm } from './fake-rm.js';
import { waitFor, WireClient } from './wire-client.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const R0 = 'Fake Reader 00 00';
const R1 = 'Fake Reader 01 00';

let dir: string;
let fake: FakeRm;
let server: PcscLiteServer;
const clients: WireClient[] = [];

async function client(): Promise<WireClient> {
  const c = await WireClient.open(server.socketPath);
  clients.push(c);
  return c;
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vscr-pcsc-'));
  fake = new FakeRm();
  fake.insert(0);
  server = await startPcscLiteServer({ rm: fake, socketPath: join(dir, 'run', 'pcscd.comm'), frameTimeoutMs: 300 });
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await server.close();
  await rmrf(dir, { recursive: true, force: true });
});

describe('socket file', () => {
  it('is a 0600 socket in a 0700 directory (only our user may spend PIN tries), removed on close', async () => {
    const s = await stat(server.socketPath);
    expect(s.isSocket()).toBe(true);
    expect(s.mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'run'))).mode & 0o777).toBe(0o700);
    await server.close();
    await expect(stat(server.socketPath)).rejects.toThrow(/ENOENT/);
  });

  it('with a socket group: 0660 in that group, directory group-searchable only', async () => {
    const gid = process.getgid!();
    const grouped = await startPcscLiteServer({ rm: fake, socketPath: join(dir, 'g', 'pcscd.comm'), socketGroup: String(gid) });
    const s = await stat(grouped.socketPath);
    expect(s.mode & 0o777).toBe(0o660);
    expect(s.gid).toBe(gid);
    expect((await stat(join(dir, 'g'))).mode & 0o777).toBe(0o710);
    await grouped.close();
    await expect(startPcscLiteServer({ rm: fake, socketPath: join(dir, 'h', 'pcscd.comm'), socketGroup: 'no-such-group-vscr' })).rejects.toThrow(/not in \/etc\/group/);
  });

  it('replaces a stale socket but refuses a live one or a regular file', async () => {
    const stalePath = join(dir, 'stale.comm');
    const old = createServer();
    await new Promise<void>((r) => old.listen(stalePath, r));
    // A live server on the path: refuse.
    await expect(startPcscLiteServer({ rm: fake, socketPath: stalePath })).rejects.toThrow(/in use/);
    await new Promise<void>((r) => old.close(() => r()));
    // A crashed daemon leaves its socket file behind: bind without listen/unlink, then exit.
    // /usr/bin/python3, not `python3` on PATH: a version-manager shim there can cost a second per start.
    execFileSync('/usr/bin/python3', ['-c', 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])', stalePath]);
    expect((await stat(stalePath)).isSocket()).toBe(true);
    const second = await startPcscLiteServer({ rm: fake, socketPath: stalePath });
    expect((await stat(stalePath)).isSocket()).toBe(true);
    await second.close();
    const plain = join(dir, 'plain');
    await writeFile(plain, 'x');
    await expect(startPcscLiteServer({ rm: fake, socketPath: plain })).rejects.toThrow(/not a socket/);
  });
});

describe('context connection', () => {
  it('VERSION 4.4, ESTABLISH, snapshots, CONNECT, STATUS, TRANSMIT, DISCONNECT, RELEASE', async () => {
    const c = await client();
    expect(await c.version()).toBe(0);
    const { rv, hContext } = await c.establish();
    expect(rv).toBe(0);
    expect(hContext).toBeGreaterThan(0);
    const states = decodeReaderStates(await c.readerStates());
    expect(states.map((s) => s.readerName)).toEqual([R0, R1]);
    expect(states[0]).toMatchObject({ eventCounter: 1, readerState: 0x34, readerSharing: 0 });
    expect(hex(states[0].cardAtr)).toBe('3b80800101');

    const co = await c.connect(hContext, R0);
    expect(co.rv).toBe(0);
    expect(co.dwActiveProtocol).toBe(2);
    expect(decodeReaderStates(await c.readerStates())[0]).toMatchObject({ readerSharing: 1, cardProtocol: 2 });

    c.request(Command.SCARD_STATUS, statusStruct.encode({ hCard: co.hCard, rv: 0 }));
    expect(statusStruct.decode(await c.read(8))).toEqual({ hCard: co.hCard, rv: 0 });

    const tr = await c.transmit(co.hCard, new Uint8Array([0x00, 0x84, 0x00, 0x00, 0x08]));
    expect(tr).toMatchObject({ rv: 0, pcbRecvLength: 10, ioRecvPciProtocol: 2, ioSendPciProtocol: 2, ioSendPciLength: 16 });
    expect(hex(tr.data)).toBe('5a'.repeat(8) + '9000');

    c.request(Command.SCARD_DISCONNECT, disconnectStruct.encode({ hCard: co.hCard, dwDisposition: 0, rv: 0 }));
    expect(disconnectStruct.decode(await c.read(12)).rv).toBe(0);

    c.request(Command.SCARD_RELEASE_CONTEXT, releaseStruct.encode({ hContext, rv: 0 }));
    expect(hex(await c.read(8))).toBe(hex(releaseStruct.encode({ hContext, rv: 0 })));
    // Released: a second RELEASE is E_INVALID_HANDLE, CONNECT too (§9.3 probes).
    c.request(Command.SCARD_RELEASE_CONTEXT, releaseStruct.encode({ hContext, rv: 0 }));
    expect(releaseStruct.decode(await c.read(8)).rv).toBe(SCARD.E_INVALID_HANDLE);
    expect((await c.connect(hContext, R0)).rv).toBe(SCARD.E_INVALID_HANDLE);
  });

  it('VERSION mismatch, bad scope, wrong hContext on RELEASE and CONNECT failures', async () => {
    const c = await client();
    expect(await c.version(4, 5)).toBe(SCARD.E_SERVICE_STOPPED);
    expect(await c.version(4, 3)).toBe(SCARD.E_SERVICE_STOPPED);
    expect((await c.establish(7)).rv).toBe(SCARD.E_INVALID_VALUE);
    const { hContext } = await c.establish(0); // ESTABLISH works without a successful VERSION
    c.request(Command.SCARD_RELEASE_CONTEXT, releaseStruct.encode({ hContext: hContext + 1, rv: 0 }));
    expect(releaseStruct.decode(await c.read(8)).rv).toBe(SCARD.E_INVALID_VALUE);
    const unknown = await c.connect(hContext, 'No Such Reader 00 00');
    expect(unknown).toMatchObject({ rv: SCARD.E_UNKNOWN_READER, hCard: 0 });
    expect((await c.connect(hContext, R1)).rv).toBe(SCARD.E_NO_SMARTCARD);
    expect((await c.connect(hContext, R1, 3)).rv).toBe(0); // DIRECT to an empty reader works (opensc relies on it)
    expect((await c.connect(hContext + 1, R0)).rv).toBe(SCARD.E_INVALID_VALUE);
  });

  it('answers E_INSUFFICIENT_BUFFER with the needed length and no data, and stays in sync', async () => {
    const c = await client();
    const hContext = await c.context();
    const { hCard } = await c.connect(hContext, R0);
    const small = await c.transmit(hCard, new Uint8Array([0x00, 0xca, 0x01, 0x00, 0x00]), 100);
    expect(small).toMatchObject({ rv: SCARD.E_INSUFFICIENT_BUFFER, pcbRecvLength: 258 });
    expect(small.data.length).toBe(0);
    const big = await c.transmit(hCard, new Uint8Array([0x00, 0xca, 0x01, 0x00, 0x00]));
    expect(big).toMatchObject({ rv: 0, pcbRecvLength: 258 });
    expect(c.available).toBe(0);

    // CONTROL: echo with a too-small buffer, then GET_FEATURE_REQUEST with 0 bytes back.
    c.request(Command.SCARD_CONTROL, controlStruct.encode({ hCard, dwControlCode: 0x42000001, cbSendLength: 3, cbRecvLength: 2, dwBytesReturned: 0, rv: 0 }), new Uint8Array([1, 2, 3]));
    expect(controlStruct.decode(await c.read(24))).toMatchObject({ rv: SCARD.E_INSUFFICIENT_BUFFER, dwBytesReturned: 3 });
    c.request(Command.SCARD_CONTROL, controlStruct.encode({ hCard, dwControlCode: 0x42000001, cbSendLength: 3, cbRecvLength: 256, dwBytesReturned: 0, rv: 0 }), new Uint8Array([1, 2, 3]));
    expect(controlStruct.decode(await c.read(24))).toMatchObject({ rv: 0, dwBytesReturned: 3 });
    expect(hex(await c.read(3))).toBe('010203');
    c.request(Command.SCARD_CONTROL, controlStruct.encode({ hCard, dwControlCode: 0x42000d48, cbSendLength: 0, cbRecvLength: 256, dwBytesReturned: 0, rv: 0 }));
    expect(controlStruct.decode(await c.read(24))).toMatchObject({ rv: 0, dwBytesReturned: 0 });

    // GET_ATTRIB: ATR, friendly name, a too-small cbAttrLen, an unsupported tag; SET_ATTRIB refused.
    const getAttr = async (dwAttrId: number, cbAttrLen = 264) => {
      c.request(Command.SCARD_GET_ATTRIB, getsetStruct.encode({ hCard, dwAttrId, pbAttr: new Uint8Array(0), cbAttrLen, rv: SCARD.E_NO_SERVICE }));
      return getsetStruct.decode(await c.read(280));
    };
    const atr = await getAttr(0x00090303);
    expect(atr).toMatchObject({ rv: 0, cbAttrLen: 5 });
    expect(hex(atr.pbAttr.subarray(0, 5))).toBe('3b80800101');
    expect(await getAttr(0x00090303, 2)).toMatchObject({ rv: SCARD.E_INSUFFICIENT_BUFFER, cbAttrLen: 5 });
    expect(await getAttr(0x12345678)).toMatchObject({ rv: SCARD.E_UNSUPPORTED_FEATURE, cbAttrLen: 0 });
    c.request(Command.SCARD_SET_ATTRIB, getsetStruct.encode({ hCard, dwAttrId: 0x00090303, pbAttr: new Uint8Array([0x41, 0x42]), cbAttrLen: 2, rv: 0 }));
    expect(getsetStruct.decode(await c.read(280)).rv).toBe(SCARD.E_NOT_TRANSACTED);
  });

  it('END without BEGIN, then a BEGIN that blocks behind another client without blocking anyone else', async () => {
    const a = await client();
    const b = await client();
    const other = await client();
    const ha = await a.context();
    const hb = await b.context();
    await other.context();
    const ca = await a.connect(ha, R0);
    const cb = await b.connect(hb, R0);
    a.request(Command.SCARD_END_TRANSACTION, endStruct.encode({ hCard: ca.hCard, dwDisposition: 0, rv: 0 }));
    expect(endStruct.decode(await a.read(12)).rv).toBe(SCARD.E_NOT_TRANSACTED);

    a.request(Command.SCARD_BEGIN_TRANSACTION, beginStruct.encode({ hCard: ca.hCard, rv: 0 }));
    expect(beginStruct.decode(await a.read(8)).rv).toBe(0);
    b.request(Command.SCARD_BEGIN_TRANSACTION, beginStruct.encode({ hCard: cb.hCard, rv: 0 }));
    // While b waits, a third connection is served and a keeps using the card.
    expect((await other.readerStates()).length).toBe(2944);
    expect((await a.transmit(ca.hCard, new Uint8Array([0, 0x84, 0, 0, 2]))).rv).toBe(0);
    expect(b.available).toBe(0);
    a.request(Command.SCARD_END_TRANSACTION, endStruct.encode({ hCard: ca.hCard, dwDisposition: 0, rv: 0 }));
    expect(endStruct.decode(await a.read(12)).rv).toBe(0);
    expect(beginStruct.decode(await b.read(8))).toEqual({ hCard: cb.hCard, rv: 0 });
  });

  it('connection EOF releases the context (its exclusive handle frees the reader)', async () => {
    const a = await client();
    const ha = await a.context();
    expect((await a.connect(ha, R0, 1)).rv).toBe(0);
    const b = await client();
    const hb = await b.context();
    expect((await b.connect(hb, R0, 2)).rv).toBe(SCARD.E_SHARING_VIOLATION);
    a.end();
    await waitFor(() => fake.cards.size === 0, 5000, 'session release');
    expect((await b.connect(hb, R0, 1)).rv).toBe(0);
  });
});

describe('flow control', () => {
  it('a client that pipelines 1000 requests without reading gets every reply, in order, once it reads', async () => {
    const c = await client();
    await c.context();
    const one = encodeRequest(Command.CMD_GET_READERS_STATE);
    c.send(Buffer.concat(Array.from({ length: 1000 }, () => one)));
    c.request(Command.SCARD_STATUS, statusStruct.encode({ hCard: 0x5eed, rv: 0 })); // foreign: closes at the end
    for (let i = 0; i < 1000; i++) {
      const snap = await c.read(2944);
      expect(decodeReaderStates(snap)[0].readerName).toBe(R0);
    }
    await c.waitClosed();
    expect(c.available).toBe(0);
  });
});

describe('events (§5.4)', () => {
  it('WAIT registers, a change sends one {0,0}, STOP afterwards gets no reply', async () => {
    const c = await client();
    await c.context();
    c.request(Command.CMD_WAIT_READER_STATE_CHANGE);
    expect((await c.read(2944)).length).toBe(2944);
    fake.remove(0);
    fake.insert(0); // a second change while already signalled must not produce a second message
    expect(hex(await c.read(8))).toBe('0000000000000000');
    c.request(Command.CMD_STOP_WAITING_READER_STATE_CHANGE);
    // The next bytes are the snapshot, so STOP produced nothing.
    const states = decodeReaderStates(await c.readerStates());
    expect(states[0].eventCounter).toBe(3);
    expect(c.available).toBe(0);
  });

  it('STOP while registered replies {0,0}; reader hot-plug signals and shows in the snapshot', async () => {
    const c = await client();
    await c.context();
    c.request(Command.CMD_WAIT_READER_STATE_CHANGE);
    await c.read(2944);
    c.request(Command.CMD_STOP_WAITING_READER_STATE_CHANGE);
    expect(hex(await c.read(8))).toBe('0000000000000000');
    c.request(Command.CMD_WAIT_READER_STATE_CHANGE);
    await c.read(2944);
    fake.addReader('Hotplug Reader 02 00');
    expect(hex(await c.read(8))).toBe('0000000000000000');
    c.request(Command.CMD_WAIT_READER_STATE_CHANGE);
    expect(decodeReaderStates(await c.read(2944)).map((s) => s.readerName)).toEqual([R0, R1, 'Hotplug Reader 02 00']);
    fake.removeReader('Hotplug Reader 02 00');
    expect(hex(await c.read(8))).toBe('0000000000000000');
    expect(decodeReaderStates(await c.readerStates())).toHaveLength(2);
  });

  it('CANCEL from a fresh connection: waiter gets E_CANCELLED, canceller rv 0; otherwise E_INVALID_HANDLE', async () => {
    const waiter = await client();
    const hContext = await waiter.context();
    const canceller = await client();
    canceller.request(Command.SCARD_CANCEL, cancelStruct.encode({ hContext, rv: 0 }));
    expect(cancelStruct.decode(await canceller.read(8)).rv).toBe(SCARD.E_INVALID_HANDLE); // not waiting

    waiter.request(Command.CMD_WAIT_READER_STATE_CHANGE);
    await waiter.read(2944);
    const fresh = await client(); // no CMD_VERSION on a cancel connection
    fresh.request(Command.SCARD_CANCEL, cancelStruct.encode({ hContext, rv: 0 }));
    expect(hex(await fresh.read(8))).toBe(hex(cancelStruct.encode({ hContext, rv: 0 })));
    expect(waitReaderStateChange.decode(await waiter.read(8))).toEqual({ timeOut: 0, rv: SCARD.E_CANCELLED });
    fresh.request(Command.SCARD_CANCEL, cancelStruct.encode({ hContext: 0x7abcdef, rv: 0 }));
    expect(cancelStruct.decode(await fresh.read(8)).rv).toBe(SCARD.E_INVALID_HANDLE);
    // A change after the cancel is not sent: the waiter is no longer registered.
    fake.remove(0);
    expect(decodeReaderStates(await waiter.readerStates())[0].readerState).toBe(0x02);
    expect(waiter.available).toBe(0);
  });
});

describe('malformed input closes only that connection', () => {
  const cases: [string, (c: WireClient, hCard: number) => void][] = [
    ['wrong size (VERSION with 16 bytes)', (c) => c.send(Buffer.concat([rxHeader.encode({ size: 16, command: Command.CMD_VERSION }), Buffer.alloc(16)]))],
    ['unused command 0x03', (c) => c.send(rxHeader.encode({ size: 0, command: 0x03 }))],
    ['unused command 0x0C', (c) => c.send(rxHeader.encode({ size: 0, command: 0x0c }))],
    ['unknown command 0x15', (c) => c.send(rxHeader.encode({ size: 0, command: 0x15 }))],
    ['TRANSMIT cbSendLength 70000', (c, hCard) => c.request(Command.SCARD_TRANSMIT, transmitStruct.encode({ hCard, ioSendPciProtocol: 2, ioSendPciLength: 16, cbSendLength: 70000, ioRecvPciProtocol: 3, ioRecvPciLength: 16, pcbRecvLength: 65548, rv: 0 }))],
    ['TRANSMIT header.size 37', (c) => c.send(Buffer.concat([rxHeader.encode({ size: 37, command: Command.SCARD_TRANSMIT }), Buffer.alloc(37)]))],
    ['STATUS with a foreign hCard', (c) => c.request(Command.SCARD_STATUS, statusStruct.encode({ hCard: 0x5eed, rv: 0 }))],
    ['GET_ATTRIB cbAttrLen 265', (c, hCard) => c.request(Command.SCARD_GET_ATTRIB, getsetStruct.encode({ hCard, dwAttrId: 0x00090303, pbAttr: new Uint8Array(0), cbAttrLen: 265, rv: 0 }))],
    ['half a frame, then silence', (c) => c.send(rxHeader.encode({ size: 152, command: Command.SCARD_CONNECT }).subarray(0, 6))],
  ];

  it.each(cases)('%s', async (_label, misbehave) => {
    const bystander = await client();
    const hb = await bystander.context();
    const bad = await client();
    const hContext = await bad.context();
    const { hCard } = await bad.connect(hContext, R0, 1);
    misbehave(bad, hCard);
    await bad.waitClosed();
    // Its session was released (the exclusive handle is gone) and everyone else carries on.
    await waitFor(() => fake.cards.size === 0, 5000, 'session release');
    expect((await bystander.connect(hb, R0, 1)).rv).toBe(0);
    expect(server.connectionCount()).toBe(1);
  });

  it('requests before a bad header in the same write are answered, then the connection closes', async () => {
    const c = await client();
    await c.context();
    c.send(Buffer.concat([encodeRequest(Command.CMD_GET_READERS_STATE), rxHeader.encode({ size: 0, command: 0x15 })]));
    expect(decodeReaderStates(await c.read(2944))[0].readerName).toBe(R0);
    await c.waitClosed();
  });

  it('a hCard of another connection is foreign too, and a half frame followed by EOF is dropped', async () => {
    const a = await client();
    const ha = await a.context();
    const { hCard } = await a.connect(ha, R0);
    const thief = await client();
    await thief.context();
    thief.request(Command.SCARD_BEGIN_TRANSACTION, beginStruct.encode({ hCard, rv: 0 }));
    await thief.waitClosed();
    const half = await client();
    half.send(Buffer.concat([rxHeader.encode({ size: 12, command: Command.CMD_VERSION }), Buffer.alloc(5)]));
    half.end();
    await half.waitClosed();
    expect((await a.transmit(hCard, new Uint8Array([0, 0x84, 0, 0, 1])))).toMatchObject({ rv: 0, pcbRecvLength: 3 });
  });
});

describe('connection limits', () => {
  it('refuses connection 201 like pcscd (PCSC_MAX_CONTEXT_THREADS = 200), logs it, and serves again after one leaves', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'debug' }, { write: (l: string) => void lines.push(l) });
    const capped = await startPcscLiteServer({ rm: fake, socketPath: join(dir, 'cap.comm'), logger });
    const open: WireClient[] = [];
    try {
      for (let i = 0; i < DEFAULT_MAX_CONNECTIONS; i++) open.push(await WireClient.open(capped.socketPath));
      await waitFor(() => capped.connectionCount() === 200, 5000, '200 connections accepted');
      const extra = await WireClient.open(capped.socketPath);
      open.push(extra);
      await waitFor(() => extra.closed, 5000, 'the 201st connection closed by the server');
      expect(capped.refusedCount()).toBe(1);
      expect(capped.connectionCount()).toBe(200);
      const warn = lines.map((l) => JSON.parse(l) as { level: number; msg: string; limit?: number }).find((l) => l.msg.startsWith('too many pcsc-lite connections'));
      expect(warn).toMatchObject({ level: 40, limit: 200 });
      // The first 200 still work.
      expect(await open[0].context()).toBeGreaterThan(0);
      open[1].destroy();
      await waitFor(() => capped.connectionCount() === 199, 5000, 'a slot freed');
      const again = await WireClient.open(capped.socketPath);
      open.push(again);
      expect(await again.context()).toBeGreaterThan(0);
    } finally {
      for (const c of open) c.destroy();
      await capped.close();
    }
  });

  it('a connection that never establishes a context is closed when idle; one with a context stays', async () => {
    const idle = await startPcscLiteServer({ rm: fake, socketPath: join(dir, 'idle.comm'), idleTimeoutMs: 100 });
    const silent = await WireClient.open(idle.socketPath);
    const versionOnly = await WireClient.open(idle.socketPath);
    const real = await WireClient.open(idle.socketPath);
    try {
      expect(await versionOnly.version()).toBe(0);
      await real.context();
      await waitFor(() => silent.closed && versionOnly.closed, 5000, 'the context-less connections closed');
      expect(real.closed).toBe(false);
      expect(idle.connectionCount()).toBe(1);
      expect((await real.readerStates()).length).toBeGreaterThan(0);
    } finally {
      for (const c of [silent, versionOnly, real]) c.destroy();
      await idle.close();
    }
  });
});
