// Readers the RM must not publish, and one that fails after publication: each with its diagnosis.
// Real stack where it can produce the fault; the scripted device only for faults no real driver has.

import { afterEach, describe, expect, it } from 'vitest';
import { NTSTATUS } from '../../../kernel/ntstatus.js';
import { createReaderBus } from '../../../smcard/index.js';
import { createVirtualCard } from '../../../smcard/card/index.js';
import { createResourceManager } from '../../../service/rm/index.js';
import type { ResourceManagerApi } from '../../../service/rm/contract.js';
import { SCARD, SCARD_ATTR, SCARD_STATE as S } from '../../../service/contract/pcsclite.js';
import { isBlocked, waitForRm, withTimeout } from '../../support/rm-stack.js';
import { ScriptedBus, ScriptedDevice } from '../../support/scripted-reader.js';

let rm: ResourceManagerApi | null = null;
afterEach(async () => {
  await rm?.shutdown();
  rm = null;
});

describe('readers that are not published', () => {
  it('forum-broken with a card already in: IS_PRESENT then answers DEVICE_BUSY', async () => {
    const bus = createReaderBus();
    const r = bus.addReader({ variant: 'forum-broken' });
    r.insertCard(await createVirtualCard({}));
    rm = createResourceManager({ bus });
    await withTimeout(rm.ready(), 5000, 'ready');
    expect(rm.readerStates()).toEqual([]);
    expect(rm.diagnose()[0].failure).toBe('IOCTL_SMARTCARD_IS_PRESENT returned STATUS_DEVICE_BUSY (0x80000011): reader considered failed');
  });

  it('forum-broken added at runtime is diagnosed, not published', async () => {
    const bus = createReaderBus();
    rm = createResourceManager({ bus });
    await rm.ready();
    const api = rm;
    bus.addReader({ variant: 'forum-broken' });
    await waitForRm(api, () => api.diagnose().some((d) => d.failure !== null), 'diagnosis');
    expect(api.readerStates()).toEqual([]);
    expect(api.diagnose()[0]).toMatchObject({ name: 'vscr Virtual Reader 00 00', published: false });
  });

  it('a driver that never pends tracking (library clears NotificationIrp) is failed, not spun forever', async () => {
    const bus = createReaderBus();
    bus.addReader({ variant: 'forum-broken', smclib: { clearNotificationOnNonPending: true } });
    rm = createResourceManager({ bus });
    await withTimeout(rm.ready(), 10000, 'ready');
    expect(rm.readerStates()).toEqual([]);
    expect(rm.diagnose()[0].failure).toContain('never pends card tracking');
  });

  it('an interface someone else holds open: CreateFile fails with SHARING_VIOLATION', async () => {
    const bus = createReaderBus();
    const r = bus.addReader();
    const squatter = r.device.open();
    rm = createResourceManager({ bus });
    await rm.ready();
    expect(rm.readerStates()).toEqual([]);
    expect(rm.diagnose()[0].failure).toBe('CreateFile on the reader interface failed: STATUS_SHARING_VIOLATION (0xC0000043): reader dropped');
    squatter.close();
  });

  it('a failing attribute query drops the reader with the IOCTL, attribute and status', async () => {
    const bus = new ScriptedBus();
    const dev = new ScriptedDevice('\\\\?\\SCRIPTED#0');
    dev.attrs.set(SCARD_ATTR.VENDOR_IFD_TYPE, NTSTATUS.STATUS_NOT_SUPPORTED);
    bus.add(dev);
    rm = createResourceManager({ bus });
    await rm.ready();
    expect(rm.diagnose()).toEqual([
      {
        symbolicLink: '\\\\?\\SCRIPTED#0',
        name: null,
        published: false,
        failure: 'IOCTL_SMARTCARD_GET_ATTRIBUTE(SCARD_ATTR_VENDOR_IFD_TYPE) returned STATUS_NOT_SUPPORTED (0xC00000BB): reader dropped',
      },
    ]);
    expect(dev.closed).toBe(1);
  });
});

describe('a reader failing after publication', () => {
  it('strips NULs from the name, then keeps the reader listed as SCARD_UNKNOWN on DEVICE_BUSY, as pcscd does', async () => {
    const bus = new ScriptedBus();
    const dev = new ScriptedDevice('\\\\?\\SCRIPTED#1');
    dev.tracking = (wantPresent) => (wantPresent ? 'pend' : NTSTATUS.STATUS_DEVICE_BUSY);
    const reader = bus.add(dev);
    rm = createResourceManager({ bus });
    await rm.ready();
    const api = rm;
    const name = 'Bix VIRTUAL_CARD_READER 00 00';
    expect(api.readerStates().map((r) => r.name)).toEqual([name]);
    const s = api.openSession('t');
    const { hContext } = s.establishContext(0);
    const d = await s.connect(hContext, name, 3, 0);
    expect(d.rv).toBe(SCARD.S_SUCCESS);
    const w = s.getStatusChange(hContext, 0xffffffff, [{ szReader: name, dwCurrentState: S.EMPTY }]);
    expect(await isBlocked(w)).toBe(true);
    dev.completeTracking(NTSTATUS.STATUS_SUCCESS); // insertion; the following IS_ABSENT is refused
    const r = await withTimeout(w, 5000, 'reader failure');
    expect(r.rv).toBe(SCARD.S_SUCCESS);
    // docs/pcsclite-protocol.md §5.2: readerState 0x0001, no ATR, still published in its slot.
    await waitForRm(api, () => api.readerStates()[0]?.readerState === 0x0001, 'SCARD_UNKNOWN');
    expect(api.readerStates()).toHaveLength(1);
    expect(api.readerStates()[0]).toMatchObject({ name, readerState: 0x0001, protocol: 0 });
    expect(api.readerStates()[0].atr.length).toBe(0);
    expect(api.diagnose()[0]).toMatchObject({ published: true, failure: 'IOCTL_SMARTCARD_IS_ABSENT returned STATUS_DEVICE_BUSY (0x80000011): reader considered failed' });
    const after = await s.getStatusChange(hContext, 0, [{ szReader: name, dwCurrentState: S.PRESENT }]);
    expect(after.rv).toBe(SCARD.S_SUCCESS);
    expect(after.readerStates[0].dwEventState & 0xffff).toBe(S.UNAVAILABLE | S.CHANGED);
    expect((await s.connect(hContext, name, 2, 3)).rv).toBe(SCARD.E_READER_UNAVAILABLE);
    expect((await s.control(d.hCard, 0x42000000 + 3400, new Uint8Array(0), 256)).rv).toBe(SCARD.E_READER_UNAVAILABLE);
    expect(await s.disconnect(d.hCard, 0)).toBe(SCARD.S_SUCCESS);
    expect(dev.closed).toBe(1);
    // PnP removal finally unpublishes it.
    bus.removeReader(reader);
    await waitForRm(api, () => api.readerStates().length === 0, 'unpublished after removal');
  });
});
