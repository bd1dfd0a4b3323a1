// The IRP life cycle (kernel/irp.ts): exactly-once completion, cancel-routine exchange, file-object tracking.

import { describe, expect, it } from 'vitest';
import { FileObject, Irp, IrpLifecycleError } from '../../kernel/irp.js';
import { NTSTATUS } from '../../kernel/ntstatus.js';

describe('Irp', () => {
  it('uses one system buffer of max(in, out) bytes holding the input', () => {
    const irp = new Irp({ ioControlCode: 0x310008, input: Uint8Array.of(1, 2, 3, 4), outputBufferLength: 36 });
    expect(irp.systemBuffer.length).toBe(36);
    expect([...irp.systemBuffer.subarray(0, 4)]).toEqual([1, 2, 3, 4]);
    expect(irp.inputDword()).toBe(0x04030201);
    expect(new Irp({ input: new Uint8Array(10), outputBufferLength: 2 }).systemBuffer.length).toBe(10);
    expect(new Irp({ input: Uint8Array.of(1, 2, 3) }).inputDword()).toBeUndefined();
  });

  it('completes exactly once; a second completion is a host bug', async () => {
    const irp = new Irp({ outputBufferLength: 8 });
    irp.systemBuffer.set([9, 8, 7]);
    irp.complete(NTSTATUS.STATUS_SUCCESS, 3);
    expect(() => irp.complete(NTSTATUS.STATUS_CANCELLED, 0)).toThrow(IrpLifecycleError);
    expect(await irp.completion).toEqual({ Status: 0, Information: 3 });
    expect([...irp.output()]).toEqual([9, 8, 7]);
  });

  it('refuses STATUS_PENDING as a final status and completion with a cancel routine still set', () => {
    const irp = new Irp();
    expect(() => irp.complete(NTSTATUS.STATUS_PENDING, 0)).toThrow(IrpLifecycleError);
    irp.setCancelRoutine(() => undefined);
    expect(() => irp.complete(NTSTATUS.STATUS_SUCCESS, 0)).toThrow(/cancel routine still set/);
    expect(irp.completed).toBe(false);
  });

  it('IoCancelIrp claims the cancel routine by exchange and calls it once', () => {
    const irp = new Irp();
    let calls = 0;
    irp.setCancelRoutine((i) => {
      calls++;
      i.complete(NTSTATUS.STATUS_CANCELLED, 0);
    });
    expect(irp.cancel()).toBe(true);
    expect(irp.cancel()).toBe(false);
    expect(calls).toBe(1);
    expect(irp.ioStatus.Status).toBe(NTSTATUS.STATUS_CANCELLED);
  });

  it('without a cancel routine, cancel only sets the Cancel flag', () => {
    const irp = new Irp();
    expect(irp.cancel()).toBe(false);
    expect(irp.cancelled).toBe(true);
    expect(irp.completed).toBe(false);
  });

  it('arbitrates completion against a cancel routine that has been claimed but not yet run', async () => {
    // The cancel routine defers its completion (as if it were waiting for the cancel spin lock); the completer
    // then finds the routine already taken and must leave the IRP alone.
    const irp = new Irp();
    let deferred: (() => void) | null = null;
    irp.setCancelRoutine((i) => {
      deferred = () => i.complete(NTSTATUS.STATUS_CANCELLED, 0);
    });
    expect(irp.cancel()).toBe(true);
    const completerOwnsIt = irp.setCancelRoutine(null) !== null;
    expect(completerOwnsIt).toBe(false);
    deferred!();
    expect((await irp.completion).Status).toBe(NTSTATUS.STATUS_CANCELLED);
  });

  it('completer wins when it clears the routine first; a later cancel does nothing', () => {
    const irp = new Irp();
    let cancelRan = false;
    irp.setCancelRoutine(() => {
      cancelRan = true;
    });
    expect(irp.setCancelRoutine(null)).not.toBeNull();
    irp.complete(NTSTATUS.STATUS_SUCCESS, 0);
    expect(irp.cancel()).toBe(false);
    expect(cancelRan).toBe(false);
  });

  it('the owning file object lists outstanding IRPs until they complete', () => {
    const file = new FileObject();
    const a = new Irp({ fileObject: file });
    const b = new Irp({ fileObject: file });
    expect(file.pendingIrps()).toEqual([a, b]);
    a.complete(NTSTATUS.STATUS_SUCCESS, 0);
    expect(file.pendingIrps()).toEqual([b]);
  });

  it('runs completion routines synchronously, most recent first, and markPending after completion throws', () => {
    const irp = new Irp();
    const order: string[] = [];
    irp.onCompletion(() => order.push('first'));
    irp.onCompletion(() => order.push('second'));
    irp.markPending();
    expect(irp.pendingReturned).toBe(true);
    irp.complete(NTSTATUS.STATUS_SUCCESS, 0);
    expect(order).toEqual(['second', 'first']);
    expect(() => irp.markPending()).toThrow(IrpLifecycleError);
  });

  it('rejects a negative output length', () => {
    expect(() => new Irp({ outputBufferLength: -1 })).toThrow(RangeError);
  });
});
