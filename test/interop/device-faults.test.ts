// Crypto-device faults armed over REST, seen by pyscard (libpcsclite) on our socket as the crypto applet's status
// word: each fault's exact SW, and the card hashing right again after the reset path.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Py } from './pyscard-driven.js';
import { gate, type InteropService, rest, startInteropService } from './support.js';

const g = gate([['pyscard', 'python3-pyscard']]);
const READER0 = 'vscr Virtual Reader 00 00';
const SELECT_CRYPTO_APPLET = '00a4040c06f07673637201';
/** PSO: HASH of "123"; the digest is the known answer of docs/crypto-device.md. */
const PSO_HASH_123 = '002a90800331323300';
const DIGEST_123 = 'a665a45920422f9d417e4867efdc4fb8a04a1f3fff1fa07e998e86f7f7a27ae3';


describe.skipIf(g.skip)('crypto-device faults through pyscard', () => {
  let svc: InteropService;
  let py: Py;

  /** The SW of PSO HASH, after GET RESPONSE when T=0 says 61xx; the digest must be the known one on 9000. */
  const hashSw = async (): Promise<string> => {
    let r = await py.send({ op: 'transmit', apdu: PSO_HASH_123 });
    expect(r.rv).toBe(0);
    let resp = String(r.response);
    if (resp.length === 4 && resp.startsWith('61')) {
      r = await py.send({ op: 'transmit', apdu: `00c00000${resp.slice(2)}` });
      resp = String(r.response);
    }
    if (resp.endsWith('9000')) expect(resp.slice(0, -4)).toBe(DIGEST_123);
    else expect(resp).toHaveLength(4); // an error SW carries no data
    return resp.slice(-4);
  };
  const arm = async (body: Record<string, unknown>) => {
    const r = await rest(svc.url, 'POST', '/v1/devices/0/faults', body);
    expect(r.status, JSON.stringify(r.body)).toBe(201);
  };
  const resetDevice = async () => {
    const r = await rest(svc.url, 'POST', '/v1/devices/0/reset');
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body).toMatchObject({ state: 0, errorCode: 0 });
  };

  beforeAll(async () => {
    if (g.missing) throw new Error(g.missing);
    // Shorter driver timeouts (production: 2000 ms for a command, 1000 ms for a reset): the same statuses, less
    // sleeping; still far above what a working device needs on a loaded machine.
    svc = await startInteropService({}, { timings: { deviceCommandTimeoutMs: 1000, deviceResetTimeoutMs: 400 } });
    py = Py.start(svc.env);
    expect((await py.next()).rv).toBe(0);
    expect((await py.send({ op: 'connect', reader: READER0 })).rv).toBe(0);
    expect(await py.send({ op: 'transmit', apdu: SELECT_CRYPTO_APPLET })).toMatchObject({ rv: 0, response: '9000' });
    expect(await hashSw()).toBe('9000');
  });

  afterAll(async () => {
    py?.child.stdin.end(`${JSON.stringify({ op: 'quit' })}\n`);
    await svc?.close();
  });

  it('dma-error: 6F00, and 6F00 again while ErrorCode stays latched; a reset brings the card back', async () => {
    await arm({ kind: 'dma-error' });
    expect(await hashSw()).toBe('6f00');
    expect((await rest(svc.url, 'GET', '/v1/devices/0/status')).body).toMatchObject({ errorCode: 1, errorName: 'DMA error' });
    expect(await hashSw()).toBe('6f00');
    await resetDevice();
    expect(await hashSw()).toBe('9000');
  });

  it('latched-error (code 4, at once): 6F00 until a reset', async () => {
    await arm({ kind: 'latched-error', now: true });
    expect(await hashSw()).toBe('6f00');
    await resetDevice();
    expect(await hashSw()).toBe('9000');
  });

  it('never-ready: the REST reset gives up after the driver reset timeout with 503 STATUS_DEVICE_BUSY; the card answers 6F00 until the hang ends', async () => {
    await arm({ kind: 'never-ready', trigger: { command: 'reset' }, holdMs: 60_000 });
    const r = await rest(svc.url, 'POST', '/v1/devices/0/reset');
    expect(r.status).toBe(503);
    expect(r.body).toMatchObject({ code: 'VSCR_ERR_DEVICE_BUSY', ntstatus: 'STATUS_DEVICE_BUSY' });
    expect(await hashSw()).toBe('6f00');
    expect((await rest(svc.url, 'DELETE', '/v1/devices/0/faults')).status).toBe(200);
    for (let i = 0; i < 200 && ((await rest(svc.url, 'GET', '/v1/devices/0/status')).body as { state: number }).state !== 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(await hashSw()).toBe('9000');
  });

  it('lost-interrupt on the 2nd hash: the driver times out and resets; 6F00 once, then the card works', async () => {
    await arm({ kind: 'lost-interrupt', trigger: { nth: 2, command: 'sha256' } });
    expect(await hashSw()).toBe('9000');
    expect(await hashSw()).toBe('6f00');
    expect(await hashSw()).toBe('9000');
    const metrics = await (await fetch(`${svc.url}/metrics`)).text();
    for (const kind of ['dma-error', 'latched-error', 'never-ready', 'lost-interrupt']) {
      expect(metrics).toContain(`vscr_faults_fired_total{device="0",kind="${kind}"} 1`);
    }
  });
});
