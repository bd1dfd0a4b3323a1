// The raw protocol probes of docs/pcsclite-protocol.md §9.3 replayed against the real service: same answers as pcscd.
import { describe, expect, it } from 'vitest';
import {
  cancelStruct,
  Command,
  controlStruct,
  decodeReaderStates,
  endStruct,
  getsetStruct,
  releaseStruct,
  waitReaderStateChange,
} from '../../service/pcsclite/index.js';
import { SCARD } from '../../service/contract/pcsclite.js';
import { rest } from './support.js';
import { useWireSession } from './wire-session.js';

const R0 = 'vscr Virtual Reader 00 00';
const R1 = 'vscr Virtual Reader 01 00';

describe('raw probes against the service (§9.3)', () => {
  const session = useWireSession();
  const client = session.client.bind(session);

  it('version, scope, release and connect-after-release answers', async () => {
    const c = await client();
    expect(await c.version(4, 5)).toBe(SCARD.E_SERVICE_STOPPED);
    expect(await c.version(4, 3)).toBe(SCARD.E_SERVICE_STOPPED);
    expect((await c.establish(7)).rv).toBe(SCARD.E_INVALID_VALUE);
    const { rv, hContext } = await c.establish(2); // ESTABLISH without a successful VERSION works
    expect(rv).toBe(0);
    expect(hContext).toBeGreaterThan(0);
    expect(hContext).toBeLessThanOrEqual(0x7fffffff);
    c.request(Command.SCARD_RELEASE_CONTEXT, releaseStruct.encode({ hContext: hContext ^ 1, rv: 0 }));
    expect(releaseStruct.decode(await c.read(8)).rv).toBe(SCARD.E_INVALID_VALUE);
    c.request(Command.SCARD_RELEASE_CONTEXT, releaseStruct.encode({ hContext, rv: 0 }));
    expect(releaseStruct.decode(await c.read(8)).rv).toBe(0);
    c.request(Command.SCARD_RELEASE_CONTEXT, releaseStruct.encode({ hContext, rv: 0 }));
    expect(releaseStruct.decode(await c.read(8)).rv).toBe(SCARD.E_INVALID_HANDLE);
    expect((await c.connect(hContext, R0)).rv).toBe(SCARD.E_INVALID_HANDLE);
  });

  it('connect failures, sharing, DIRECT on an empty reader, SET_ATTRIB, CONTROL with payload, END without BEGIN', async () => {
    const a = await client();
    const b = await client();
    const ha = await a.context();
    const hb = await b.context();
    expect(await a.connect(ha, 'No Such Reader 00 00')).toMatchObject({ rv: SCARD.E_UNKNOWN_READER, hCard: 0 });
    expect((await a.connect(ha, R1)).rv).toBe(SCARD.E_NO_SMARTCARD);
    const direct = await a.connect(ha, R1, 3, 0);
    expect(direct).toMatchObject({ rv: 0, dwActiveProtocol: 0 });
    expect((await a.transmit(direct.hCard, new Uint8Array([0, 0x84, 0, 0, 8]))).rv).toBe(SCARD.E_NO_SMARTCARD);

    const ex = await a.connect(ha, R0, 1);
    expect(ex.rv).toBe(0);
    expect((await b.connect(hb, R0, 2)).rv).toBe(SCARD.E_SHARING_VIOLATION);
    expect(decodeReaderStates(await b.readerStates())[0].readerSharing).toBe(-1);

    a.request(Command.SCARD_SET_ATTRIB, getsetStruct.encode({ hCard: ex.hCard, dwAttrId: 0x00090303, pbAttr: new Uint8Array([0x41, 0x42]), cbAttrLen: 2, rv: 0 }));
    const set = getsetStruct.decode(await a.read(280)).rv;
    // pcscd: unknown tag → E_UNSUPPORTED_FEATURE, a driver refusing it → E_NOT_TRANSACTED (observed with vpcd).
    expect([SCARD.E_UNSUPPORTED_FEATURE, SCARD.E_NOT_TRANSACTED]).toContain(set);
    a.request(Command.SCARD_CONTROL, controlStruct.encode({ hCard: ex.hCard, dwControlCode: 0x42000001, cbSendLength: 3, cbRecvLength: 256, dwBytesReturned: 0, rv: 0 }), new Uint8Array([1, 2, 3]));
    const ctl = controlStruct.decode(await a.read(24));
    if (ctl.rv === 0) await a.read(ctl.dwBytesReturned); // stay in sync whatever the reader answers
    else expect(ctl.dwBytesReturned).toBe(0);
    a.request(Command.SCARD_END_TRANSACTION, endStruct.encode({ hCard: ex.hCard, dwDisposition: 0, rv: 0 }));
    expect(endStruct.decode(await a.read(12)).rv).toBe(SCARD.E_NOT_TRANSACTED);
  });

  it('STOP without WAIT gets nothing; WAIT + CANCEL: signal, then STOP gets nothing; an insertion signals', async () => {
    const w = await client();
    const hContext = await w.context();
    w.request(Command.CMD_STOP_WAITING_READER_STATE_CHANGE);
    expect((await w.readerStates()).length).toBe(2944); // the next bytes are the snapshot, not a STOP reply
    expect(w.available).toBe(0);

    w.request(Command.CMD_WAIT_READER_STATE_CHANGE);
    await w.read(2944);
    const x = await client();
    x.request(Command.SCARD_CANCEL, cancelStruct.encode({ hContext, rv: 0 }));
    expect(cancelStruct.decode(await x.read(8)).rv).toBe(0);
    expect(waitReaderStateChange.decode(await w.read(8)).rv).toBe(SCARD.E_CANCELLED);
    w.request(Command.CMD_STOP_WAITING_READER_STATE_CHANGE);
    expect((await w.readerStates()).length).toBe(2944);
    expect(w.available).toBe(0);

    w.request(Command.CMD_WAIT_READER_STATE_CHANGE);
    const before = decodeReaderStates(await w.read(2944))[1];
    expect((await rest(session.service().url, 'POST', '/v1/readers/1/card', {})).status).toBe(201);
    expect(waitReaderStateChange.decode(await w.read(8))).toEqual({ timeOut: 0, rv: 0 });
    const after = decodeReaderStates(await w.readerStates())[1];
    expect(after.readerName).toBe(R1);
    expect(after.eventCounter).toBe((before.eventCounter + 1) & 0xffff);
    expect(after.readerState & 0x04).toBe(0x04); // PRESENT …
    expect(after.cardAtr.length).toBeGreaterThan(0); // … always with its ATR
  });
});
