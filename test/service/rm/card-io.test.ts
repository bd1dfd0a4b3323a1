// Connect / Transmit (crypto applet PSO:HASH on the real crypto device) / Control / GetAttrib / SetAttrib /
// Status / Reconnect / dispositions against the real reader stack.

import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CM_IOCTL_GET_FEATURE_REQUEST, SCARD, SCARD_ATTR, SCARD_DISPOSITION, SCARD_PROTOCOL, SCARD_SHARE, pcscliteCtlCode } from '../../../service/contract/pcsclite.js';
import type { RmSession } from '../../../service/rm/contract.js';
import { SELECT_CRYPTO, bytes, hex, makeStack, psoHash, waitForRm, type Stack } from '../../support/rm-stack.js';

const R0 = 'vscr Virtual Reader 00 00';
const R1 = 'vscr Virtual Reader 01 00';

let stack: Stack;
let s: RmSession;
let hContext: number;

beforeAll(async () => {
  stack = await makeStack({ readers: [{}, {}], cardsIn: [0], crypto: true });
  s = stack.rm.openSession('card-io');
  hContext = s.establishContext(SCARD_SHARE.SHARED).hContext;
});
afterAll(async () => {
  await s.close();
  await stack.close();
});

async function connected(share: number = SCARD_SHARE.SHARED, prefs: number = SCARD_PROTOCOL.ANY): Promise<number> {
  const c = await s.connect(hContext, R0, share, prefs);
  expect(c.rv).toBe(SCARD.S_SUCCESS);
  return c.hCard;
}

describe('SCardConnect / SCardTransmit', () => {
  it('prefers T=1, selects the crypto applet by AID and hashes with PSO:HASH like node:crypto', async () => {
    const c = await s.connect(hContext, R0, SCARD_SHARE.SHARED, SCARD_PROTOCOL.ANY);
    expect(c).toMatchObject({ rv: SCARD.S_SUCCESS, dwActiveProtocol: SCARD_PROTOCOL.T1 });
    expect(c.hCard).toBeGreaterThan(0);
    expect(c.hCard).toBeLessThan(0x80000000);
    expect(stack.rm.readerStates()[0]).toMatchObject({ protocol: SCARD_PROTOCOL.T1, sharing: 1, readerState: 0x34 });

    const sel = await s.transmit(c.hCard, SCARD_PROTOCOL.T1, SELECT_CRYPTO, 258);
    expect(sel.rv).toBe(SCARD.S_SUCCESS);
    expect(sel.ioRecvPciProtocol).toBe(SCARD_PROTOCOL.T1);
    expect(hex(sel.pbRecvBuffer.slice(-2))).toBe('9000');

    const data = new TextEncoder().encode('The quick brown fox jumps over the lazy dog');
    const h = await s.transmit(c.hCard, SCARD_PROTOCOL.T1, psoHash(data), 258);
    expect(h.rv).toBe(SCARD.S_SUCCESS);
    expect(hex(h.pbRecvBuffer)).toBe(createHash('sha256').update(data).digest('hex') + '9000');

    // The caller's buffer is too small for digest + SW: E_INSUFFICIENT_BUFFER, nothing returned.
    const small = await s.transmit(c.hCard, SCARD_PROTOCOL.T1, psoHash(data), 10);
    expect(small).toMatchObject({ rv: SCARD.E_INSUFFICIENT_BUFFER, pbRecvBuffer: new Uint8Array(0) });
    expect((await s.transmit(c.hCard, SCARD_PROTOCOL.T1, SELECT_CRYPTO, 1)).rv).toBe(SCARD.E_INSUFFICIENT_BUFFER);
    // pioSendPci must match the negotiated protocol.
    expect((await s.transmit(c.hCard, SCARD_PROTOCOL.T0, SELECT_CRYPTO, 258)).rv).toBe(SCARD.E_PROTO_MISMATCH);
    // Another connect must accept the protocol already negotiated.
    expect((await s.connect(hContext, R0, SCARD_SHARE.SHARED, SCARD_PROTOCOL.T0)).rv).toBe(SCARD.E_PROTO_MISMATCH);
    expect(await s.disconnect(c.hCard, SCARD_DISPOSITION.LEAVE_CARD)).toBe(SCARD.S_SUCCESS);
    expect(stack.rm.readerStates()[0].sharing).toBe(0);
  });

  it('checks parameters in pcscd order', async () => {
    expect((await s.connect(hContext, R0, SCARD_SHARE.SHARED, 0)).rv).toBe(SCARD.E_PROTO_MISMATCH);
    expect((await s.connect(hContext, R0, 9, SCARD_PROTOCOL.ANY)).rv).toBe(SCARD.E_INVALID_VALUE);
    expect((await s.connect(hContext, 'nope', SCARD_SHARE.SHARED, SCARD_PROTOCOL.ANY)).rv).toBe(SCARD.E_UNKNOWN_READER);
    expect((await s.connect(0x777, R0, SCARD_SHARE.SHARED, SCARD_PROTOCOL.ANY)).rv).toBe(SCARD.E_INVALID_HANDLE);
    // The context comes after the card (pcscd's MSGAddHandle runs after SCardConnect): empty reader first.
    expect((await s.connect(0x777, R1, SCARD_SHARE.SHARED, SCARD_PROTOCOL.ANY)).rv).toBe(SCARD.E_NO_SMARTCARD);
    expect((await s.connect(0x777, R1, SCARD_SHARE.DIRECT, 0)).rv).toBe(SCARD.E_INVALID_HANDLE);
    expect((await s.connect(hContext, R1, SCARD_SHARE.SHARED, SCARD_PROTOCOL.ANY)).rv).toBe(SCARD.E_NO_SMARTCARD);
    expect(s.establishContext(7)).toEqual({ rv: SCARD.E_INVALID_VALUE, hContext: 0 });
    const h = await connected();
    expect(await s.disconnect(h, 9)).toBe(SCARD.E_INVALID_VALUE);
    expect(await s.endTransaction(h, SCARD_DISPOSITION.LEAVE_CARD)).toBe(SCARD.E_NOT_TRANSACTED);
    expect((await s.reconnect(h, SCARD_SHARE.SHARED, SCARD_PROTOCOL.ANY, 3)).rv).toBe(SCARD.E_INVALID_VALUE);
    expect(await s.disconnect(h, SCARD_DISPOSITION.LEAVE_CARD)).toBe(SCARD.S_SUCCESS);
    expect(await s.disconnect(h, SCARD_DISPOSITION.LEAVE_CARD)).toBe(SCARD.E_INVALID_HANDLE);
  });

  it('DIRECT works on an empty reader with protocol 0; Control GET_FEATURE_REQUEST answers', async () => {
    const d = await s.connect(hContext, R1, SCARD_SHARE.DIRECT, 0);
    expect(d).toMatchObject({ rv: SCARD.S_SUCCESS, dwActiveProtocol: 0 });
    expect((await s.transmit(d.hCard, SCARD_PROTOCOL.T1, SELECT_CRYPTO, 258)).rv).toBe(SCARD.E_NO_SMARTCARD);
    const f = await s.control(d.hCard, CM_IOCTL_GET_FEATURE_REQUEST, new Uint8Array(0), 256);
    expect(f.rv).toBe(SCARD.S_SUCCESS);
    expect(f.pbRecvBuffer.length % 6).toBe(0);
    // The same call in Windows form reaches the same IOCTL (0x00313520).
    expect((await s.control(d.hCard, 0x00313520, new Uint8Array(0), 256)).rv).toBe(SCARD.S_SUCCESS);
    const trace = stack.readers[1].trace().filter((t) => t.ioControlCode === 0x00313520);
    expect(trace.length).toBe(2);
    // A vendor code the reader does not know.
    expect((await s.control(d.hCard, pcscliteCtlCode(3500), new Uint8Array(0), 256)).rv).toBe(SCARD.E_UNSUPPORTED_FEATURE);
    // The monitor's tracking IOCTLs are not for clients.
    expect((await s.control(d.hCard, 0x0031002c, new Uint8Array(0), 0)).rv).toBe(SCARD.E_UNSUPPORTED_FEATURE);
    // pcsc-lite's SCARD_CTL_CODE(1) (the IFD-exchange code) is Windows' IOCTL_SMARTCARD_POWER: it must not reach
    // the driver as a power request (it answered INVALID_PARAMETER for the bad minor code, and POWER_DOWN would
    // have cut the card's power under the RM). pcscd can only say E_UNSUPPORTED_FEATURE here.
    const before = stack.readers[1].trace().length;
    expect((await s.control(d.hCard, pcscliteCtlCode(1), Uint8Array.of(0x00, 0xa4), 256)).rv).toBe(SCARD.E_UNSUPPORTED_FEATURE);
    for (const fn of [1, 2, 3, 5, 12, 14]) expect((await s.control(d.hCard, pcscliteCtlCode(fn), Uint8Array.of(0, 0, 0, 0), 256)).rv).toBe(SCARD.E_UNSUPPORTED_FEATURE);
    expect(stack.readers[1].trace().length).toBe(before); // none of them reached the driver
    expect(await s.disconnect(d.hCard, SCARD_DISPOSITION.LEAVE_CARD)).toBe(SCARD.S_SUCCESS);
  });

  it('GetAttrib from the driver and from the RM; SetAttrib', async () => {
    const h = await connected();
    const atr = await s.getAttrib(h, SCARD_ATTR.ATR_STRING, 264);
    expect(atr.rv).toBe(SCARD.S_SUCCESS);
    expect(hex(atr.pbAttr)).toBe(hex(stack.readers[0].card!.atr));
    const vendor = await s.getAttrib(h, SCARD_ATTR.VENDOR_NAME, 264);
    expect(vendor.rv).toBe(SCARD.S_SUCCESS);
    expect(Buffer.from(vendor.pbAttr).toString('latin1').replace(/\0+$/, '')).toBe('vscr');
    expect(hex((await s.getAttrib(h, SCARD_ATTR.DEVICE_FRIENDLY_NAME_A, 264)).pbAttr)).toBe(hex(Buffer.from(`${R0}\0`)));
    expect(Buffer.from((await s.getAttrib(h, SCARD_ATTR.DEVICE_FRIENDLY_NAME_W, 264)).pbAttr).toString('utf16le')).toBe(`${R0}\0`);
    expect((await s.getAttrib(h, SCARD_ATTR.ATR_STRING, 2)).rv).toBe(SCARD.E_INSUFFICIENT_BUFFER);
    expect((await s.getAttrib(h, 0x00050140, 264)).rv).toBe(SCARD.E_UNSUPPORTED_FEATURE);
    expect(await s.setAttrib(h, SCARD_ATTR.DEVICE_IN_USE, bytes('01000000'))).toBe(SCARD.S_SUCCESS);
    expect(await s.setAttrib(h, SCARD_ATTR.VENDOR_NAME, bytes('41'))).toBe(SCARD.E_UNSUPPORTED_FEATURE);
    expect(await s.disconnect(h, SCARD_DISPOSITION.LEAVE_CARD)).toBe(SCARD.S_SUCCESS);
  });

  it('Status returns (counter << 16) | readerState, the protocol and the ATR', async () => {
    const h = await connected();
    const st = await s.status(h);
    const snap = stack.rm.readerStates()[0];
    expect(st).toMatchObject({ rv: SCARD.S_SUCCESS, szReaderName: R0, dwProtocol: SCARD_PROTOCOL.T1 });
    expect(st.dwState).toBe(((snap.eventCounter << 16) | 0x34) >>> 0);
    expect(hex(st.pbAtr)).toBe(hex(snap.atr));
    expect(await s.disconnect(h, SCARD_DISPOSITION.LEAVE_CARD)).toBe(SCARD.S_SUCCESS);
  });

  it('RESET by one handle gives W_RESET_CARD to the other until it reconnects; UNPOWER shows 0x0004', async () => {
    const a = await connected();
    const b = await connected();
    expect(await s.disconnect(a, SCARD_DISPOSITION.RESET_CARD)).toBe(SCARD.S_SUCCESS);
    expect(stack.readers[0].trace().some((t) => t.ioControlName === 'IOCTL_SMARTCARD_POWER' && t.minorCode === 2)).toBe(true);
    expect((await s.transmit(b, SCARD_PROTOCOL.T1, SELECT_CRYPTO, 258)).rv).toBe(SCARD.W_RESET_CARD);
    expect((await s.status(b)).rv).toBe(SCARD.W_RESET_CARD);
    expect(await s.beginTransaction(b)).toBe(SCARD.W_RESET_CARD);
    const re = await s.reconnect(b, SCARD_SHARE.SHARED, SCARD_PROTOCOL.ANY, SCARD_DISPOSITION.LEAVE_CARD);
    expect(re).toEqual({ rv: SCARD.S_SUCCESS, dwActiveProtocol: SCARD_PROTOCOL.T1 });
    expect(hex((await s.transmit(b, SCARD_PROTOCOL.T1, SELECT_CRYPTO, 258)).pbRecvBuffer.slice(-2))).toBe('9000');

    const c = await connected();
    expect(await s.disconnect(c, SCARD_DISPOSITION.UNPOWER_CARD)).toBe(SCARD.S_SUCCESS);
    expect(stack.rm.readerStates()[0]).toMatchObject({ readerState: 0x04, protocol: 0 });
    expect((await s.transmit(b, SCARD_PROTOCOL.T1, SELECT_CRYPTO, 258)).rv).toBe(SCARD.W_RESET_CARD);
    // Reconnect(LEAVE) powers the card back up and renegotiates.
    expect(await s.reconnect(b, SCARD_SHARE.SHARED, SCARD_PROTOCOL.T1, SCARD_DISPOSITION.LEAVE_CARD)).toEqual({ rv: SCARD.S_SUCCESS, dwActiveProtocol: SCARD_PROTOCOL.T1 });
    expect(stack.rm.readerStates()[0]).toMatchObject({ readerState: 0x34, protocol: SCARD_PROTOCOL.T1 });
    // Reconnect(RESET) flags the others but not the caller.
    const d = await connected();
    expect((await s.reconnect(b, SCARD_SHARE.SHARED, SCARD_PROTOCOL.ANY, SCARD_DISPOSITION.RESET_CARD)).rv).toBe(SCARD.S_SUCCESS);
    expect((await s.transmit(b, SCARD_PROTOCOL.T1, SELECT_CRYPTO, 258)).rv).toBe(SCARD.S_SUCCESS);
    expect((await s.transmit(d, SCARD_PROTOCOL.T1, SELECT_CRYPTO, 258)).rv).toBe(SCARD.W_RESET_CARD);
    expect(await s.disconnect(b, SCARD_DISPOSITION.LEAVE_CARD)).toBe(SCARD.S_SUCCESS);
    expect(await s.disconnect(d, SCARD_DISPOSITION.LEAVE_CARD)).toBe(SCARD.S_SUCCESS);
  });

  it('a removed card gives W_REMOVED_CARD until Reconnect; Reconnect on the new card works', async () => {
    const h = await connected();
    const card = stack.readers[0].removeCard()!;
    await waitForRm(stack.rm, () => stack.rm.readerStates()[0].readerState === 0x02, 'removal seen');
    expect((await s.transmit(h, SCARD_PROTOCOL.T1, SELECT_CRYPTO, 258)).rv).toBe(SCARD.W_REMOVED_CARD);
    expect((await s.status(h)).rv).toBe(SCARD.W_REMOVED_CARD);
    expect((await s.reconnect(h, SCARD_SHARE.SHARED, SCARD_PROTOCOL.ANY, SCARD_DISPOSITION.LEAVE_CARD)).rv).toBe(SCARD.E_NO_SMARTCARD);
    stack.readers[0].insertCard(card);
    await waitForRm(stack.rm, () => stack.rm.readerStates()[0].readerState === 0x34, 'insertion seen');
    expect((await s.reconnect(h, SCARD_SHARE.SHARED, SCARD_PROTOCOL.ANY, SCARD_DISPOSITION.LEAVE_CARD)).rv).toBe(SCARD.S_SUCCESS);
    expect((await s.transmit(h, SCARD_PROTOCOL.T1, SELECT_CRYPTO, 258)).rv).toBe(SCARD.S_SUCCESS);
    expect(await s.disconnect(h, SCARD_DISPOSITION.LEAVE_CARD)).toBe(SCARD.S_SUCCESS);
  });

  it('hands out unique non-zero 31-bit handles', async () => {
    const ctxs = Array.from({ length: 50 }, () => s.establishContext(0).hContext);
    const all = new Set(ctxs);
    expect(all.size).toBe(50);
    expect([...all].every((h) => h > 0 && h < 0x80000000)).toBe(true);
    for (const c of ctxs) expect(await s.releaseContext(c)).toBe(SCARD.S_SUCCESS);
  });
});

describe('protocol selection', () => {
  it('negotiates T=0 when only T=0 is preferred, and refuses T=0 for a T=1-only card', async () => {
    const st = await makeStack({ readers: [{}, {}] });
    try {
      st.readers[0].insertCard(await st.newCard('default'));
      st.readers[1].insertCard(await st.newCard('t1-only'));
      await waitForRm(st.rm, () => st.rm.readerStates().every((r) => r.readerState === 0x34), 'both cards powered');
      const x = st.rm.openSession('proto');
      const ctx = x.establishContext(0).hContext;
      const t0 = await x.connect(ctx, R0, SCARD_SHARE.SHARED, SCARD_PROTOCOL.T0);
      expect(t0).toMatchObject({ rv: SCARD.S_SUCCESS, dwActiveProtocol: SCARD_PROTOCOL.T0 });
      const sel = await x.transmit(t0.hCard, SCARD_PROTOCOL.T0, SELECT_CRYPTO, 258);
      expect(sel.rv).toBe(SCARD.S_SUCCESS);
      expect(sel.ioRecvPciProtocol).toBe(SCARD_PROTOCOL.T0);
      expect(['90', '61']).toContain(hex(sel.pbRecvBuffer.slice(-2)).slice(0, 2));
      expect((await x.connect(ctx, R1, SCARD_SHARE.SHARED, SCARD_PROTOCOL.T0)).rv).toBe(SCARD.E_PROTO_MISMATCH);
      expect(await x.connect(ctx, R1, SCARD_SHARE.SHARED, SCARD_PROTOCOL.ANY)).toMatchObject({ rv: SCARD.S_SUCCESS, dwActiveProtocol: SCARD_PROTOCOL.T1 });
      await x.close();
      expect(st.rm.readerStates().map((r) => r.sharing)).toEqual([0, 0]);
    } finally {
      await st.close();
    }
  });
});
