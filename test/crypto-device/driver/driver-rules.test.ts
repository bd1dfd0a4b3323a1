// The driver's request rules: one request at a time, sticky error, State-not-ready, reset timeout and
// cancellation, unknown controls and short buffers (docs/crypto-device.md "The driver (WDF) and its I/O controls").

import { afterEach, describe, expect, it, vi } from 'vitest';
import { NTSTATUS, ntStatusName } from '../../../kernel/ntstatus.js';
import {
  IOCTL_CRYPTO_DEVICE_GET_STATUS,
  IOCTL_CRYPTO_DEVICE_RESET,
  IOCTL_CRYPTO_DEVICE_SHA256,
  encodeBufferInOut,
} from '../../../crypto-device/driver/ioctl-codes.js';
import { REG } from '../../../crypto-device/driver/registers.js';
import { COMMAND_TIMEOUT_MS, COMMAND_TIMEOUT_MS_PER_MIB, RESET_TIMEOUT_MS } from '../../../crypto-device/driver/device-logic.js';
import { DEVICE_ERROR, DEVICE_STATE } from '../../../crypto-device/lib/contract.js';
import { deafToReset, stateOverride } from './fault-devices.js';
import { SHA256_123, createRig, deviceStatus, expectNtStatus, hex, refSha256, waitUntil, withTimeout, type TestRig } from './harness.js';

const BIG = 48 * 1024 * 1024;

describe('driver request rules', () => {
  let rig: TestRig | undefined;
  afterEach(async () => {
    await rig?.dispose();
    rig = undefined;
  });

  /** A raw SHA256 request on a user buffer, bypassing the library's FIFO. */
  function rawSha(r: TestRig, address: bigint, size: number, outAddress: bigint) {
    return r.ctrl.ioControl(IOCTL_CRYPTO_DEVICE_SHA256, encodeBufferInOut({ in: { address, size }, out: { address: outAddress, size: 32 } }), 0);
  }

  it('a second request while one runs is STATUS_DEVICE_BUSY; the first still succeeds', async () => {
    // The second request goes out in the same turn as the first, long before any completion can be handled:
    // 8 MiB keeps the first running for milliseconds, where the other tests here need 48 MiB.
    const size = 8 * 1024 * 1024;
    rig = await createRig();
    const big = rig.ctrl.allocUserBuffer(size, { contiguous: true });
    big.fill(0x42);
    const out1 = rig.ctrl.allocUserBuffer(32);
    const small = rig.ctrl.allocUserBuffer(3);
    small.write(0, new TextEncoder().encode('123'));
    const out2 = rig.ctrl.allocUserBuffer(32);
    const first = rawSha(rig, big.address, size, out1.address);
    const second = await rawSha(rig, small.address, 3, out2.address);
    expect(ntStatusName(second.status)).toBe('STATUS_DEVICE_BUSY');
    expect((await withTimeout(first, 20_000, 'first request')).status).toBe(NTSTATUS.STATUS_SUCCESS);
    expect(hex(out1.read())).toBe(refSha256(new Uint8Array(size).fill(0x42)));
    // Afterwards the device takes requests again at once (no spurious busy between State and the interrupt).
    expect((await rawSha(rig, small.address, 3, out2.address)).status).toBe(NTSTATUS.STATUS_SUCCESS);
    expect(hex(out2.read())).toBe(SHA256_123);
  });

  it('a successful request reads State once, before Command: the ready interrupt comes with State already 0', async () => {
    rig = await createRig();
    const input = rig.ctrl.allocUserBuffer(3);
    input.write(0, new TextEncoder().encode('123'));
    const out = rig.ctrl.allocUserBuffer(32);
    const reads = vi.spyOn(rig.device, 'mmioRead');
    try {
      expect((await rawSha(rig, input.address, 3, out.address)).status).toBe(NTSTATUS.STATUS_SUCCESS);
      expect(reads.mock.calls.filter(([offset]) => offset === REG.STATE)).toHaveLength(1);
    } finally {
      reads.mockRestore();
    }
    expect(hex(out.read())).toBe(SHA256_123);
    expect(await deviceStatus(rig.ctrl)).toEqual({ state: DEVICE_STATE.READY, errorCode: DEVICE_ERROR.NONE });
  });

  it('the library queues concurrent callers FIFO so none of them sees STATUS_DEVICE_BUSY', async () => {
    rig = await createRig();
    const r = rig;
    const inputs = Array.from({ length: 12 }, (_, i) => new Uint8Array(1000 * (i + 1)).fill(i));
    const digests = await withTimeout(
      Promise.all(inputs.map((data, i) => (i % 3 === 2 ? r.ctrl.aesCbcEncrypt(data) : r.ctrl.sha256(data)))),
      20_000,
      'queued requests',
    );
    digests.forEach((d, i) => {
      if (i % 3 !== 2) expect(hex(d)).toBe(refSha256(inputs[i]));
      else expect(d.length).toBe(Math.ceil(inputs[i].length / 16) * 16);
    });
    expect(r.ctrl.queuedRequests).toBe(0);
  });

  it('ErrorCode ≠ 0 is sticky: STATUS_DEVICE_DATA_ERROR until a reset', async () => {
    rig = await createRig();
    const input = rig.ctrl.allocUserBuffer(100);
    const out = rig.ctrl.allocUserBuffer(32);
    await expectNtStatus(rig.ctrl.aesCbcEncryptAt(input.address, 100, out.address, 32), 'STATUS_DEVICE_DATA_ERROR');
    for (let i = 0; i < 2; i++) {
      expect(ntStatusName((await rawSha(rig, input.address, 100, out.address)).status)).toBe('STATUS_DEVICE_DATA_ERROR');
      await expectNtStatus(rig.ctrl.sha256(Uint8Array.of(1)), 'STATUS_DEVICE_DATA_ERROR');
    }
    expect(await deviceStatus(rig.ctrl)).toEqual({ state: DEVICE_STATE.READY, errorCode: DEVICE_ERROR.DMA });
    await rig.ctrl.reset();
    expect((await rawSha(rig, input.address, 100, out.address)).status).toBe(NTSTATUS.STATUS_SUCCESS);
    expect(hex(out.read())).toBe(refSha256(new Uint8Array(100)));
  });

  it('State not ready is STATUS_DEVICE_BUSY (device stuck in "resetting")', async () => {
    let stuck = false;
    rig = await createRig({ wrap: (d) => stateOverride(d, DEVICE_STATE.RESETTING, () => stuck) });
    stuck = true;
    await expectNtStatus(rig.ctrl.sha256(Uint8Array.of(1)), 'STATUS_DEVICE_BUSY');
    // A reset request refuses too while the device says it is already resetting.
    await expectNtStatus(rig.ctrl.reset(), 'STATUS_DEVICE_BUSY');
    stuck = false;
    expect(hex(await rig.ctrl.sha256(new TextEncoder().encode('123')))).toBe(SHA256_123);
  });

  it('the driver waits 1000 ms for a reset and 2000 ms (plus 250 ms per MiB) for a command unless told otherwise', async () => {
    rig = await createRig();
    expect([rig.driver.logic.resetTimeoutMs, rig.driver.logic.commandTimeoutMs]).toEqual([1000, 2000]);
    expect([RESET_TIMEOUT_MS, COMMAND_TIMEOUT_MS, COMMAND_TIMEOUT_MS_PER_MIB]).toEqual([1000, 2000, 250]);
  });

  it('a device that never answers the reset: STATUS_DEVICE_BUSY after the reset timeout, the running request is not cancelled', async () => {
    // A short timeout instead of the production 1000 ms (checked above): the statuses are the same.
    rig = await createRig({ guestMemoryBytes: 128 * 1024 * 1024, wrap: deafToReset, resetTimeoutMs: 200 });
    const big = rig.ctrl.allocUserBuffer(BIG, { contiguous: true });
    const out = rig.ctrl.allocUserBuffer(32);
    const running = rawSha(rig, big.address, BIG, out.address);
    const r = rig;
    await waitUntil(() => r.driver.logic.busy, 5_000, 'request in flight');
    const started = Date.now();
    await expectNtStatus(withTimeout(rig.ctrl.reset(), 5_000, 'reset'), 'STATUS_DEVICE_BUSY');
    expect(Date.now() - started).toBeGreaterThanOrEqual(190); // the driver's own timeout, not a test timing
    expect(rig.driver.logic.cancelEvent.isSet).toBe(false);
    expect((await withTimeout(running, 20_000, 'request')).status).toBe(NTSTATUS.STATUS_SUCCESS);
    expect(hex(out.read())).toBe(refSha256(new Uint8Array(BIG)));
  });

  it('a reset cancels the waiting request with STATUS_CANCELLED and the device is ready afterwards', async () => {
    rig = await createRig({ guestMemoryBytes: 128 * 1024 * 1024, chunkBytes: 4096 });
    const big = rig.ctrl.allocUserBuffer(BIG);
    const out = rig.ctrl.allocUserBuffer(32);
    const running = rawSha(rig, big.address, BIG, out.address);
    const r = rig;
    await waitUntil(() => r.driver.logic.busy, 5_000, 'request in flight');
    await withTimeout(rig.ctrl.reset(), 5_000, 'reset');
    expect(ntStatusName((await withTimeout(running, 5_000, 'cancelled request')).status)).toBe('STATUS_CANCELLED');
    expect(out.read()).toEqual(new Uint8Array(32));
    expect(await deviceStatus(rig.ctrl)).toEqual({ state: DEVICE_STATE.READY, errorCode: DEVICE_ERROR.NONE });
    expect(hex(await rig.ctrl.sha256(new TextEncoder().encode('123')))).toBe(SHA256_123);
  });

  it('unknown control → STATUS_INVALID_DEVICE_REQUEST; short output/input → STATUS_BUFFER_TOO_SMALL', async () => {
    rig = await createRig();
    expect(ntStatusName((await rig.ctrl.ioControl(0x220c94, new Uint8Array(32), 0)).status)).toBe('STATUS_INVALID_DEVICE_REQUEST');
    expect(ntStatusName((await rig.ctrl.ioControl(0x12345678, new Uint8Array(0), 0)).status)).toBe('STATUS_INVALID_DEVICE_REQUEST');
    expect(ntStatusName((await rig.ctrl.ioControl(IOCTL_CRYPTO_DEVICE_GET_STATUS, new Uint8Array(0), 1)).status)).toBe('STATUS_BUFFER_TOO_SMALL');
    expect(ntStatusName((await rig.ctrl.ioControl(IOCTL_CRYPTO_DEVICE_SHA256, new Uint8Array(31), 0)).status)).toBe('STATUS_BUFFER_TOO_SMALL');
    const status = await rig.ctrl.ioControl(IOCTL_CRYPTO_DEVICE_GET_STATUS, new Uint8Array(0), 16);
    expect(status).toEqual({ status: 0, information: 2, output: Uint8Array.of(0, 0) });
    const reset = await rig.ctrl.ioControl(IOCTL_CRYPTO_DEVICE_RESET, new Uint8Array(0), 0);
    expect(reset.status).toBe(NTSTATUS.STATUS_SUCCESS);
  });

  it('a zero-size IN is programmed as address 0 / count 0 / size 0 whatever address the caller gave', async () => {
    rig = await createRig();
    const out = rig.ctrl.allocUserBuffer(32);
    const result = await rig.ctrl.ioControl(
      IOCTL_CRYPTO_DEVICE_SHA256,
      encodeBufferInOut({ in: { address: 0xdead_0000n, size: 0 }, out: { address: out.address, size: 32 } }),
      0,
    );
    expect(result.status).toBe(NTSTATUS.STATUS_SUCCESS);
    expect(rig.device.mmioRead(0x04, 4)).toBe(0);
    expect(rig.device.mmioRead(0x08, 4)).toBe(0);
    expect(rig.device.mmioRead(0x0c, 4)).toBe(0);
    // OUT was programmed with one page and its page frame number.
    expect(rig.device.mmioRead(0x14, 4)).toBe(1);
    expect(rig.device.mmioRead(0x18, 4)).toBe(32);
    expect(hex(out.read())).toBe(refSha256(new Uint8Array(0)));
  });

  it('a user buffer released during a request stays locked until the request ends, then every page comes back', async () => {
    rig = await createRig({ guestMemoryBytes: 128 * 1024 * 1024 });
    const free = rig.device.memory.freePageCount;
    const big = rig.ctrl.allocUserBuffer(BIG);
    const out = rig.ctrl.allocUserBuffer(32);
    const running = rawSha(rig, big.address, BIG, out.address);
    const r = rig;
    await waitUntil(() => r.driver.logic.busy, 5_000, 'request in flight');
    big.release();
    expect(rig.device.memory.freePageCount).toBeLessThan(free - BIG / 4096); // still locked by the request
    expect((await withTimeout(running, 20_000, 'request')).status).toBe(NTSTATUS.STATUS_SUCCESS);
    out.release();
    expect(rig.device.memory.freePageCount).toBe(free);
  });
});
