// Faults armed over REST, seen by a JSON-RPC PC/SC client: the exact codes, a GetStatusChange waiter woken by a
// removal fault, the REST errors, and the card working afterwards.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCARD, SCARD_STATE } from '../../../service/contract/pcsclite.js';
import { expectHealthy, json, RpcClient, startTestService, type TestService } from './harness.js';
import { READER1, connect, connectFreshCardInReader1, establish, transmit } from './pcsc-helpers.js';

let svc: TestService;
let base: string;
let rpc: RpcClient;
let hContext: number;
let card: { hCard: number; protocol: number };

const SELECT_MF = '00a4000c023f00';
const arm = async (body: Record<string, unknown>, reader = 1) => {
  const r = await json<{ fault: { id: number } }>(base, `/v1/readers/${reader}/faults`, { method: 'POST', json: body });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body.fault;
};
const works = async () => expect(await transmit(rpc, card.hCard, card.protocol, SELECT_MF)).toMatchObject({ rv: 0, sw: '9000' });

beforeAll(async () => {
  svc = await startTestService({ pcsc: false });
  base = svc.url;
  rpc = await RpcClient.connect(base);
  ({ hContext, card } = await connectFreshCardInReader1(base, rpc));
});

afterAll(async () => {
  await rpc?.close();
  await svc?.close();
});

describe('faults through JSON-RPC', () => {
  it('sw, mute and slow: the answer, SCARD_E_NOT_TRANSACTED, a late right answer', async () => {
    await arm({ kind: 'sw', sw: '6982', trigger: { match: '00a4' } });
    expect(await transmit(rpc, card.hCard, card.protocol, SELECT_MF)).toMatchObject({ rv: 0, sw: '6982' });
    await arm({ kind: 'mute', delayMs: 200 });
    expect((await transmit(rpc, card.hCard, card.protocol, SELECT_MF)).rv).toBe(SCARD.E_NOT_TRANSACTED);
    await arm({ kind: 'slow', delayMs: 200 });
    await works();
  });

  it('remove-card: a blocked SCardGetStatusChange wakes with EMPTY, the holder gets SCARD_W_REMOVED_CARD', async () => {
    const first = await rpc.result('SCardGetStatusChange', { hContext, dwTimeout: 0, rgReaderStates: [{ szReader: READER1, dwCurrentState: SCARD_STATE.UNAWARE }] });
    const current = (first.rgReaderStates as { dwEventState: number }[])[0].dwEventState & ~SCARD_STATE.CHANGED;
    const waiter = await RpcClient.connect(base);
    try {
      const wctx = await establish(waiter);
      const waiting = waiter.result('SCardGetStatusChange', { hContext: wctx, dwTimeout: 15_000, rgReaderStates: [{ szReader: READER1, dwCurrentState: current }] });
      await arm({ kind: 'remove-card', now: true });
      const woken = await waiting;
      expect(woken.rv).toBe(SCARD.S_SUCCESS);
      const state = (woken.rgReaderStates as { dwEventState: number }[])[0].dwEventState;
      expect(state & (SCARD_STATE.CHANGED | SCARD_STATE.EMPTY)).toBe(SCARD_STATE.CHANGED | SCARD_STATE.EMPTY);
      expect(state >>> 16).toBe((current >>> 16) + 1);
    } finally {
      await waiter.close();
    }
    expect((await transmit(rpc, card.hCard, card.protocol, SELECT_MF)).rv).toBe(SCARD.W_REMOVED_CARD);
    expect((await json(base, '/v1/readers/1/card', { method: 'POST', json: {} })).status).toBe(201);
    const re = await rpc.result('SCardReconnect', { hCard: card.hCard, dwShareMode: 2, dwPreferredProtocols: 3, dwInitialization: 0 });
    expect(re.rv).toBe(0);
    await works();
  });

  it('reset-card by another party: SCARD_W_RESET_CARD once, then the handle works after a reconnect', async () => {
    await arm({ kind: 'reset-card', now: true });
    expect((await transmit(rpc, card.hCard, card.protocol, SELECT_MF)).rv).toBe(SCARD.W_RESET_CARD);
    expect((await rpc.result('SCardReconnect', { hCard: card.hCard, dwShareMode: 2, dwPreferredProtocols: 3, dwInitialization: 0 })).rv).toBe(0);
    await works();
  });

  it('unplug with replug: SCARD_E_READER_UNAVAILABLE, then a new connect works', async () => {
    await arm({ kind: 'unplug', now: true, replugMs: 100 });
    expect((await transmit(rpc, card.hCard, card.protocol, SELECT_MF)).rv).toBe(SCARD.E_READER_UNAVAILABLE);
    let again = { rv: -1, hCard: 0, protocol: 0 };
    for (let i = 0; i < 50 && again.rv !== 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      again = await connect(rpc, hContext, READER1);
    }
    expect(again.rv).toBe(0);
    card = again;
    await works();
    await expectHealthy(base);
  });

  it('REST errors: a bad fault, an unknown fault id, an unknown reader', async () => {
    const bad = await json<{ code: string }>(base, '/v1/readers/1/faults', { method: 'POST', json: { kind: 'mute', now: true } });
    expect([bad.status, bad.body.code]).toEqual([400, 'VSCR_ERR_BAD_FAULT']);
    const noSw = await json<{ code: string }>(base, '/v1/readers/1/faults', { method: 'POST', json: { kind: 'sw' } });
    expect([noSw.status, noSw.body.code]).toEqual([400, 'VSCR_ERR_BAD_FAULT']);
    const unknown = await json<{ code: string }>(base, '/v1/readers/1/faults/99', { method: 'DELETE' });
    expect([unknown.status, unknown.body.code]).toEqual([404, 'VSCR_ERR_UNKNOWN_FAULT']);
    const noReader = await json<{ code: string }>(base, '/v1/readers/9/faults');
    expect([noReader.status, noReader.body.code]).toEqual([404, 'VSCR_ERR_UNKNOWN_READER']);
    // A PC/SC result behind the refusal goes in `scard`: reset-card on an emptied reader 0 cannot connect.
    expect((await json(base, '/v1/readers/0/card', { method: 'DELETE' })).status).toBe(200);
    const empty = await json(base, '/v1/readers/0/faults', { method: 'POST', json: { kind: 'reset-card', now: true } });
    expect([empty.status, empty.body]).toEqual([
      400,
      { error: 'Bad Request', code: 'VSCR_ERR_BAD_FAULT', message: expect.stringContaining('SCardConnect answered SCARD_E_NO_SMARTCARD'), scard: 'SCARD_E_NO_SMARTCARD' },
    ]);
    await json(base, '/v1/readers/0/faults', { method: 'DELETE' });
    expect((await json(base, '/v1/readers/0/card', { method: 'POST', json: {} })).status).toBe(201);
  });
});
