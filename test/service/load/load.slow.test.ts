// Bounded load on loopback: 32 HTTP clients hashing and 8 JSON-RPC clients transmitting PSO:HASH at once, for a
// fixed count each. Every answer is checked; the only assertions are zero wrong answers and zero errors.

import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHA256_123, expectHealthy, http, RpcClient, startTestService, type TestService } from '../integration/harness.js';
import { connect, establish, transmit, SELECT_CRYPTO_APPLET, PSO_HASH_123 } from '../integration/pcsc-helpers.js';

const HTTP_CLIENTS = 32;
const HTTP_REQUESTS_EACH = 25;
const RPC_CLIENTS = 8;
const RPC_APDUS_EACH = 50;

let svc: TestService;
beforeAll(async () => {
  svc = await startTestService();
});
afterAll(async () => {
  await svc?.close();
});

describe('load', () => {
  it(`${HTTP_CLIENTS}×${HTTP_REQUESTS_EACH} HTTP hashes and ${RPC_CLIENTS}×${RPC_APDUS_EACH} APDUs: zero wrong, zero errors`, async () => {
    const wrong: string[] = [];
    const failures: string[] = [];
    const started = Date.now();

    const httpClient = async (n: number): Promise<void> => {
      for (let i = 0; i < HTTP_REQUESTS_EACH; i += 1) {
        // Varying sizes and both body forms; every answer is checked against node:crypto.
        const data = randomBytes(1 + ((n * 7919 + i * 104729) % 200_000));
        const useJson = i % 3 === 0;
        try {
          const res = useJson
            ? await http(svc.url, '/v1/devices/0/sha256', { method: 'POST', json: { data: data.toString('base64'), encoding: 'base64' } })
            : await http(svc.url, '/v1/devices/0/sha256', { method: 'POST', body: data, headers: { 'content-type': 'application/octet-stream' } });
          const body = (await res.json()) as { digest?: string };
          if (res.status !== 200) failures.push(`http ${n}/${i}: ${res.status} ${JSON.stringify(body)}`);
          else if (body.digest !== createHash('sha256').update(data).digest('hex')) wrong.push(`http ${n}/${i}`);
        } catch (err) {
          failures.push(`http ${n}/${i}: ${(err as Error).message}`);
        }
      }
    };

    const rpcClient = async (n: number): Promise<void> => {
      const c = await RpcClient.connect(svc.url);
      try {
        const hContext = await establish(c);
        const { rv, hCard, protocol } = await connect(c, hContext);
        if (rv !== 0) {
          failures.push(`rpc ${n}: connect rv=0x${rv.toString(16)}`);
          return;
        }
        for (let i = 0; i < RPC_APDUS_EACH; i += 1) {
          // Clients share the card: the applet selection is per logical channel, so select inside a transaction.
          const begin = await c.result('SCardBeginTransaction', { hCard });
          if (begin.rv !== 0) failures.push(`rpc ${n}/${i}: begin rv=0x${begin.rv.toString(16)}`);
          const sel = await transmit(c, hCard, protocol, SELECT_CRYPTO_APPLET);
          const h = await transmit(c, hCard, protocol, PSO_HASH_123);
          const end = await c.result('SCardEndTransaction', { hCard, dwDisposition: 0 });
          if (sel.rv !== 0 || h.rv !== 0 || end.rv !== 0) failures.push(`rpc ${n}/${i}: rv ${sel.rv}/${h.rv}/${end.rv}`);
          else if (sel.sw !== '9000' || h.sw !== '9000' || h.data !== SHA256_123) wrong.push(`rpc ${n}/${i}: ${sel.sw} ${h.sw} ${h.data}`);
        }
        await c.result('SCardDisconnect', { hCard, dwDisposition: 0 });
      } catch (err) {
        failures.push(`rpc ${n}: ${(err as Error).message}`);
      } finally {
        await c.close();
      }
    };

    await Promise.all([
      ...Array.from({ length: HTTP_CLIENTS }, (_, n) => httpClient(n)),
      ...Array.from({ length: RPC_CLIENTS }, (_, n) => rpcClient(n)),
    ]);
    console.log(`[report] load: ${HTTP_CLIENTS * HTTP_REQUESTS_EACH} HTTP hashes + ${RPC_CLIENTS * RPC_APDUS_EACH} APDU pairs in ${Date.now() - started} ms`);
    expect(failures).toEqual([]);
    expect(wrong).toEqual([]);
    await expectHealthy(svc.url);
  });
});
