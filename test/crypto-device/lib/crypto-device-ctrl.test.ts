// The control library: Uint8Array and UserBuffer forms, status names, size rules, typed errors.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NtStatusError } from '../../../kernel/ntstatus.js';
import { aesOutputSize } from '../../../crypto-device/lib/contract.js';
import { DEFAULT_MAX_REQUEST_BYTES } from '../../../crypto-device/lib/crypto-device-ctrl.js';
import { formatStatusLines, describeStatus, errorName, stateName } from '../../../crypto-device/lib/status-names.js';
import { createRig, expectNtStatus, expectSameBytes, hex, pattern, refDecrypt, refEncrypt, refSha256, waitUntil, withTimeout, type TestRig } from '../driver/harness.js';

describe('status names and sizes', () => {
  it('names states and errors as the original console prints them', () => {
    expect([0, 1, 2, 3].map(stateName)).toEqual(['ReadyState', 'ResetState', 'AesCbcState', 'Sha2State']);
    expect([0, 1, 2, 3, 4].map(errorName)).toEqual(['no error', 'DMA error', 'reset error', 'write I/O error', 'internal error']);
    expect(formatStatusLines(describeStatus(0, 0))).toEqual(['State: ReadyState (0)', 'Error: no error (0)']);
    expect(stateName(9)).toBe('UnknownState');
  });

  it('aesOutputSize rounds up to the AES block', () => {
    expect([0, 1, 15, 16, 17, 36, 100].map(aesOutputSize)).toEqual([0, 16, 16, 16, 32, 48, 112]);
  });
});

describe('CryptoDeviceCtrl', () => {
  let rig: TestRig;
  beforeAll(async () => {
    rig = await createRig({ guestMemoryBytes: 64 * 1024 * 1024 });
  });
  afterAll(async () => {
    await rig?.dispose();
  });

  it('bounds maxRequestBytes by half of guest memory (256 MiB default otherwise)', () => {
    expect(DEFAULT_MAX_REQUEST_BYTES).toBe(256 * 1024 * 1024);
    expect(rig.ctrl.maxRequestBytes).toBe(32 * 1024 * 1024);
  });

  it('Uint8Array forms match node:crypto for sizes around block and page boundaries', async () => {
    for (const size of [1, 15, 16, 17, 4095, 4096, 4097, 12345, 65536 + 7, 300_001]) {
      const data = pattern(size, size & 0xff);
      expect(hex(await rig.ctrl.sha256(data))).toBe(refSha256(data));
      const enc = await rig.ctrl.aesCbcEncrypt(data);
      expectSameBytes(enc, refEncrypt(data), `encrypt ${size}`);
      const dec = await rig.ctrl.aesCbcDecrypt(enc);
      expectSameBytes(dec, refDecrypt(enc), `decrypt ${size}`);
      expectSameBytes(dec.subarray(0, size), data, `round trip ${size}`);
    }
  });

  it('known answers: "123" and 16 zero bytes with key "secret"', async () => {
    expect(hex(await rig.ctrl.aesCbcEncrypt(new TextEncoder().encode('123')))).toBe('13933c64935f9001534e01365105aa56');
    expect(hex(await rig.ctrl.aesCbcEncrypt(new Uint8Array(16)))).toBe('32d6e396f76ea81ee5f9bb9643c259db');
  });

  it('UserBuffer forms work in place and out of place and leave guard bytes alone', async () => {
    const data = pattern(70_000, 9);
    const buf = rig.ctrl.allocUserBuffer(aesOutputSize(data.length), { guardPages: 1, guardByte: 0x77, offsetInPage: 123 });
    buf.write(0, data);
    expect(hex(await rig.ctrl.sha256(buf))).toBe(refSha256(buf.read()));
    const input = rig.ctrl.allocUserBuffer(data.length);
    input.write(0, data);
    await rig.ctrl.aesCbcEncryptBuffer(input, buf);
    expectSameBytes(buf.read(), refEncrypt(data), 'out of place');
    await rig.ctrl.aesCbcDecryptBuffer(buf, buf);
    expectSameBytes(buf.read(0, data.length), data, 'in place');
    expect(buf.guardsIntact()).toBe(true);
    buf.release();
    input.release();
  });

  it('refuses what would wedge the device: empty AES input, short output, foreign or released buffers', async () => {
    await expectNtStatus(rig.ctrl.aesCbcEncrypt(new Uint8Array(0)), 'STATUS_INVALID_PARAMETER');
    const a = rig.ctrl.allocUserBuffer(32);
    const b = rig.ctrl.allocUserBuffer(16);
    await expectNtStatus(rig.ctrl.aesCbcDecryptBuffer(a, b), 'STATUS_BUFFER_TOO_SMALL');
    const foreign = { address: a.address, length: 32, write: () => undefined, read: () => new Uint8Array(32), release: () => undefined };
    await expectNtStatus(rig.ctrl.sha256(foreign), 'STATUS_INVALID_PARAMETER');
    b.release();
    await expectNtStatus(rig.ctrl.aesCbcEncryptBuffer(a, b), 'STATUS_INVALID_PARAMETER');
    await expectNtStatus(rig.ctrl.sha256(new Uint8Array(rig.ctrl.maxRequestBytes + 1)), 'STATUS_INVALID_PARAMETER');
    expect(() => rig.ctrl.allocUserBuffer(0)).toThrow(NtStatusError);
    expect((await rig.ctrl.getStatus()).errorCode).toBe(0);
    a.release();
  });

  it('throws NtStatusError carrying the NTSTATUS and its name', async () => {
    const err = await rig.ctrl.sha256At(0n, 1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NtStatusError);
    expect((err as NtStatusError).status).toBe(0xc00000e8);
    expect((err as NtStatusError).code).toBe('STATUS_INVALID_USER_BUFFER');
    expect((err as NtStatusError).message).toContain('STATUS_INVALID_USER_BUFFER');
  });

  it('leaks no guest pages across requests, failures included', async () => {
    const free = rig.device.memory.freePageCount;
    for (let i = 0; i < 5; i++) {
      await rig.ctrl.sha256(pattern(100_000, i));
      await rig.ctrl.aesCbcDecrypt(await rig.ctrl.aesCbcEncrypt(pattern(50_000, i)));
      await expectNtStatus(rig.ctrl.sha256At(100n, 10), 'STATUS_ACCESS_VIOLATION');
    }
    expect(rig.device.memory.freePageCount).toBe(free);
    // What stays mapped is the handle's one reusable SHA-256 OUT page; closing the handle gives it back.
    expect(rig.space.mappedPageCount).toBe(1);
    await rig.ctrl.close();
    expect(rig.space.mappedPageCount).toBe(0);
    await rig.dispose(); // the later tests get a fresh handle
    rig = await createRig({ guestMemoryBytes: 64 * 1024 * 1024 });
  });

  it('a reset cancels the running request while the queued ones wait for it and then succeed', async () => {
    const big = rig.ctrl.allocUserBuffer(24 * 1024 * 1024);
    const running = rig.ctrl.sha256(big);
    const queued = [rig.ctrl.sha256(new TextEncoder().encode('123')), rig.ctrl.aesCbcEncrypt(new Uint8Array(16))];
    await waitUntil(() => rig.driver.logic.busy, 5_000, 'request in flight');
    await withTimeout(rig.ctrl.reset(), 5_000, 'reset');
    await expectNtStatus(withTimeout(running, 5_000, 'cancelled request'), 'STATUS_CANCELLED');
    const [digest, cipher] = await withTimeout(Promise.all(queued), 5_000, 'queued requests');
    expect(hex(digest)).toBe(refSha256(new TextEncoder().encode('123')));
    expect(hex(cipher)).toBe('32d6e396f76ea81ee5f9bb9643c259db');
    big.release();
  });

  it('getStatus reports names', async () => {
    expect(await rig.ctrl.getStatus()).toEqual({ state: 0, stateName: 'ReadyState', errorCode: 0, errorName: 'no error' });
  });
});
