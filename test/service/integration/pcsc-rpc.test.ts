// The service end to end over real HTTP and the JSON-RPC WebSocket: REST insert/remove wakes a blocked
// SCardGetStatusChange; transmit to the crypto applet; sharing conflicts; transactions across clients, including
// a client killed while holding one; malformed frames.

import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCARD, SCARD_DISPOSITION, SCARD_SHARE, SCARD_STATE } from '../../../service/contract/pcsclite.js';
import { SHA256_123, expectHealthy, json, RpcClient, startTestService, within, type TestService } from './harness.js';
import { READER0, READER1, cardHash123, connect, establish, settlesWithin } from './pcsc-helpers.js';

let svc: TestService;
let base: string;
const clients: RpcClient[] = [];

const client = async (): Promise<RpcClient> => {
  const c = await RpcClient.connect(base);
  clients.push(c);
  return c;
};

/** The service's 'card inserted' log lines (info level), for the latency split in the report. */
const insertLogs: { createMs?: number; rmMs?: number }[] = [];

beforeAll(async () => {
  const logStream = {
    write(line: string): void {
      if (line.includes('"component":"readers"') && line.includes('"msg":"card inserted"')) insertLogs.push(JSON.parse(line) as { createMs?: number; rmMs?: number });
    },
  };
  svc = await startTestService({ pcsc: true, logLevel: 'info' }, { logStream });
  base = svc.url;
});
afterAll(async () => {
  for (const c of clients) await c.close();
  await svc?.close();
});

interface StateOut { szReader: string; dwCurrentState: number; dwEventState: number; cbAtr: number; rgbAtr: string }

describe('GetStatusChange wakes on REST insert/remove', () => {
  it('insert then remove on reader 1: states, counter, latency reported', async () => {
    const c = await client();
    const hContext = await establish(c);
    // One unmeasured cycle first, so the reported latency is not the first-call (JIT, first fetch) cost.
    expect((await json(base, '/v1/readers/1/card', { method: 'POST' })).status).toBe(201);
    expect((await json(base, '/v1/readers/1/card', { method: 'DELETE' })).status).toBe(200);
    const first = await c.result('SCardGetStatusChange', { hContext, dwTimeout: 0, rgReaderStates: [{ szReader: READER1, dwCurrentState: SCARD_STATE.UNAWARE }] });
    expect(first.rv).toBe(SCARD.S_SUCCESS);
    const s0 = (first.rgReaderStates as StateOut[])[0];
    expect(s0.dwEventState & SCARD_STATE.EMPTY).toBe(SCARD_STATE.EMPTY);
    const counter0 = s0.dwEventState >>> 16;

    const latencies: number[] = [];
    let current = s0.dwEventState & ~SCARD_STATE.CHANGED;
    for (const [method, expectBit, expectCounter] of [['POST', SCARD_STATE.PRESENT, counter0 + 1], ['DELETE', SCARD_STATE.EMPTY, counter0 + 2]] as const) {
      const waiting = c.call('SCardGetStatusChange', { hContext, dwTimeout: 15_000, rgReaderStates: [{ szReader: READER1, dwCurrentState: current }] });
      expect(await settlesWithin(waiting, 200)).toBe(false);
      const t0 = performance.now();
      const rest = json(base, '/v1/readers/1/card', { method, json: method === 'POST' ? {} : undefined });
      const answer = await waiting;
      latencies.push(performance.now() - t0);
      expect((await rest).status).toBe(method === 'POST' ? 201 : 200);
      expect(answer.result?.rv).toBe(SCARD.S_SUCCESS);
      const s = (answer.result?.rgReaderStates as StateOut[])[0];
      expect(s.szReader).toBe(READER1);
      expect(s.dwEventState & SCARD_STATE.CHANGED).toBe(SCARD_STATE.CHANGED);
      expect(s.dwEventState & expectBit).toBe(expectBit);
      expect(s.dwEventState >>> 16).toBe(expectCounter & 0xffff);
      if (method === 'POST') expect(s.cbAtr).toBeGreaterThan(0);
      current = s.dwEventState & ~SCARD_STATE.CHANGED;
    }
    // Where the insert time went, from the service's log: card creation (state file) vs the RM (tracking IRP, power-up).
    const split = insertLogs.at(-1);
    console.log(`[report] REST insert→GetStatusChange wake ${latencies[0].toFixed(1)} ms (card creation ${split?.createMs} ms, RM ${split?.rmMs} ms), remove→wake ${latencies[1].toFixed(1)} ms`);
    await c.result('SCardReleaseContext', { hContext });
  });
});

describe('the crypto applet over JSON-RPC', () => {
  it('SELECT + PSO:HASH of "123" gives the SHA-256 known answer', async () => {
    const c = await client();
    const hContext = await establish(c);
    const { rv, hCard, protocol } = await connect(c, hContext);
    expect(rv).toBe(SCARD.S_SUCCESS);
    const metricsBefore = await (await fetch(`${base}/metrics`)).text();
    expect(await cardHash123(c, hCard, protocol)).toBe(SHA256_123);
    expect((await c.result('SCardDisconnect', { hCard, dwDisposition: SCARD_DISPOSITION.LEAVE_CARD })).rv).toBe(0);
    // The applet's hash ran on the crypto device, and both APDUs were counted.
    const metric = (text: string, re: RegExp): number => Number(re.exec(text)?.[1] ?? 0);
    const metricsAfter = await (await fetch(`${base}/metrics`)).text();
    expect(metric(metricsAfter, /^vscr_apdus_total (\d+)$/m) - metric(metricsBefore, /^vscr_apdus_total (\d+)$/m)).toBeGreaterThanOrEqual(2);
    const cardOps = /^vscr_device_operations_total\{caller="card",device="0",op="sha256"\} (\d+)$/m;
    expect(metric(metricsAfter, cardOps) - metric(metricsBefore, cardOps)).toBe(1);
  });
});

describe('sharing', () => {
  it('exclusive blocks shared and vice versa', async () => {
    const a = await client();
    const b = await client();
    const ca = await establish(a);
    const cb = await establish(b);
    const ex = await connect(a, ca, READER0, SCARD_SHARE.EXCLUSIVE);
    expect(ex.rv).toBe(SCARD.S_SUCCESS);
    expect((await connect(b, cb, READER0, SCARD_SHARE.SHARED)).rv).toBe(SCARD.E_SHARING_VIOLATION);
    const readers = (await json<{ readers: { sharing: number }[] }>(base, '/v1/readers')).body.readers;
    expect(readers[0].sharing).toBe(-1);
    expect((await a.result('SCardDisconnect', { hCard: ex.hCard, dwDisposition: 0 })).rv).toBe(0);
    const sh = await connect(b, cb, READER0, SCARD_SHARE.SHARED);
    expect(sh.rv).toBe(SCARD.S_SUCCESS);
    expect((await connect(a, ca, READER0, SCARD_SHARE.EXCLUSIVE)).rv).toBe(SCARD.E_SHARING_VIOLATION);
    expect((await b.result('SCardDisconnect', { hCard: sh.hCard, dwDisposition: 0 })).rv).toBe(0);
  });
});

describe('transactions', () => {
  it('a second client waits for the first to end its transaction', async () => {
    const a = await client();
    const b = await client();
    const ha = await connect(a, await establish(a));
    const hb = await connect(b, await establish(b));
    expect((await a.result('SCardBeginTransaction', { hCard: ha.hCard })).rv).toBe(0);
    const bBegin = b.call('SCardBeginTransaction', { hCard: hb.hCard });
    expect(await settlesWithin(bBegin, 200)).toBe(false);
    expect((await a.result('SCardEndTransaction', { hCard: ha.hCard, dwDisposition: SCARD_DISPOSITION.LEAVE_CARD })).rv).toBe(0);
    expect((await bBegin).result?.rv).toBe(0);
    expect(await cardHash123(b, hb.hCard, hb.protocol)).toBe(SHA256_123);
    expect((await b.result('SCardEndTransaction', { hCard: hb.hCard, dwDisposition: 0 })).rv).toBe(0);
    await a.result('SCardDisconnect', { hCard: ha.hCard, dwDisposition: 0 });
    await b.result('SCardDisconnect', { hCard: hb.hCard, dwDisposition: 0 });
  });

  it('a client killed while holding the transaction releases it to the waiter', async () => {
    const a = await client();
    const b = await client();
    const ha = await connect(a, await establish(a));
    const hb = await connect(b, await establish(b));
    expect((await a.result('SCardBeginTransaction', { hCard: ha.hCard })).rv).toBe(0);
    const bBegin = b.call('SCardBeginTransaction', { hCard: hb.hCard });
    expect(await settlesWithin(bBegin, 200)).toBe(false);
    a.kill();
    const got = await within(bBegin, 10_000, 'transaction handed over after the holder died');
    // pcsc-lite resets the card when a dead client's handles are released (winscard_svc.c MSGRemoveContext), so
    // the waiter may first learn of the reset, reconnect, then take the transaction.
    expect([SCARD.S_SUCCESS, SCARD.W_RESET_CARD]).toContain(got.result?.rv);
    if (got.result?.rv === SCARD.W_RESET_CARD) {
      const re = await b.result('SCardReconnect', { hCard: hb.hCard, dwShareMode: SCARD_SHARE.SHARED, dwPreferredProtocols: 3, dwInitialization: SCARD_DISPOSITION.LEAVE_CARD });
      expect(re.rv).toBe(SCARD.S_SUCCESS);
      expect((await b.result('SCardBeginTransaction', { hCard: hb.hCard })).rv).toBe(SCARD.S_SUCCESS);
    }
    console.log(`[report] waiter's SCardBeginTransaction after the holder was killed: ${got.result?.rv === 0 ? 'SCARD_S_SUCCESS' : 'SCARD_W_RESET_CARD, then reconnect + begin'}`);
    expect(await cardHash123(b, hb.hCard, hb.protocol)).toBe(SHA256_123);
    expect((await b.result('SCardEndTransaction', { hCard: hb.hCard, dwDisposition: 0 })).rv).toBe(0);
    await b.result('SCardDisconnect', { hCard: hb.hCard, dwDisposition: 0 });
    await expectHealthy(base);
  });
});

describe('malformed JSON-RPC frames', () => {
  it('each gets its JSON-RPC error; the connection and the service stay up', async () => {
    const c = await client();
    const cases: [string, number][] = [
      ['this is not json', -32700],
      ['{"jsonrpc":"2.0","id":1', -32700],
      ['{"jsonrpc":"2.0","id":11}', -32600],
      ['{"jsonrpc":"1.0","id":12,"method":"SCardEstablishContext","params":{"dwScope":2}}', -32600],
      ['{"jsonrpc":"2.0","id":13,"method":"SCardFrobnicate","params":{}}', -32601],
      ['{"jsonrpc":"2.0","id":14,"method":"SCardConnect","params":{"hContext":"x"}}', -32602],
      ['{"jsonrpc":"2.0","id":15,"method":"SCardTransmit","params":{"hCard":1,"pioSendPci":{"dwProtocol":2},"pbSendBuffer":"zz"}}', -32602],
    ];
    for (const [frame, code] of cases) {
      // The ids above are never pending in the client, so each answer arrives as "unmatched".
      const answer = await c.sendRaw(frame);
      expect(answer.error?.code, frame).toBe(code);
      await expectHealthy(base);
    }
    expect((await c.result('SCardEstablishContext', { dwScope: 2 })).rv).toBe(0);
  });
});

describe('pcsc-lite socket', () => {
  it('is served in the data dir', () => {
    expect(svc.service.pcscSocketPath).toBe(`${svc.dataDir}/pcscd.comm`);
  });
});
