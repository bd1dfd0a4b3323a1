// The RM's reader mutex and IOCTL queue: FIFO order, release on failure, and the uncontended fast path.

import { describe, expect, it } from 'vitest';
import { NTSTATUS, NtStatusError } from '../../../kernel/ntstatus.js';
import type { IoResult, PendingIo, ReaderFileHandle } from '../../../smcard/reader/contract.js';
import { AsyncMutex } from '../../../service/rm/async-util.js';
import { SCARD_PROTOCOL } from '../../../service/contract/pcsclite.js';
import { winProtocolOf } from '../../../service/rm/protocol-map.js';
import { IOCTL_SMARTCARD, ReaderIo } from '../../../service/rm/reader-ioctl.js';
import { withTimeout } from '../../support/rm-stack.js';

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('AsyncMutex', () => {
  it('starts an uncontended operation at once and queues the rest in arrival order', async () => {
    const m = new AsyncMutex();
    const order: string[] = [];
    const first = deferred<void>();
    const a = m.run(async () => {
      order.push('a start');
      await first.promise;
      order.push('a end');
      return 'a';
    });
    expect(order).toEqual(['a start']);
    const b = m.run(async () => {
      order.push('b');
      return 'b';
    });
    const c = m.run(async () => {
      order.push('c');
      return 'c';
    });
    await new Promise<void>((r) => setImmediate(r));
    expect(order).toEqual(['a start']);
    first.resolve();
    expect(await withTimeout(Promise.all([a, b, c]), 2000, 'the queued operations')).toEqual(['a', 'b', 'c']);
    expect(order).toEqual(['a start', 'a end', 'b', 'c']);
  });

  it('passes the mutex on when an operation rejects or throws synchronously', async () => {
    const m = new AsyncMutex();
    const rejected = m.run(async () => {
      throw new Error('async failure');
    });
    const thrown = m.run((): Promise<number> => {
      throw new Error('sync failure');
    });
    const after = m.run(async () => 42);
    await expect(rejected).rejects.toThrow('async failure');
    await expect(thrown).rejects.toThrow('sync failure');
    expect(await withTimeout(after, 2000, 'the operation after two failures')).toBe(42);
    // Free again: the next caller starts synchronously.
    let started = false;
    const next = m.run(async () => {
      started = true;
    });
    expect(started).toBe(true);
    await next;
  });
});

/** A reader handle whose IOCTLs complete only when the test says so. */
class ManualHandle implements ReaderFileHandle {
  readonly issued: { code: number; complete: (r: IoResult) => void; fail: (e: unknown) => void }[] = [];
  throwOnIssue: unknown = null;
  closed = false;

  deviceIoControl(code: number): PendingIo {
    if (this.throwOnIssue !== null) throw this.throwOnIssue;
    let complete!: (r: IoResult) => void;
    let fail!: (e: unknown) => void;
    const result = new Promise<IoResult>((res, rej) => {
      complete = res;
      fail = rej;
    });
    this.issued.push({ code, complete, fail });
    return { result, pended: Promise.resolve(true), cancel: () => undefined };
  }

  close(): void {
    this.closed = true;
  }
}

const ok = (n: number): IoResult => ({ status: NTSTATUS.STATUS_SUCCESS, information: n, output: new Uint8Array(n) });

describe('ReaderIo queue', () => {
  it('issues an IOCTL on an idle reader at once and holds the next until the previous completes', async () => {
    const handle = new ManualHandle();
    const io = new ReaderIo(handle);
    const first = io.call(IOCTL_SMARTCARD.GET_STATE, new Uint8Array(0), 4);
    expect(handle.issued.map((i) => i.code)).toEqual([IOCTL_SMARTCARD.GET_STATE]);
    const second = io.call(IOCTL_SMARTCARD.POWER, new Uint8Array(4), 33);
    await new Promise<void>((r) => setImmediate(r));
    expect(handle.issued).toHaveLength(1);
    handle.issued[0].complete(ok(4));
    expect((await first).information).toBe(4);
    await withTimeout(
      (async () => {
        while (handle.issued.length < 2) await new Promise<void>((r) => setImmediate(r));
      })(),
      2000,
      'the second IOCTL to be issued',
    );
    expect(handle.issued[1].code).toBe(IOCTL_SMARTCARD.POWER);
    handle.issued[1].complete(ok(10));
    expect((await second).information).toBe(10);
    // Idle again: the next one goes out synchronously.
    void io.call(IOCTL_SMARTCARD.GET_STATE, new Uint8Array(0), 4);
    expect(handle.issued).toHaveLength(3);
    handle.issued[2].complete(ok(4));
  });

  it('turns a throw, a rejection and a closed handle into NTSTATUS results, and keeps serving', async () => {
    const handle = new ManualHandle();
    const io = new ReaderIo(handle);
    handle.throwOnIssue = new NtStatusError(NTSTATUS.STATUS_DEVICE_REMOVED, 'gone');
    expect(await io.call(IOCTL_SMARTCARD.GET_STATE, new Uint8Array(0), 4)).toEqual({ status: NTSTATUS.STATUS_DEVICE_REMOVED, information: 0, output: new Uint8Array(0) });
    handle.throwOnIssue = new Error('host bug');
    expect((await io.call(IOCTL_SMARTCARD.GET_STATE, new Uint8Array(0), 4)).status).toBe(NTSTATUS.STATUS_UNSUCCESSFUL);
    handle.throwOnIssue = null;
    const rejected = io.call(IOCTL_SMARTCARD.GET_STATE, new Uint8Array(0), 4);
    handle.issued[0].fail(new NtStatusError(NTSTATUS.STATUS_CANCELLED, 'cancelled'));
    expect((await rejected).status).toBe(NTSTATUS.STATUS_CANCELLED);
    const fine = io.call(IOCTL_SMARTCARD.GET_STATE, new Uint8Array(0), 4);
    expect(handle.issued).toHaveLength(2);
    handle.issued[1].complete(ok(4));
    expect((await fine).status).toBe(NTSTATUS.STATUS_SUCCESS);
    io.close();
    expect(handle.closed).toBe(true);
    expect((await io.call(IOCTL_SMARTCARD.GET_STATE, new Uint8Array(0), 4)).status).toBe(NTSTATUS.STATUS_NO_SUCH_DEVICE);
    expect(handle.issued).toHaveLength(2);
  });

  it('writes the TRANSMIT header little-endian in front of the APDU and sizes the output from the caller', async () => {
    let seen: { input: Uint8Array; outputLength: number } | null = null;
    const handle: ReaderFileHandle = {
      deviceIoControl(_code, input, outputLength) {
        seen = { input: input.slice(), outputLength };
        return { result: Promise.resolve(ok(0)), pended: Promise.resolve(false), cancel: () => undefined };
      },
      close: () => undefined,
    };
    await new ReaderIo(handle).transmit(winProtocolOf(SCARD_PROTOCOL.RAW), Uint8Array.of(0x00, 0x84, 0x00, 0x00, 0x08), 258);
    expect(seen).toEqual({ input: Uint8Array.of(0x00, 0x00, 0x01, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x84, 0x00, 0x00, 0x08), outputLength: 266 });
  });
});
