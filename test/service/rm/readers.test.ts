// Reader arrival, naming, the forum-broken driver, runtime add/remove and the PnP notification reader,
// against the real reader bus and virtual cards.

import { afterEach, describe, expect, it } from 'vitest';
import { PNP_NOTIFICATION_READER, SCARD, SCARD_PROTOCOL, SCARD_SHARE, SCARD_STATE as S } from '../../../service/contract/pcsclite.js';
import { isBlocked, makeStack, waitForRm, withTimeout, type Stack } from '../../support/rm-stack.js';

let stack: Stack | null = null;
afterEach(async () => {
  await stack?.close();
  stack = null;
});

describe('reader arrival', () => {
  it('names readers like pcsc-lite and publishes them in slot order with their state', async () => {
    stack = await makeStack({ readers: [{}, {}, { vendorName: 'ACME', ifdType: 'Token', unitNo: 5 }], cardsIn: [0] });
    const states = stack.rm.readerStates();
    expect(states.map((r) => r.name)).toEqual(['vscr Virtual Reader 00 00', 'vscr Virtual Reader 01 00', 'ACME Token 05 00']);
    expect(states.map((r) => r.slot)).toEqual([0, 1, 2]);
    expect(states[0].readerState).toBe(0x34);
    expect(Buffer.from(states[0].atr)).toEqual(Buffer.from(stack.readers[0].card!.atr));
    expect(states[0].eventCounter).toBe(0);
    expect(states[1].readerState).toBe(0x02);
    expect(states[1].atr.length).toBe(0);
    expect(states.every((r) => r.sharing === 0 && r.protocol === 0)).toBe(true);
    const s = stack.rm.openSession('t');
    const { hContext } = s.establishContext(2);
    expect(s.listReaders(hContext)).toEqual({ rv: SCARD.S_SUCCESS, readers: states.map((r) => r.name) });
    expect(s.listReaderGroups(hContext)).toEqual({ rv: SCARD.S_SUCCESS, groups: ['SCard$DefaultReaders'] });
  });

  it('does not publish the forum-broken reader and explains why', async () => {
    stack = await makeStack({ readers: [{}, { variant: 'forum-broken' }] });
    expect(stack.rm.readerStates().map((r) => r.name)).toEqual(['vscr Virtual Reader 00 00']);
    const diag = stack.rm.diagnose();
    const broken = diag.find((d) => d.name === 'vscr Virtual Reader 01 00');
    expect(broken).toMatchObject({ published: false });
    expect(broken?.failure).toContain('IOCTL_SMARTCARD_IS_ABSENT returned STATUS_DEVICE_BUSY (0x80000011)');
    expect(diag.find((d) => d.name === 'vscr Virtual Reader 00 00')).toMatchObject({ published: true, failure: null });
    // The trace holds the forum thread's sequence (docs/background.md): IS_PRESENT answered at once, then IS_ABSENT refused as busy.
    const names = stack.readers[1].trace().map((t) => `${t.ioControlName}:${t.statusName ?? ''}`);
    expect(names).toContain('IOCTL_SMARTCARD_IS_ABSENT:STATUS_DEVICE_BUSY');
    const s = stack.rm.openSession('t');
    const { hContext } = s.establishContext(0);
    expect((await s.connect(hContext, 'vscr Virtual Reader 01 00', SCARD_SHARE.DIRECT, 0)).rv).toBe(SCARD.E_UNKNOWN_READER);
  });

  it('the correct reader keeps exactly one tracking IRP pending (no polling)', async () => {
    stack = await makeStack({ readers: [{}] });
    const pending = stack.readers[0].trace().filter((t) => t.pending);
    expect(pending.map((t) => t.ioControlName)).toEqual(['IOCTL_SMARTCARD_IS_PRESENT']);
  });

  it('sees readers added and removed at runtime, through the PnP notification reader', async () => {
    stack = await makeStack({ readers: [{}], cardsIn: [0] });
    const { rm, bus } = stack;
    const s = rm.openSession('t');
    const { hContext } = s.establishContext(0);
    const pnp = [{ szReader: PNP_NOTIFICATION_READER, dwCurrentState: S.UNAWARE }];

    const added = s.getStatusChange(hContext, 0xffffffff, pnp);
    expect(await isBlocked(added)).toBe(true);
    const r1 = bus.addReader();
    const a = await withTimeout(added, 5000, 'PnP change on arrival');
    expect(a.rv).toBe(SCARD.S_SUCCESS);
    expect(a.readerStates[0].dwEventState).toBe(S.CHANGED);
    expect(s.listReaders(hContext).readers).toEqual(['vscr Virtual Reader 00 00', 'vscr Virtual Reader 01 00']);

    // A handle on the reader that goes away gets READER_UNAVAILABLE; a waiter on it sees UNKNOWN.
    r1.insertCard(await stack.newCard());
    await waitForRm(rm, () => rm.readerStates()[1]?.readerState === 0x34, 'card in reader 1');
    const c = await s.connect(hContext, 'vscr Virtual Reader 01 00', SCARD_SHARE.SHARED, SCARD_PROTOCOL.ANY);
    expect(c.rv).toBe(SCARD.S_SUCCESS);
    const onReader = s.getStatusChange(hContext, 0xffffffff, [{ szReader: 'vscr Virtual Reader 01 00', dwCurrentState: S.PRESENT | S.INUSE }]);
    const removed = s.getStatusChange(hContext, 0xffffffff, pnp);
    expect(await isBlocked(removed)).toBe(true);
    bus.removeReader(r1);
    const r = await withTimeout(removed, 5000, 'PnP change on removal');
    expect(r.readerStates[0].dwEventState).toBe(S.CHANGED);
    const o = await withTimeout(onReader, 5000, 'reader gone');
    expect(o.readerStates[0].dwEventState).toBe(S.UNKNOWN | S.UNAVAILABLE | S.CHANGED);
    expect(s.listReaders(hContext).readers).toEqual(['vscr Virtual Reader 00 00']);
    expect((await s.transmit(c.hCard, SCARD_PROTOCOL.T1, Uint8Array.of(0, 0xa4, 0, 0), 258)).rv).toBe(SCARD.E_READER_UNAVAILABLE);
    expect((await s.status(c.hCard)).rv).toBe(SCARD.E_READER_UNAVAILABLE);
    expect(await s.beginTransaction(c.hCard)).toBe(SCARD.E_READER_UNAVAILABLE);
    expect(await s.disconnect(c.hCard, 0)).toBe(SCARD.S_SUCCESS);
    expect(rm.diagnose().map((d) => d.name)).toEqual(['vscr Virtual Reader 00 00']);
  });

  it('GetStatusChange on a reader name that does not exist is SCARD_E_UNKNOWN_READER', async () => {
    stack = await makeStack({ readers: [{}] });
    const s = stack.rm.openSession('t');
    const { hContext } = s.establishContext(0);
    const r = await s.getStatusChange(hContext, 0, [{ szReader: 'no such reader', dwCurrentState: 0 }]);
    expect(r.rv).toBe(SCARD.E_UNKNOWN_READER);
  });
});
