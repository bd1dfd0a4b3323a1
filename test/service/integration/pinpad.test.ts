// The PIN pad over JSON-RPC and REST: the feature list in both numberings, VERIFY_PIN_DIRECT driven by REST
// keys while SCardControl waits, the keypad routes' errors, and the digits never echoed.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCARD } from '../../../service/contract/pcsclite.js';
import { buildPinVerify } from '../../../smcard/reader/pinpad/part10.js';
import { expectHealthy, json, RpcClient, startTestService, type TestService } from './harness.js';
import { connect, establish } from './pcsc-helpers.js';

let svc: TestService;
let base: string;
let rpc: RpcClient;
let reader: { index: number; name: string };

const verify = (timeoutSeconds = 0): string =>
  Buffer.from(buildPinVerify({
    timeoutSeconds, firstKeyTimeoutSeconds: 0, formatString: 0x82, blockString: 0x08, lengthFormat: 0, minDigits: 4, maxDigits: 8,
    apdu: Uint8Array.from(Buffer.from('0020008108FFFFFFFFFFFFFFFF', 'hex')),
  })).toString('hex');

beforeAll(async () => {
  svc = await startTestService({ pcsc: false });
  base = svc.url;
  const added = await json<{ reader: { index: number; name: string; pinpad: boolean } }>(base, '/v1/readers', { method: 'POST', json: { pinpad: true } });
  expect(added.status).toBe(201);
  expect(added.body.reader.pinpad).toBe(true);
  reader = added.body.reader;
  expect((await json(base, `/v1/readers/${reader.index}/card`, { method: 'POST', json: {} })).status).toBe(201);
  rpc = await RpcClient.connect(base);
});

afterAll(async () => {
  await rpc?.close();
  await svc?.close();
});

describe('PIN pad over JSON-RPC and REST', () => {
  it('features come back in the numbering they were asked in; VERIFY through keys typed over REST', async () => {
    const hContext = await establish(rpc);
    const { rv, hCard } = await connect(rpc, hContext, reader.name);
    expect(rv).toBe(SCARD.S_SUCCESS);
    const pcsclite = await rpc.result('SCardControl', { hCard, dwControlCode: 0x42000d48, pbSendBuffer: '' });
    expect(pcsclite).toMatchObject({ rv: 0, pbRecvBuffer: '060442000d4e070442000d4f0a0442000d52120442000d5a' });
    const windows = await rpc.result('SCardControl', { hCard, dwControlCode: 0x00313520, pbSendBuffer: '' });
    expect(windows).toMatchObject({ rv: 0, pbRecvBuffer: '060400313538' + '07040031353c' + '0a0400313548' + '120400313568' });

    // Both numberings reach the same feature.
    for (const dwControlCode of [0x42000d4e, 0x00313538]) {
      const answer = rpc.result('SCardControl', { hCard, dwControlCode, pbSendBuffer: verify() });
      const waited = await json<{ pinpad: { prompting: boolean; stage: string } }>(base, `/v1/readers/${reader.index}/pinpad?waitPrompt=10000`);
      expect(waited.body.pinpad).toMatchObject({ prompting: true, stage: 'pin' });
      const typed = await json<{ pinpad: { digitsEntered: number } }>(base, `/v1/readers/${reader.index}/pinpad`, { method: 'POST', json: { digits: '1234' } });
      expect(typed.status).toBe(200);
      expect(typed.body.pinpad.digitsEntered).toBe(4);
      expect(JSON.stringify(typed.body)).not.toContain('1234');
      expect((await json(base, `/v1/readers/${reader.index}/pinpad`, { method: 'POST', json: { key: 'ok' } })).status).toBe(200);
      expect(await answer).toMatchObject({ rv: 0, pbRecvBuffer: '9000' });
    }

    // A plain reader has no features and refuses the pad's codes.
    const plain = await connect(rpc, hContext, 'vscr Virtual Reader 00 00');
    expect(await rpc.result('SCardControl', { hCard: plain.hCard, dwControlCode: 0x42000d48, pbSendBuffer: '' })).toMatchObject({ rv: 0, pbRecvBuffer: '' });
    const refused = await rpc.result('SCardControl', { hCard: plain.hCard, dwControlCode: 0x42000d4e, pbSendBuffer: verify() });
    expect(refused.rv).toBe(SCARD.E_UNSUPPORTED_FEATURE);
    await expectHealthy(base);
  });

  it('keypad route errors: no pad, idle pad, full queue, bad digits', async () => {
    const notPad = await json<{ code: string }>(base, '/v1/readers/0/pinpad');
    expect([notPad.status, notPad.body.code]).toEqual([409, 'VSCR_ERR_NOT_PINPAD']);
    const idle = await json<{ code: string }>(base, `/v1/readers/${reader.index}/pinpad`, { method: 'POST', json: { digits: '1' } });
    expect([idle.status, idle.body.code]).toEqual([409, 'VSCR_ERR_PINPAD_IDLE']);
    const bad = await json<{ code: string }>(base, `/v1/readers/${reader.index}/pinpad/queue`, { method: 'POST', json: { digits: '12a4' } });
    expect([bad.status, bad.body.code]).toEqual([400, 'VSCR_ERR_VALIDATION']);
    for (let i = 0; i < 16; i++) expect((await json(base, `/v1/readers/${reader.index}/pinpad/queue`, { method: 'POST', json: { key: 'cancel' } })).status).toBe(201);
    const full = await json<{ code: string }>(base, `/v1/readers/${reader.index}/pinpad/queue`, { method: 'POST', json: { digits: '1234' } });
    expect([full.status, full.body.code]).toEqual([409, 'VSCR_ERR_PINPAD_QUEUE_FULL']);
    const cleared = await json<{ pinpad: { queued: number } }>(base, `/v1/readers/${reader.index}/pinpad/queue`, { method: 'DELETE' });
    expect([cleared.status, cleared.body.pinpad.queued]).toEqual([200, 0]);
  });
});
