// Raw malformed frames against the real service's socket: only the offending connection closes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Command,
  decodeReaderStates,
  getsetStruct,
  rxHeader,
  statusStruct,
  transmitStruct,
} from '../../service/pcsclite/index.js';
import { SCARD } from '../../service/contract/pcsclite.js';
import { WireClient } from '../service/pcsclite/wire-client.js';
import { type InteropService, rest, startInteropService } from './support.js';

const R0 = 'vscr Virtual Reader 00 00';

describe('malformed pcsc-lite frames against the service', () => {
  let svc: InteropService;
  let bystander: WireClient;
  let bystanderCtx: number;
  let bystanderCard: number;

  beforeAll(async () => {
    svc = await startInteropService();
    bystander = await WireClient.open(svc.socketPath);
    bystanderCtx = await bystander.context();
    const c = await bystander.connect(bystanderCtx, R0, 2);
    expect(c.rv).toBe(0);
    bystanderCard = c.hCard;
  });

  afterAll(async () => {
    bystander?.destroy();
    await svc?.close();
  });

  const cases: [string, (c: WireClient, own: number) => void][] = [
    ['wrong size (ESTABLISH with 16 bytes)', (c) => c.send(Buffer.concat([rxHeader.encode({ size: 16, command: Command.SCARD_ESTABLISH_CONTEXT }), Buffer.alloc(16)]))],
    ['unused command 0x03 (LIST_READERS)', (c) => c.send(rxHeader.encode({ size: 0, command: 0x03 }))],
    ['unused command 0x0C (GET_STATUS_CHANGE)', (c) => c.send(rxHeader.encode({ size: 0, command: 0x0c }))],
    ['unknown command 0x15', (c) => c.send(rxHeader.encode({ size: 0, command: 0x15 }))],
    ['TRANSMIT with cbSendLength 65549', (c, own) => c.request(Command.SCARD_TRANSMIT, transmitStruct.encode({ hCard: own, ioSendPciProtocol: 2, ioSendPciLength: 16, cbSendLength: 65549, ioRecvPciProtocol: 3, ioRecvPciLength: 16, pcbRecvLength: 65548, rv: 0 }))],
    ['GET_ATTRIB with cbAttrLen 265', (c, own) => c.request(Command.SCARD_GET_ATTRIB, getsetStruct.encode({ hCard: own, dwAttrId: 0x00090303, pbAttr: new Uint8Array(0), cbAttrLen: 265, rv: 0 }))],
    ['STATUS with another connection’s hCard', (c) => c.request(Command.SCARD_STATUS, statusStruct.encode({ hCard: bystanderCard, rv: 0 }))],
    ['half a TRANSMIT, then close', (c, own) => {
      c.request(Command.SCARD_TRANSMIT, transmitStruct.encode({ hCard: own, ioSendPciProtocol: 2, ioSendPciLength: 16, cbSendLength: 5, ioRecvPciProtocol: 3, ioRecvPciLength: 16, pcbRecvLength: 65548, rv: 0 }), new Uint8Array([0, 0x84]));
      c.end();
    }],
  ];

  it.each(cases)('%s: closes that connection only, releasing its context', async (_label, misbehave) => {
    const bad = await WireClient.open(svc.socketPath);
    const h = await bad.context();
    const { rv, hCard } = await bad.connect(h, R0, 2);
    expect(rv).toBe(0);
    const sharing = decodeReaderStates(await bad.readerStates())[0].readerSharing;
    expect(sharing).toBe(2); // bystander + bad
    misbehave(bad, hCard);
    await bad.waitClosed();

    // The bystander keeps working on the same card, and sees the bad connection's handle gone.
    const tr = await bystander.transmit(bystanderCard, new Uint8Array([0x00, 0x84, 0x00, 0x00, 0x08]));
    expect(tr.rv).toBe(0);
    expect(tr.data.subarray(-2)).toEqual(new Uint8Array([0x90, 0x00]));
    const deadline = Date.now() + 5000;
    let after = -99;
    while (Date.now() < deadline) {
      after = decodeReaderStates(await bystander.readerStates())[0].readerSharing;
      if (after === 1) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(after).toBe(1);
    expect((await rest(svc.url, 'GET', '/health')).status).toBe(200);
  });

  it('a CANCEL connection needs no VERSION and an unknown context gets E_INVALID_HANDLE', async () => {
    const c = await WireClient.open(svc.socketPath);
    c.request(Command.SCARD_CANCEL, new Uint8Array([0xef, 0xbe, 0xad, 0x0e, 0, 0, 0, 0]));
    const reply = await c.read(8);
    expect(new DataView(reply.buffer).getUint32(4, true)).toBe(SCARD.E_INVALID_HANDLE);
    c.destroy();
  });
});
