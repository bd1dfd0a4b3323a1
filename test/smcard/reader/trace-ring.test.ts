// The trace ring at a small capacity: oldest-first order across wrap-around, entries rewritten in place never
// disturb an IRP that is still pending, copies are independent, and optional fields appear only once known.

import { describe, expect, it } from 'vitest';
import { NTSTATUS } from '../../../kernel/ntstatus.js';
import { IOCTL_SMARTCARD } from '../../../smcard/constants/ioctl.js';
import { FixtureCard } from '../../support/fixture-card.js';
import { getState, ioctl, settle, watch } from '../../support/io.js';
import { newReader } from '../../support/reader.js';

describe('trace ring', () => {
  it('keeps the newest entries oldest first across wrap-around, and copies are detached', async () => {
    const { h, reader } = newReader('correct', { traceCapacity: 3 });
    for (let i = 0; i < 7; i++) await getState(h);
    const t = reader.trace();
    expect(t.map((e) => e.seq)).toEqual([5, 6, 7]);
    expect(t.every((e) => e.ioControlName === 'IOCTL_SMARTCARD_GET_STATE' && e.status === NTSTATUS.STATUS_SUCCESS && e.information === 4)).toBe(true);
    expect(reader.traceText().split('\n').filter(Boolean)).toHaveLength(6);
    t[0].callbacks?.push('changed by the caller');
    t[0].seq = 999;
    expect(reader.trace()[0]).toMatchObject({ seq: 5, callbacks: [] });
  });

  it('a still-pending IRP keeps its own entry while newer IRPs wrap past it, and it completes into it', async () => {
    const { h, reader } = newReader('correct', { traceCapacity: 2 });
    const tracking = watch(h.deviceIoControl(IOCTL_SMARTCARD.IS_PRESENT, new Uint8Array(0), 0));
    await ioctl(h, IOCTL_SMARTCARD.GET_STATE, new Uint8Array(0), 4);
    expect(tracking.done).toBe(false);
    const pendingEntry = reader.trace()[0];
    expect(pendingEntry).toMatchObject({ seq: 1, pending: true, ioControlName: 'IOCTL_SMARTCARD_IS_PRESENT', pendedAtSomePoint: true });
    // Optional fields are absent, not undefined-valued, while pending.
    expect(Object.keys(pendingEntry)).not.toContain('status');
    expect(Object.keys(pendingEntry)).not.toContain('durationMs');
    for (let i = 0; i < 5; i++) await getState(h);
    expect(reader.trace().map((e) => e.seq)).toEqual([6, 7]);
    reader.insertCard(new FixtureCard());
    await settle();
    expect(tracking.done).toBe(true);
    expect(tracking.result?.status).toBe(NTSTATUS.STATUS_SUCCESS);
    // The completion did not land in a recycled slot: the two newest entries are untouched GET_STATEs.
    expect(reader.trace().map((e) => [e.seq, e.ioControlName, e.status])).toEqual([
      [6, 'IOCTL_SMARTCARD_GET_STATE', 0],
      [7, 'IOCTL_SMARTCARD_GET_STATE', 0],
    ]);
    await getState(h);
    expect(reader.trace().map((e) => e.seq)).toEqual([7, 8]);
    expect(reader.trace()[1]).toMatchObject({ pending: false, status: 0, information: 4, callbacks: [] });
    expect(Object.keys(reader.trace()[1])).not.toContain('minorCode');
  });
});
