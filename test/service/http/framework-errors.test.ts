// Requests rejected before routing (bad percent-encoding, an over-long parameter) or by node's HTTP parser
// (oversize headers, a bad or conflicting Content-Length) still get the documented error shape with a code.

import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, startTestService, within, type TestService } from '../integration/harness.js';

let svc: TestService;
beforeAll(async () => {
  svc = await startTestService({ readers: 1, defaultCard: null });
});
afterAll(async () => {
  await svc?.close();
});

/** Sends raw bytes and returns status + parsed JSON body of the reply (the server closes after it). */
async function raw(request: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const url = new URL(svc.url);
  const socket = connect(Number(url.port), url.hostname);
  let text = '';
  socket.on('data', (c: Buffer) => { text += c.toString('latin1'); });
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.write(request);
  await within(closed, 10_000, 'the server closing the connection');
  const [head, body] = text.split('\r\n\r\n');
  return { status: Number(/^HTTP\/1\.1 (\d+)/.exec(head)?.[1]), body: JSON.parse(body) as Record<string, unknown> };
}

describe('errors raised before routing carry a documented code', () => {
  it('a path that is not valid percent-encoding: 400 VSCR_ERR_BAD_URL', async () => {
    const r = await json(svc.url, '/v1/readers/%/trace');
    expect(r).toMatchObject({ status: 400, body: { code: 'VSCR_ERR_BAD_URL', error: 'Bad Request' } });
  });

  it('a reader name over 256 characters: 414 VSCR_ERR_URI_TOO_LONG, without echoing it', async () => {
    const name = 'x'.repeat(300);
    const r = await json(svc.url, `/v1/readers/${name}`);
    expect(r).toMatchObject({ status: 414, body: { code: 'VSCR_ERR_URI_TOO_LONG' } });
    expect(JSON.stringify(r.body)).not.toContain(name);
  });

  it('a 100 KB URL: 431 VSCR_ERR_HEADERS_TOO_LARGE', async () => {
    const r = await raw(`GET /v1/readers?${'a'.repeat(100_000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
    expect(r).toMatchObject({ status: 431, body: { code: 'VSCR_ERR_HEADERS_TOO_LARGE', error: 'Request Header Fields Too Large' } });
  });

  it('a bad Content-Length, or Content-Length with chunked: 400 VSCR_ERR_BAD_HTTP naming the parser code', async () => {
    const bad = await raw('POST /v1/devices/0/sha256 HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: 12x\r\n\r\nabc');
    expect(bad).toMatchObject({ status: 400, body: { code: 'VSCR_ERR_BAD_HTTP' } });
    expect(bad.body.message).toMatch(/^malformed HTTP request \(HPE_[A-Z_]+\)/);
    const both = await raw('POST /v1/devices/0/sha256 HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n');
    expect(both).toMatchObject({ status: 400, body: { code: 'VSCR_ERR_BAD_HTTP' } });
    expect((await json(svc.url, '/health')).status).toBe(200);
  });
});

describe('documented answers for edge inputs', () => {
  it('an empty JSON body on a device data route is VSCR_ERR_BAD_JSON; a __proto__ key is refused as such', async () => {
    const empty = await json(svc.url, '/v1/devices/0/sha256', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '' });
    expect(empty).toMatchObject({ status: 400, body: { code: 'VSCR_ERR_BAD_JSON' } });
    const proto = await json(svc.url, '/v1/devices/0/sha256', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"data":"61","__proto__":{"x":1}}' });
    expect(proto).toMatchObject({ status: 400, body: { code: 'VSCR_ERR_VALIDATION' } });
    expect(String(proto.body.message)).toMatch(/__proto__/);
    expect(String(proto.body.message)).not.toMatch(/not valid JSON/);
  });

  it('device ids are canonical decimals: 00 and 000 are not device 0', async () => {
    expect((await json(svc.url, '/v1/devices/0/status')).status).toBe(200);
    for (const id of ['00', '000', '01']) expect((await json(svc.url, `/v1/devices/${id}/status`)).body).toMatchObject({ code: 'VSCR_ERR_UNKNOWN_DEVICE' });
  });

  it('a 900 KB profile name is refused by the schema, not echoed', async () => {
    const name = 'p'.repeat(900_000);
    const r = await json(svc.url, '/v1/readers/0/card', { method: 'POST', json: { profile: name } });
    expect(r).toMatchObject({ status: 400, body: { code: 'VSCR_ERR_VALIDATION' } });
    expect(JSON.stringify(r.body).length).toBeLessThan(1000);
  });

  it('POST /v1/readers stops at 16 readers with VSCR_ERR_TOO_MANY_READERS', async () => {
    const list = async (): Promise<number> => ((await json<{ readers: unknown[] }>(svc.url, '/v1/readers')).body.readers.length);
    while ((await list()) < 16) expect((await json(svc.url, '/v1/readers', { method: 'POST', json: {} })).status).toBe(201);
    expect(await json(svc.url, '/v1/readers', { method: 'POST', json: {} })).toMatchObject({ status: 409, body: { code: 'VSCR_ERR_TOO_MANY_READERS' } });
    expect(await list()).toBe(16);
  });
});
