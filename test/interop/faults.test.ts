// Faults armed over REST, seen by pyscard (libpcsclite) on our socket: each fault's exact PC/SC code, and the
// service healthy with a working card afterwards.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCARD } from '../../service/contract/pcsclite.js';
import { Py } from './pyscard-driven.js';
import { gate, type InteropService, rest, startInteropService } from './support.js';

const g = gate([['pyscard', 'python3-pyscard']]);
const READER0 = 'vscr Virtual Reader 00 00';
const SELECT_MF = '00a4000c023f00';
const GET_CHALLENGE = '0084000008';


describe.skipIf(g.skip)('faults through pyscard', () => {
  let svc: InteropService;
  let py: Py;

  const arm = async (body: Record<string, unknown>, reader = 0) => {
    const r = await rest(svc.url, 'POST', `/v1/readers/${reader}/faults`, body);
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return (r.body as { fault: { id: number } }).fault;
  };
  const healthyCard = async () => {
    const c = await py.send({ op: 'transmit', apdu: SELECT_MF });
    expect(c).toMatchObject({ rv: 0, response: '9000' });
  };

  beforeAll(async () => {
    if (g.missing) throw new Error(g.missing);
    svc = await startInteropService();
    py = Py.start(svc.env);
    expect((await py.next()).rv).toBe(0);
    expect((await py.send({ op: 'connect', reader: READER0 })).rv).toBe(0);
  });

  afterAll(async () => {
    py?.child.stdin.end(`${JSON.stringify({ op: 'quit' })}\n`);
    await svc?.close();
  });

  it('sw override on matching commands only; one-shot and until cleared', async () => {
    await arm({ kind: 'sw', sw: '6a82', trigger: { match: '00a4' } });
    expect(await py.send({ op: 'transmit', apdu: GET_CHALLENGE })).toMatchObject({ rv: 0, response: expect.stringMatching(/^[0-9a-f]{16}9000$/) });
    expect(await py.send({ op: 'transmit', apdu: SELECT_MF })).toMatchObject({ rv: 0, response: '6a82' });
    await healthyCard(); // one-shot: gone after firing

    const sticky = await arm({ kind: 'sw', sw: '6f00', once: false, trigger: { match: '00a4..0c' } });
    for (let i = 0; i < 2; i++) expect(await py.send({ op: 'transmit', apdu: SELECT_MF })).toMatchObject({ rv: 0, response: '6f00' });
    const listed = (await rest(svc.url, 'GET', '/v1/readers/0/faults')).body as { faults: { id: number; fired: number }[] };
    expect(listed.faults).toEqual([expect.objectContaining({ id: sticky.id, fired: 2 })]);
    expect((await rest(svc.url, 'DELETE', `/v1/readers/0/faults/${sticky.id}`)).status).toBe(200);
    await healthyCard();
  });

  it('corrupted response: a truncated byte, a flipped bit on the Nth APDU', async () => {
    await arm({ kind: 'corrupt', corruption: 'truncate' });
    // 8 random bytes and 9000, less the last byte.
    expect(await py.send({ op: 'transmit', apdu: GET_CHALLENGE })).toMatchObject({ rv: 0, response: expect.stringMatching(/^[0-9a-f]{16}90$/) });
    await arm({ kind: 'corrupt', trigger: { nth: 2, seed: 7 } });
    await healthyCard();
    const flipped = await py.send({ op: 'transmit', apdu: SELECT_MF });
    expect(flipped.rv).toBe(0);
    const diff = Buffer.from(String(flipped.response), 'hex').readUInt16BE(0) ^ 0x9000;
    expect(diff !== 0 && (diff & (diff - 1)) === 0).toBe(true); // exactly one bit differs
  });

  it('mute card: the reader gives up and the transmit fails with SCARD_E_NOT_TRANSACTED', async () => {
    await arm({ kind: 'mute', delayMs: 300 });
    expect((await py.send({ op: 'transmit', apdu: SELECT_MF })).rv).toBe(SCARD.E_NOT_TRANSACTED);
    await healthyCard();
  });

  it('slow card: the answer is right, only late', async () => {
    await arm({ kind: 'slow', delayMs: 300 });
    await healthyCard();
  });

  it('slow card, per byte: the answer is right, only late', async () => {
    await arm({ kind: 'slow', delayMs: 20, perByteMs: 5 });
    expect(await py.send({ op: 'transmit', apdu: GET_CHALLENGE })).toMatchObject({ rv: 0, response: expect.stringMatching(/^[0-9a-f]{16}9000$/) });
  });

  it('power failure behind the resource manager: SCARD_E_NOT_TRANSACTED until SCardReconnect; the PIN try never reached the card', async () => {
    expect(await py.send({ op: 'transmit', apdu: '002000810431323334' })).toMatchObject({ rv: 0, response: '9000' });
    await arm({ kind: 'power-fail', trigger: { match: '0020' } });
    expect((await py.send({ op: 'transmit', apdu: '002000810439393939' })).rv).toBe(SCARD.E_NOT_TRANSACTED);
    expect((await py.send({ op: 'transmit', apdu: SELECT_MF })).rv).toBe(SCARD.E_NOT_TRANSACTED);
    // pcscd still reports the card present and powered: nobody told it.
    const status = await py.send({ op: 'status' });
    expect([status.rv, Number(status.state) & 0x34]).toEqual([0, 0x34]);
    expect((await py.send({ op: 'reconnect' })).rv).toBe(0);
    // Not verified any more (the power cycle), and 3 tries left (the wrong PIN was never seen).
    expect(await py.send({ op: 'transmit', apdu: '00200081' })).toMatchObject({ rv: 0, response: '63c3' });
    await healthyCard();
  });

  it('card removed mid-APDU: that transmit fails SCARD_E_NO_SMARTCARD, then the holder gets SCARD_W_REMOVED_CARD, a waiter sees EMPTY', async () => {
    await arm({ kind: 'remove-card', trigger: { match: '0084' } });
    const inFlight = await py.send({ op: 'transmit', apdu: GET_CHALLENGE });
    const next = await py.send({ op: 'transmit', apdu: SELECT_MF });
    expect([inFlight.rv, next.rv]).toEqual([SCARD.E_NO_SMARTCARD, SCARD.W_REMOVED_CARD]);
    const waited = await py.send({ op: 'wait', reader: READER0, state: 0, timeout: 0 });
    expect(waited.rv).toBe(0);
    expect(Number(waited.state) & 0x10).toBe(0x10); // SCARD_STATE_EMPTY
    expect((await rest(svc.url, 'POST', '/v1/readers/0/card', {})).status).toBe(201);
    expect((await py.send({ op: 'reconnect' })).rv).toBe(0);
    await healthyCard();
  });

  it('card reset by another party: SCARD_W_RESET_CARD, then a reconnect works', async () => {
    await arm({ kind: 'reset-card', now: true });
    expect((await py.send({ op: 'transmit', apdu: SELECT_MF })).rv).toBe(SCARD.W_RESET_CARD);
    expect((await py.send({ op: 'reconnect' })).rv).toBe(0);
    await healthyCard();
  });

  it('reader unplugged mid-APDU: SCARD_E_READER_UNAVAILABLE for the holder; plugged back, listed again and working', async () => {
    await arm({ kind: 'unplug', replugMs: 200, trigger: { match: '0084' } });
    expect((await py.send({ op: 'transmit', apdu: GET_CHALLENGE })).rv).toBe(SCARD.E_READER_UNAVAILABLE);
    expect((await py.send({ op: 'transmit', apdu: SELECT_MF })).rv).toBe(SCARD.E_READER_UNAVAILABLE);
    // PnP: wait for the reader list to change back (the \\?PnP?\Notification pseudo-reader).
    let listed: string[] = [];
    for (let i = 0; i < 50 && !listed.includes(READER0); i++) {
      await new Promise((r) => setTimeout(r, 100));
      listed = (await py.send({ op: 'list' })).readers as string[];
    }
    expect(listed).toContain(READER0);
    for (let i = 0; i < 50; i++) {
      const r = (await rest(svc.url, 'GET', '/v1/readers')).body as { readers: { name: string; cardPresent: boolean; published: boolean }[] };
      if (r.readers.some((x) => x.name === READER0 && x.cardPresent)) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    expect((await py.send({ op: 'disconnect' })).rv).toBe(0);
    expect((await py.send({ op: 'connect', reader: READER0 })).rv).toBe(0);
    await healthyCard();
  });

  it('every fired fault is counted in /metrics; the service is healthy and the card works', async () => {
    expect((await rest(svc.url, 'GET', '/health')).body).toMatchObject({ status: 'ok' });
    await healthyCard();
    const res = await fetch(`${svc.url}/metrics`);
    const text = await res.text();
    for (const kind of ['sw', 'corrupt', 'mute', 'slow', 'remove-card', 'reset-card', 'unplug', 'power-fail']) {
      expect(text).toMatch(new RegExp(`vscr_faults_fired_total\\{[^}]*kind="${kind}"[^}]*\\} [1-9]`));
    }
  });
});
