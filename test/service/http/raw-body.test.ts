// Raw bodies go into user buffers allocated without zeroing (the body overwrites every byte), through the contract.

import { Readable } from 'node:stream';
import type { FastifyRequest } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { readRawInto } from '../../../service/http/raw-body.js';
import { createRig, type TestRig } from '../../crypto-device/driver/harness.js';

function request(headers: Record<string, string>): FastifyRequest {
  return { headers } as unknown as FastifyRequest;
}

describe('readRawInto', () => {
  let rig: TestRig;
  beforeAll(async () => {
    rig = await createRig();
  });
  afterAll(async () => {
    await rig?.dispose();
  });

  it('asks the contract for unzeroed buffers, declared and chunked, and keeps the bytes exact', async () => {
    const spy = vi.spyOn(rig.ctrl, 'allocUserBuffer');
    try {
      const body = Buffer.from('the quick brown fox');
      const declared = await readRawInto(request({ 'content-length': String(body.length) }), Readable.from([body.subarray(0, 7), body.subarray(7)]), rig.ctrl, 1024);
      expect(Buffer.from(declared.buffer!.read(0, declared.length))).toEqual(body);
      declared.release();
      const chunked = await readRawInto(request({}), Readable.from([body]), rig.ctrl, 1024);
      expect(chunked.length).toBe(body.length);
      expect(Buffer.from(chunked.buffer!.read(0, chunked.length))).toEqual(body);
      chunked.release();
      expect(spy.mock.calls.length).toBeGreaterThanOrEqual(2);
      for (const call of spy.mock.calls) expect(call[1]).toEqual({ zero: false });
    } finally {
      spy.mockRestore();
    }
  });
});
