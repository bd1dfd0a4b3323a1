// The winscard-style client against the real JSON-RPC WebSocket: a full PC/SC session, GetStatusChange woken by an
// insert, AbortSignal → SCardCancel, PcscError codes, and close() releasing the session.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VscrClient } from '../../../clients/sdk/client.js';
import { connectWinscard, type WinscardClient } from '../../../clients/winscard/client.js';
import { PcscError, WinscardClosedError, WinscardSocketError } from '../../../clients/winscard/errors.js';
import type { WebSocketLike } from '../../../clients/winscard/transport.js';
import {
  SCARD, SCARD_ATTR, SCARD_DISPOSITION, SCARD_PROTOCOL, SCARD_SCOPE, SCARD_SHARE, SCARD_STATE,
} from '../../../clients/winscard/index.js';
import { startTestService, type TestService } from '../cli/harness.js';

let ts: TestService;
let rest: VscrClient;
let pcsc: WinscardClient;
const R0 = 'vscr Virtual Reader 00 00';
const R1 = 'vscr Virtual Reader 01 00';

beforeAll(async () => {
  ts = await startTestService();
  rest = new VscrClient({ url: ts.service.url });
  pcsc = await connectWinscard({ url: ts.service.url });
});
afterAll(async () => {
  await pcsc?.close();
  await rest?.close();
  await ts?.stop();
});

describe('winscard client over /v1/pcsc', () => {
  it('runs a connect/transmit/status/attribute/transaction session', async () => {
    const ctx = await pcsc.establishContext(SCARD_SCOPE.SYSTEM);
    expect(await pcsc.isValidContext(ctx)).toBe(true);
    expect(await pcsc.listReaders(ctx)).toEqual([R0, R1]);
    expect((await pcsc.listReaderGroups(ctx)).length).toBeGreaterThan(0);

    const { hCard, protocol } = await pcsc.connect(ctx, R0, SCARD_SHARE.SHARED, SCARD_PROTOCOL.ANY);
    expect([SCARD_PROTOCOL.T0, SCARD_PROTOCOL.T1]).toContain(protocol);
    const st = await pcsc.status(hCard);
    expect(st.readerName).toBe(R0);
    expect(st.protocol).toBe(protocol);
    const [reader0] = await rest.readers();
    expect(Buffer.from(st.atr).toString('hex')).toBe(reader0.atr);
    expect(Buffer.from(await pcsc.getAttrib(hCard, SCARD_ATTR.ATR_STRING)).toString('hex')).toBe(reader0.atr);

    await pcsc.beginTransaction(hCard);
    // GET CHALLENGE for 8 bytes: 8 random bytes then 90 00
    const resp = await pcsc.transmit(hCard, protocol, Uint8Array.of(0x00, 0x84, 0x00, 0x00, 0x08));
    expect(resp.length).toBe(10);
    expect(Buffer.from(resp.subarray(8)).toString('hex')).toBe('9000');
    // The server's receive PCI names the protocol of the exchange.
    const withPci = await pcsc.transmitWithPci(hCard, protocol, Uint8Array.of(0x00, 0x84, 0x00, 0x00, 0x04));
    expect(withPci.recvProtocol).toBe(protocol);
    expect(withPci.response.length).toBe(6);
    await pcsc.endTransaction(hCard, SCARD_DISPOSITION.LEAVE_CARD);
    await pcsc.disconnect(hCard, SCARD_DISPOSITION.LEAVE_CARD);
    await pcsc.releaseContext(ctx);
    expect(await pcsc.isValidContext(ctx)).toBe(false);
  });

  it('throws PcscError with the pcsc-lite code', async () => {
    const ctx = await pcsc.establishContext();
    const noCard = await pcsc.connect(ctx, R1, SCARD_SHARE.SHARED).catch((e: unknown) => e);
    expect(noCard).toBeInstanceOf(PcscError);
    expect(noCard).toMatchObject({ code: 'SCARD_E_NO_SMARTCARD', rv: SCARD.E_NO_SMARTCARD });
    await expect(pcsc.connect(ctx, 'no such reader', SCARD_SHARE.SHARED)).rejects.toMatchObject({ code: 'SCARD_E_UNKNOWN_READER' });
    await expect(pcsc.getStatusChange(ctx, [{ reader: R1, currentState: SCARD_STATE.EMPTY }], { timeout: 0 })).rejects.toMatchObject({ code: 'SCARD_E_TIMEOUT' });
    await pcsc.releaseContext(ctx);
  });

  it('getStatusChange wakes on an insert and reports PRESENT with the ATR', async () => {
    const ctx = await pcsc.establishContext();
    const [now] = await pcsc.getStatusChange(ctx, [{ reader: R1, currentState: SCARD_STATE.UNAWARE }], { timeout: 0 });
    expect(now.eventState & SCARD_STATE.EMPTY).toBeTruthy();
    const waiting = pcsc.getStatusChange(ctx, [{ reader: R1, currentState: now.eventState & ~SCARD_STATE.CHANGED }], { timeout: 30_000 });
    await rest.insertCard(1);
    const [changed] = await waiting;
    expect(changed.eventState & SCARD_STATE.CHANGED).toBeTruthy();
    expect(changed.eventState & SCARD_STATE.PRESENT).toBeTruthy();
    expect(changed.atr.length).toBeGreaterThan(2);
    await rest.removeCard(1);
    await pcsc.releaseContext(ctx);
  });

  it('an AbortSignal ends a blocking getStatusChange with SCARD_E_CANCELLED', async () => {
    const ctx = await pcsc.establishContext();
    const [now] = await pcsc.getStatusChange(ctx, [{ reader: R1, currentState: SCARD_STATE.UNAWARE }], { timeout: 0 });
    const ac = new AbortController();
    const waiting = pcsc.getStatusChange(ctx, [{ reader: R1, currentState: now.eventState & ~SCARD_STATE.CHANGED }], { signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    await expect(waiting).rejects.toMatchObject({ code: 'SCARD_E_CANCELLED' });
    // the context still works afterwards
    expect(await pcsc.isValidContext(ctx)).toBe(true);
    await pcsc.releaseContext(ctx);
  });

  it('close() ends the session: pending waits fail with WinscardClosedError, new calls too', async () => {
    const other = await connectWinscard({ url: ts.service.url });
    const ctx = await other.establishContext();
    const { hCard } = await other.connect(ctx, R0, SCARD_SHARE.EXCLUSIVE);
    const pending = other.getStatusChange(ctx, [{ reader: R1, currentState: SCARD_STATE.EMPTY }]);
    const outcome = pending.then(() => 'resolved', (e: unknown) => e);
    await other.close();
    expect(await outcome).toBeInstanceOf(WinscardClosedError);
    await expect(other.status(hCard)).rejects.toMatchObject({ code: 'VSCR_ERR_CLIENT_CLOSED' });
    // The server released the exclusive handle with the session: this client can connect exclusively now.
    const ctx2 = await pcsc.establishContext();
    let connected: { hCard: number } | undefined;
    for (let i = 0; i < 500 && !connected; i++) {
      connected = await pcsc.connect(ctx2, R0, SCARD_SHARE.EXCLUSIVE).catch(async (e: unknown) => {
        if (!(e instanceof PcscError) || e.rv !== SCARD.E_SHARING_VIOLATION) throw e;
        await new Promise((r) => setTimeout(r, 20)); // the server notices the closed socket asynchronously
        return undefined;
      });
    }
    expect(connected).toBeDefined();
    await pcsc.disconnect(connected!.hCard, SCARD_DISPOSITION.LEAVE_CARD);
    await pcsc.releaseContext(ctx2);
  });

  it('uses an injected WebSocket factory (the browser path: a plain WHATWG socket, no headers)', async () => {
    const { WebSocket: Ws } = await import('ws');
    const calls: [string, Record<string, string>][] = [];
    const client = await connectWinscard({
      url: ts.service.url,
      webSocketFactory: (url, headers) => {
        calls.push([url, headers]);
        return new Ws(url) as unknown as WebSocketLike; // the browser constructor takes no headers either
      },
    });
    try {
      expect(calls).toEqual([[ts.service.url.replace(/^http:/, 'ws:') + '/v1/pcsc', {}]]);
      const ctx = await client.establishContext();
      expect(await client.listReaders(ctx)).toEqual([R0, R1]);
    } finally {
      await client.close();
    }
  });

  it('a refused WebSocket is a WinscardSocketError', async () => {
    await expect(connectWinscard({ url: 'http://127.0.0.1:9' })).rejects.toBeInstanceOf(WinscardSocketError);
  });
});
