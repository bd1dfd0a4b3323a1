// Pooled METHOD_BUFFERED system buffers (kernel/system-buffer-pool.ts, Irp pooledBuffer): reuse never shows
// an earlier IRP's bytes, a released buffer cannot be touched through its IRP, and the reader device's 64 KiB
// TRANSMIT replies come back exact while the buffers are recycled.

import { describe, expect, it } from 'vitest';
import { Irp, IrpLifecycleError } from '../../../kernel/irp.js';
import { NTSTATUS } from '../../../kernel/ntstatus.js';
import { acquireSystemBuffer, pooledSystemBuffers, POOLED_MIN_BYTES, releaseSystemBuffer } from '../../../kernel/system-buffer-pool.js';
import { WinScard } from '../../../smcard/constants/scard.js';
import { FixtureCard } from '../../support/fixture-card.js';
import { hex, power, setProtocol, transmit } from '../../support/io.js';
import { newReader } from '../../support/reader.js';

/** A size no other test in this file uses, so pool counts are this test's own. */
let nextSize = 70_001;
const freshSize = (): number => nextSize++;

function dirty(irp: Irp, fill: number): void {
  irp.systemBuffer.fill(fill);
  irp.complete(NTSTATUS.STATUS_SUCCESS, 0);
  irp.releaseSystemBuffer();
}

describe('system buffer pool', () => {
  it('hands a released buffer out again only zero-filled, with the new input in place', () => {
    const size = freshSize();
    const a = new Irp({ input: Uint8Array.of(1, 2, 3), outputBufferLength: size, pooledBuffer: true });
    const bufferA = a.systemBuffer;
    dirty(a, 0xaa);
    expect(pooledSystemBuffers()).toBeGreaterThanOrEqual(1);
    const b = new Irp({ input: Uint8Array.of(7), outputBufferLength: size, pooledBuffer: true });
    expect(b.systemBuffer).toBe(bufferA);
    expect(b.systemBuffer[0]).toBe(7);
    expect(b.systemBuffer.subarray(1).every((x) => x === 0)).toBe(true);
    dirty(b, 0x55);
    const c = new Irp({ outputBufferLength: size, pooledBuffer: true });
    expect(c.systemBuffer).toBe(bufferA);
    expect(c.systemBuffer.every((x) => x === 0)).toBe(true);
    // A second IRP of the same size while the first is outstanding gets its own buffer.
    const d = new Irp({ outputBufferLength: size, pooledBuffer: true });
    // Identity compared as a boolean: a failing toBe (as `.not` is here) deep-compares the 70 KB buffers byte by
    // byte for its message, most of a second of CPU.
    expect(d.systemBuffer === bufferA).toBe(false);
    expect(d.systemBuffer.length).toBe(size);
  });

  it('a released system buffer cannot be reached through its IRP, and release needs completion', () => {
    const irp = new Irp({ outputBufferLength: freshSize(), pooledBuffer: true });
    expect(() => irp.releaseSystemBuffer()).toThrow(IrpLifecycleError);
    irp.systemBuffer.set([1, 2, 3]);
    irp.complete(NTSTATUS.STATUS_SUCCESS, 3);
    expect([...irp.output()]).toEqual([1, 2, 3]);
    irp.releaseSystemBuffer();
    irp.releaseSystemBuffer(); // idempotent
    expect(() => irp.systemBuffer).toThrow(/after it was released/);
    expect(() => irp.output()).toThrow(IrpLifecycleError);
  });

  it('IRPs built without pooledBuffer keep their buffer after release (a no-op)', () => {
    const irp = new Irp({ outputBufferLength: freshSize() });
    irp.systemBuffer[0] = 9;
    irp.complete(NTSTATUS.STATUS_SUCCESS, 1);
    irp.releaseSystemBuffer();
    expect([...irp.output()]).toEqual([9]);
  });

  it('small buffers are never pooled, and a buffer is kept at most once', () => {
    const small = acquireSystemBuffer(POOLED_MIN_BYTES - 1);
    const before = pooledSystemBuffers();
    releaseSystemBuffer(small);
    expect(pooledSystemBuffers()).toEqual(before);
    const size = freshSize();
    const big = acquireSystemBuffer(size);
    releaseSystemBuffer(big);
    releaseSystemBuffer(big);
    const first = acquireSystemBuffer(size);
    const second = acquireSystemBuffer(size);
    expect(first).toBe(big);
    expect(second === big).toBe(false);
    expect(second.length).toBe(size);
  });

  it('the reader device recycles its TRANSMIT buffers and every reply is exact', async () => {
    const card = new FixtureCard();
    const { h, reader } = newReader();
    reader.insertCard(card);
    expect((await power(h, WinScard.COLD_RESET)).status).toBe(NTSTATUS.STATUS_SUCCESS);
    expect((await setProtocol(h, WinScard.PROTOCOL_T1)).status).toBe(NTSTATUS.STATUS_SUCCESS);
    const outLen = 8 + 65548; // what the resource manager asks for
    for (const le of [4, 200, 3, 0x10]) {
      const r = await transmit(h, WinScard.PROTOCOL_T1, [0x00, 0xca, 0x00, 0x00, le], outLen);
      expect(r.status).toBe(NTSTATUS.STATUS_SUCCESS);
      expect(r.information).toBe(8 + le + 2);
      expect(r.output.length).toBe(8 + le + 2);
      const data = [...r.output.subarray(8, 8 + le)];
      expect(data).toEqual(Array.from({ length: le }, (_v, i) => i & 0xff));
      expect(hex(r.output.subarray(8 + le))).toBe('9000');
    }
    expect(pooledSystemBuffers()).toBeGreaterThanOrEqual(1);
  });
});
