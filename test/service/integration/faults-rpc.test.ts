// Faults armed, listed and cleared over JSON-RPC (vscr.fault.*) and seen by the same JSON-RPC PC/SC client:
// every reader fault kind with its exact code, the JSON-RPC errors for bad requests, and the service healthy
// with a working card afterwards.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCARD, SCARD_DISPOSITION } from '../../../service/contract/pcsclite.js';
import { expectHealthy, json, RpcClient, startTestService, type TestService } from './harness.js';
import { READER1, connect, connectFreshCardInReader1, transmit } from './pcsc-helpers.js';

let svc: TestService;
let rpc: RpcClient;
let hContext: number;
let card: { hCard: number; protocol: number };

const SELECT_MF = '00a4000c023f00';
const GET_CHALLENGE = '0084000008';
const VERIFY_STATUS = '0020008100';
const VERIFY_RIGHT = '002000810431323334';
const VERIFY_WRONG = '002000810439393939';

interface FaultView { id: number; reader: number; kind: string; once: boolean; seen: number; fired: number }

const arm = async (params: Record<string, unknown>): Promise<FaultView> => {
  const r = await rpc.call('vscr.fault.arm', { reader: 1, ...params });
  expect(r.error, JSON.stringify(r.error)).toBeUndefined();
  return (r.result as unknown as { fault: FaultView }).fault;
};
const send = (apdu: string) => transmit(rpc, card.hCard, card.protocol, apdu);
const works = async () => expect(await send(SELECT_MF)).toMatchObject({ rv: 0, sw: '9000' });
const reconnect = async (dwInitialization: number) =>
  (await rpc.result('SCardReconnect', { hCard: card.hCard, dwShareMode: 2, dwPreferredProtocols: 3, dwInitialization })).rv;

beforeAll(async () => {
  svc = await startTestService({ pcsc: false });
  rpc = await RpcClient.connect(svc.url);
  ({ hContext, card } = await connectFreshCardInReader1(svc.url, rpc));
});

afterAll(async () => {
  await rpc?.close();
  await svc?.close();
});

describe('vscr.fault.* over JSON-RPC', () => {
  it('arm, list (one reader, all readers) and clear one by id; the view matches REST', async () => {
    const f = await arm({ kind: 'sw', sw: '6a82', once: false, trigger: { match: '00a4..0c' } });
    expect(f).toMatchObject({ reader: 1, kind: 'sw', once: false, seen: 0, fired: 0 });
    expect(await send(SELECT_MF)).toMatchObject({ rv: 0, sw: '6a82' });
    const listed = (await rpc.result('vscr.fault.list', { reader: READER1 })) as unknown as { faults: FaultView[] };
    expect(listed.faults).toEqual([expect.objectContaining({ id: f.id, fired: 1, seen: 1 })]);
    expect(listed).not.toHaveProperty('rv');
    const all = (await rpc.result('vscr.fault.list')) as unknown as { faults: FaultView[] };
    expect(all.faults.map((x) => [x.reader, x.id])).toEqual([[1, f.id]]);
    const rest = await json<{ faults: FaultView[] }>(svc.url, '/v1/readers/1/faults');
    expect(rest.body.faults).toEqual(listed.faults);
    expect(await rpc.result('vscr.fault.clear', { reader: 1, id: f.id })).toEqual({ cleared: 1 });
    await works();
  });

  it('clear all on a reader', async () => {
    await arm({ kind: 'slow', trigger: { match: 'ff' } });
    await arm({ kind: 'mute', trigger: { match: 'ff' } });
    expect(await rpc.result('vscr.fault.clear', { reader: 1 })).toEqual({ cleared: 2 });
    expect(await rpc.result('vscr.fault.list', { reader: 1 })).toEqual({ faults: [] });
  });

  it('bad requests are JSON-RPC errors: -32602 with the field named, -32001 unknown reader, -32002 unknown fault', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ reader: 1, kind: 'melt' }, /"kind" must be one of/],
      [{ reader: 1, kind: 'sw' }, /needs "sw"/],
      [{ reader: 1, kind: 'mute', now: true }, /"now" applies to/],
      [{ reader: 1, kind: 'slow', delayMs: 120_001 }, /"delayMs" must be >= 0 and <= 120000/],
      [{ reader: 1, kind: 'slow', perByteMs: -1 }, /"perByteMs"/],
      [{ reader: 1, kind: 'mute', perByteMs: 1 }, /perByteMs applies to a slow fault/],
      [{ reader: 1, kind: 'sw', sw: '9000', trigger: { nth: 0 } }, /"trigger.nth" must be >= 1/],
      [{ reader: 1, kind: 'sw', sw: '9000', trigger: { every: 2 } }, /unknown field "trigger.every"/],
      [{ reader: 1, kind: 'sw', sw: '9000', colour: 'red' }, /unknown field "colour"/],
      [{ reader: 1, kind: 'slow', delayMs: '5' }, /"delayMs" must be an integer/],
      [{ kind: 'slow' }, /"reader" is required/],
    ];
    for (const [params, message] of cases) {
      const r = await rpc.call('vscr.fault.arm', params);
      expect(r.error?.code, JSON.stringify(params)).toBe(-32602);
      expect(r.error?.message).toMatch(message);
      if (params.reader === undefined) continue;
      // REST refuses the same body with the same code: its schema what the field table refuses, the rest after.
      const { reader: _reader, ...body } = params;
      const rest = await json(svc.url, '/v1/readers/1/faults', { method: 'POST', json: body });
      expect([rest.status, (rest.body as { code: string }).code], JSON.stringify(body)).toEqual([400, (r.error?.data as { code: string }).code]);
    }
    const noSw = await rpc.call('vscr.fault.arm', { reader: 1, kind: 'sw' });
    expect(noSw.error?.data).toEqual({ code: 'VSCR_ERR_BAD_FAULT' });
    const badDelay = await rpc.call('vscr.fault.arm', { reader: 1, kind: 'slow', delayMs: 120_001 });
    expect(badDelay.error?.data).toEqual({ code: 'VSCR_ERR_VALIDATION' });
    // A PC/SC result behind the refusal is named: reset-card on an emptied reader 0 cannot connect.
    expect((await json(svc.url, '/v1/readers/0/card', { method: 'DELETE' })).status).toBe(200);
    const empty = await rpc.call('vscr.fault.arm', { reader: 0, kind: 'reset-card', now: true });
    expect([empty.error?.code, empty.error?.data]).toEqual([-32602, { code: 'VSCR_ERR_BAD_FAULT', scard: 'SCARD_E_NO_SMARTCARD' }]);
    expect(empty.error?.message).toMatch(/SCardConnect answered SCARD_E_NO_SMARTCARD/);
    await rpc.result('vscr.fault.clear', { reader: 0 });
    expect((await json(svc.url, '/v1/readers/0/card', { method: 'POST', json: {} })).status).toBe(201);
    const noReader = await rpc.call('vscr.fault.arm', { reader: 9, kind: 'mute' });
    expect([noReader.error?.code, noReader.error?.data]).toEqual([-32001, { code: 'VSCR_ERR_UNKNOWN_READER' }]);
    const noFault = await rpc.call('vscr.fault.clear', { reader: 1, id: 99 });
    expect([noFault.error?.code, noFault.error?.data]).toEqual([-32002, { code: 'VSCR_ERR_UNKNOWN_FAULT' }]);
    expect(await rpc.result('vscr.fault.list', { reader: 1 })).toEqual({ faults: [] });
    await works();
  });

  it('sw and corrupt: SCARD_S_SUCCESS with the altered answer', async () => {
    await arm({ kind: 'sw', sw: '6982', trigger: { match: '0084' } });
    expect(await send(GET_CHALLENGE)).toMatchObject({ rv: 0, data: expect.stringMatching(/^[0-9a-f]{16}$/), sw: '6982' });
    await arm({ kind: 'corrupt', corruption: 'truncate' });
    const cut = await rpc.result('SCardTransmit', { hCard: card.hCard, pioSendPci: { dwProtocol: card.protocol }, pbSendBuffer: GET_CHALLENGE });
    expect(cut).toMatchObject({ rv: 0, pbRecvBuffer: expect.stringMatching(/^[0-9a-f]{16}90$/) });
    await arm({ kind: 'corrupt', trigger: { seed: 3 } });
    const flipped = await send(SELECT_MF);
    expect(flipped.rv).toBe(0);
    const diff = parseInt(flipped.sw, 16) ^ 0x9000;
    expect(diff !== 0 && (diff & (diff - 1)) === 0).toBe(true);
    await works();
  });

  it('slow (fixed and per byte) answers right; mute gives SCARD_E_NOT_TRANSACTED and the card still works', async () => {
    await arm({ kind: 'slow', delayMs: 50, perByteMs: 2 });
    expect(await send(GET_CHALLENGE)).toMatchObject({ rv: 0, data: expect.stringMatching(/^[0-9a-f]{16}$/), sw: '9000' });
    await arm({ kind: 'mute', delayMs: 100 });
    expect((await send(SELECT_MF)).rv).toBe(SCARD.E_NOT_TRANSACTED);
    await works();
  });

  it('remove-card on an APDU: SCARD_E_NO_SMARTCARD, then SCARD_W_REMOVED_CARD; a new card and a reconnect work', async () => {
    await arm({ kind: 'remove-card', trigger: { match: '0084' } });
    expect((await send(GET_CHALLENGE)).rv).toBe(SCARD.E_NO_SMARTCARD);
    expect((await send(SELECT_MF)).rv).toBe(SCARD.W_REMOVED_CARD);
    expect((await json(svc.url, '/v1/readers/1/card', { method: 'POST', json: {} })).status).toBe(201);
    expect(await reconnect(SCARD_DISPOSITION.LEAVE_CARD)).toBe(0);
    await works();
  });

  it('reset-card: SCARD_W_RESET_CARD once, then a reconnect works', async () => {
    await arm({ kind: 'reset-card', trigger: { match: '00a4' } });
    await works(); // the triggering command completes; the reset follows it
    let rv = 0;
    for (let i = 0; i < 50 && rv === 0; i++) rv = (await send(SELECT_MF)).rv;
    expect(rv).toBe(SCARD.W_RESET_CARD);
    expect(await reconnect(SCARD_DISPOSITION.LEAVE_CARD)).toBe(0);
    await works();
  });

  it('power-fail: SCARD_E_NOT_TRANSACTED until a SCardReconnect powers the card again; other handles see a reset', async () => {
    const other = await connect(rpc, hContext, READER1);
    expect(other.rv).toBe(0);
    expect(await send(VERIFY_RIGHT)).toMatchObject({ rv: 0, sw: '9000' });
    await arm({ kind: 'power-fail', trigger: { match: '0020' } });
    // A wrong PIN that would spend a try: the card loses power before it sees it.
    expect((await send(VERIFY_WRONG)).rv).toBe(SCARD.E_NOT_TRANSACTED);
    expect((await send(SELECT_MF)).rv).toBe(SCARD.E_NOT_TRANSACTED);
    expect((await transmit(rpc, other.hCard, other.protocol, SELECT_MF)).rv).toBe(SCARD.E_NOT_TRANSACTED);
    // The resource manager finds the card unpowered and powers it up: for the other handle, a reset.
    expect(await reconnect(SCARD_DISPOSITION.LEAVE_CARD)).toBe(0);
    // Volatile state is gone (no longer verified), the try counter untouched (3 left).
    expect(await send(VERIFY_STATUS.slice(0, 8))).toMatchObject({ rv: 0, sw: '63c3' });
    expect((await transmit(rpc, other.hCard, other.protocol, SELECT_MF)).rv).toBe(SCARD.W_RESET_CARD);
    expect((await rpc.result('SCardReconnect', { hCard: other.hCard, dwShareMode: 2, dwPreferredProtocols: 3, dwInitialization: 0 })).rv).toBe(0);
    expect(await transmit(rpc, other.hCard, other.protocol, SELECT_MF)).toMatchObject({ rv: 0, sw: '9000' });
    expect((await rpc.result('SCardDisconnect', { hCard: other.hCard, dwDisposition: 0 })).rv).toBe(0);
    await works();
  });

  it('power-fail now: the next transmit fails, a wrong PIN try before it stays spent', async () => {
    expect(await send(VERIFY_WRONG)).toMatchObject({ rv: 0, sw: '63c2' });
    const f = await arm({ kind: 'power-fail', now: true });
    expect(f.fired).toBe(1);
    expect((await send(SELECT_MF)).rv).toBe(SCARD.E_NOT_TRANSACTED);
    expect(await reconnect(SCARD_DISPOSITION.RESET_CARD)).toBe(0);
    expect(await send(VERIFY_STATUS.slice(0, 8))).toMatchObject({ rv: 0, sw: '63c2' });
    expect(await send(VERIFY_RIGHT)).toMatchObject({ rv: 0, sw: '9000' });
  });

  it('unplug with replug: SCARD_E_READER_UNAVAILABLE, then a new connect works', async () => {
    await arm({ kind: 'unplug', now: true, replugMs: 100 });
    expect((await send(SELECT_MF)).rv).toBe(SCARD.E_READER_UNAVAILABLE);
    let again = { rv: -1, hCard: 0, protocol: 0 };
    for (let i = 0; i < 50 && again.rv !== 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      again = await connect(rpc, hContext, READER1);
    }
    expect(again.rv).toBe(0);
    // The old handle outlives its reader until it is disconnected (as in pcscd).
    await rpc.result('SCardDisconnect', { hCard: card.hCard, dwDisposition: 0 });
    card = again;
    await works();
  });

  it('every kind fired is counted; the service is healthy', async () => {
    const text = await (await fetch(`${svc.url}/metrics`)).text();
    for (const kind of ['sw', 'corrupt', 'slow', 'mute', 'remove-card', 'reset-card', 'power-fail', 'unplug']) {
      expect(text).toMatch(new RegExp(`vscr_faults_fired_total\\{[^}]*kind="${kind}"[^}]*\\} [1-9]`));
    }
    // What this one client holds (one context, one handle), and nothing left by the fault host's own client.
    expect(text).toMatch(/^vscr_pcsc_contexts 1$/m);
    expect(text).toMatch(/^vscr_pcsc_card_handles 1$/m);
    await expectHealthy(svc.url);
  });
});
