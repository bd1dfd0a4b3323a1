// Golden bytes from the observed traces (docs/pcsclite-protocol.md §9) and round trips for every pcsc-lite struct.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  beginStruct,
  cancelStruct,
  Command,
  connectStruct,
  controlStruct,
  decodeReaderStates,
  disconnectStruct,
  encodeReaderStates,
  encodeRequest,
  encodeSignal,
  endStruct,
  establishStruct,
  getsetStruct,
  READER_STATES_SIZE,
  reconnectStruct,
  releaseStruct,
  rxHeader,
  statusStruct,
  transmitStruct,
  versionStruct,
  waitReaderStateChange,
  withPayload,
  BODY_SIZE,
  COMMAND_STRUCT,
} from '../../../service/pcsclite/index.js';
import { encodeCString } from '../../../service/pcsclite/struct.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

describe('golden bytes (observed on the wire, §9)', () => {
  it('header + CMD_VERSION 4.4 request and reply', () => {
    expect(hex(rxHeader.encode({ size: 12, command: Command.CMD_VERSION }))).toBe('0c00000011000000');
    expect(hex(versionStruct.encode({ major: 4, minor: 4, rv: 0 }))).toBe('040000000400000000000000');
    expect(versionStruct.decode(unhex('04000000 04000000 1e001080'))).toEqual({ major: 4, minor: 4, rv: 0x8010001e });
  });

  it('ESTABLISH request and reply, RELEASE', () => {
    expect(hex(encodeRequest(Command.SCARD_ESTABLISH_CONTEXT, establishStruct.encode({ dwScope: 2, hContext: 0, rv: 0 })))).toBe(
      '0c00000001000000020000000000000000000000',
    );
    expect(establishStruct.decode(unhex('000000004346856f00000000'))).toEqual({ dwScope: 0, hContext: 0x6f854643, rv: 0 });
    expect(hex(releaseStruct.encode({ hContext: 0x6f854643, rv: 0 }))).toBe('4346856f00000000');
    expect(hex(rxHeader.encode({ size: 8, command: Command.SCARD_RELEASE_CONTEXT }))).toBe('0800000002000000');
  });

  it('CONNECT to "Virtual PCD 00 00" (152 bytes)', () => {
    const name = Buffer.from('Virtual PCD 00 00').toString('hex');
    const raw = unhex(`4346856f ${name}${'00'.repeat(128 - 17)} 02000000 03000000 00000000 00000000 00000000`);
    expect(raw.length).toBe(152);
    const req = { hContext: 0x6f854643, szReader: 'Virtual PCD 00 00', dwShareMode: 2, dwPreferredProtocols: 3, hCard: 0, dwActiveProtocol: 0, rv: 0 };
    expect(connectStruct.decode(raw)).toEqual(req);
    expect(hex(connectStruct.encode(req))).toBe(hex(raw));
    const reply = connectStruct.encode({ ...req, hCard: 0x0a86e899, dwActiveProtocol: 2 }, raw);
    expect(hex(reply.subarray(140))).toBe('99e8860a0200000000000000');
  });

  it('TRANSMIT request, reply and R-APDU', () => {
    const req = unhex('99e8860a 02000000 10000000 05000000 03000000 10000000 0c000100 00000000');
    const decoded = transmitStruct.decode(req);
    expect(decoded).toEqual({
      hCard: 0x0a86e899,
      ioSendPciProtocol: 2,
      ioSendPciLength: 16,
      cbSendLength: 5,
      ioRecvPciProtocol: 3,
      ioRecvPciLength: 16,
      pcbRecvLength: 65548,
      rv: 0,
    });
    expect(hex(encodeRequest(Command.SCARD_TRANSMIT, req, unhex('0084000008')))).toBe(`20000000 09000000 ${hex(req)} 0084000008`.replace(/ /g, ''));
    const reply = transmitStruct.encode({ ...decoded, ioRecvPciProtocol: 1, pcbRecvLength: 10 }, req);
    expect(hex(withPayload(reply, 0, unhex('78dce2eb7bad67249000')))).toBe(
      '99e8860a020000001000000005000000010000001000000' + '00a00000000000000' + '78dce2eb7bad67249000',
    );
    // No data follows an error reply, whatever the buffer holds.
    expect(withPayload(reply, 0x80100008, unhex('9000')).length).toBe(32);
  });

  it('CONTROL GET_FEATURE_REQUEST, RECONNECT with garbage protocol, DISCONNECT, END, STATUS, BEGIN', () => {
    expect(controlStruct.decode(unhex('99e8860a 480d0042 00000000 0c000100 00000000 00000000'))).toEqual({
      hCard: 0x0a86e899,
      dwControlCode: 0x42000d48,
      cbSendLength: 0,
      cbRecvLength: 65548,
      dwBytesReturned: 0,
      rv: 0,
    });
    expect(reconnectStruct.decode(unhex('99e8860a 02000000 03000000 01000000 303240c4 00000000'))).toEqual({
      hCard: 0x0a86e899,
      dwShareMode: 2,
      dwPreferredProtocols: 3,
      dwInitialization: 1,
      dwActiveProtocol: 0xc4403230,
      rv: 0,
    });
    expect(hex(disconnectStruct.encode({ hCard: 0x0a86e899, dwDisposition: 2, rv: 0 }))).toBe('99e8860a0200000000000000');
    expect(hex(endStruct.encode({ hCard: 0x0a86e899, dwDisposition: 0, rv: 0x80100016 }))).toBe('99e8860a0000000016001080');
    expect(hex(statusStruct.encode({ hCard: 0x0a86e899, rv: 0 }))).toBe('99e8860a00000000');
    expect(hex(encodeRequest(Command.SCARD_BEGIN_TRANSACTION, beginStruct.encode({ hCard: 0x0a86e899, rv: 0 })))).toBe(
      '080000000700000099e8860a00000000',
    );
  });

  it('CANCEL and the event / cancel signals', () => {
    expect(hex(encodeRequest(Command.SCARD_CANCEL, cancelStruct.encode({ hContext: 0x1b412df1, rv: 0 })))).toBe(
      '080000000d000000f12d411b00000000',
    );
    expect(hex(encodeSignal(0))).toBe('0000000000000000');
    expect(hex(encodeSignal(0x80100002))).toBe('0000000002001080');
    expect(waitReaderStateChange.decode(unhex('0000000002001080')).rv).toBe(0x80100002);
    expect(hex(encodeRequest(Command.CMD_WAIT_READER_STATE_CHANGE))).toBe('0000000013000000');
  });

  it('GET_ATTRIB request as libpcsclite fills it (280 bytes, rv pre-set to NO_SERVICE)', () => {
    const raw = getsetStruct.encode({ hCard: 0x0a86e899, dwAttrId: 0x00090303, pbAttr: new Uint8Array(0), cbAttrLen: 264, rv: 0x8010001d });
    expect(raw.length).toBe(280);
    expect(hex(rxHeader.encode({ size: 280, command: Command.SCARD_GET_ATTRIB }))).toBe('180100000f000000');
    expect(hex(raw.subarray(0, 8))).toBe('99e8860a03030900');
    expect(hex(raw.subarray(8, 272))).toBe('00'.repeat(264));
    expect(hex(raw.subarray(272))).toBe('080100001d001080');
  });

  it('READER_STATE[16] entry after an insertion (§5.1 dump) and unused slots', () => {
    const snap = encodeReaderStates([
      { readerName: 'Virtual PCD 00 00', eventCounter: 1, readerState: 0x34, readerSharing: 0, cardAtr: unhex('3b80800101'), cardProtocol: 0 },
      { readerName: 'Virtual PCD 00 01', eventCounter: 0, readerState: 0x02, readerSharing: 0, cardAtr: new Uint8Array(0), cardProtocol: 0 },
    ]);
    expect(snap.length).toBe(2944);
    expect(hex(snap.subarray(0, 0x11))).toBe(Buffer.from('Virtual PCD 00 00').toString('hex'));
    expect(hex(snap.subarray(0x11, 0x80))).toBe('00'.repeat(0x80 - 0x11));
    expect(hex(snap.subarray(0x80, 0x91))).toBe('0100000034000000000000003b80800101');
    expect(hex(snap.subarray(0x91, 0xb0))).toBe('00'.repeat(0xb0 - 0x91));
    expect(hex(snap.subarray(0xb0, 0xb8))).toBe('0500000000000000');
    // slot 2: empty name, cardAtrLength 34 like pcscd's READER_NOT_INITIALIZED
    expect(snap[2 * 184]).toBe(0);
    expect(hex(snap.subarray(2 * 184 + 176, 2 * 184 + 180))).toBe('22000000');
    const back = decodeReaderStates(snap);
    expect(back.map((e) => e.readerName)).toEqual(['Virtual PCD 00 00', 'Virtual PCD 00 01']);
    expect(hex(back[0].cardAtr)).toBe('3b80800101');
  });

  it('sizes match the command table', () => {
    for (const [cmd, codec] of Object.entries(COMMAND_STRUCT)) {
      expect(codec.size, codec.name).toBe(BODY_SIZE[Number(cmd) as Command]);
    }
    expect(READER_STATES_SIZE).toBe(2944);
  });

  it('reader names are cut to 127 bytes on a character boundary', () => {
    expect(encodeCString('é'.repeat(100), 127).length).toBe(126);
    const entry = { readerName: 'x'.repeat(200), eventCounter: 0, readerState: 2, readerSharing: 0, cardAtr: new Uint8Array(0), cardProtocol: 0 };
    const snap = encodeReaderStates([entry]);
    expect(snap[127]).toBe(0);
    expect(decodeReaderStates(snap)[0].readerName).toBe('x'.repeat(127));
  });
});

const u32 = fc.nat({ max: 0xffffffff });
const i32 = fc.integer({ min: -0x80000000, max: 0x7fffffff });
const name = fc
  .string({ unit: 'grapheme', maxLength: 40 })
  .filter((s) => !s.includes('\0') && Buffer.byteLength(s) <= 127);
const bytesUpTo = (n: number) => fc.uint8Array({ maxLength: n });

describe('round trips (fast-check)', () => {
  const cases = [
    ['version', versionStruct, fc.record({ major: i32, minor: i32, rv: u32 })],
    ['establish', establishStruct, fc.record({ dwScope: u32, hContext: u32, rv: u32 })],
    ['release', releaseStruct, fc.record({ hContext: u32, rv: u32 })],
    ['connect', connectStruct, fc.record({ hContext: u32, szReader: name, dwShareMode: u32, dwPreferredProtocols: u32, hCard: i32, dwActiveProtocol: u32, rv: u32 })],
    ['reconnect', reconnectStruct, fc.record({ hCard: i32, dwShareMode: u32, dwPreferredProtocols: u32, dwInitialization: u32, dwActiveProtocol: u32, rv: u32 })],
    ['disconnect', disconnectStruct, fc.record({ hCard: i32, dwDisposition: u32, rv: u32 })],
    ['begin', beginStruct, fc.record({ hCard: i32, rv: u32 })],
    ['end', endStruct, fc.record({ hCard: i32, dwDisposition: u32, rv: u32 })],
    ['status', statusStruct, fc.record({ hCard: i32, rv: u32 })],
    ['cancel', cancelStruct, fc.record({ hContext: i32, rv: u32 })],
    ['wait', waitReaderStateChange, fc.record({ timeOut: u32, rv: u32 })],
    ['transmit', transmitStruct, fc.record({ hCard: i32, ioSendPciProtocol: u32, ioSendPciLength: u32, cbSendLength: u32, ioRecvPciProtocol: u32, ioRecvPciLength: u32, pcbRecvLength: u32, rv: u32 })],
    ['control', controlStruct, fc.record({ hCard: i32, dwControlCode: u32, cbSendLength: u32, cbRecvLength: u32, dwBytesReturned: u32, rv: u32 })],
  ] as const;
  for (const [label, codec, arb] of cases) {
    it(label, () => {
      fc.assert(
        fc.property(arb as fc.Arbitrary<Record<string, unknown>>, (value) => {
          const raw = (codec.encode as (v: unknown) => Uint8Array)(value);
          expect(raw.length).toBe(codec.size);
          expect(codec.decode(raw)).toEqual(value);
        }),
      );
    });
  }

  it('getset (pbAttr is always 264 bytes, zero padded)', () => {
    fc.assert(
      fc.property(i32, u32, bytesUpTo(264), u32, u32, (hCard, dwAttrId, attr, cbAttrLen, rv) => {
        const raw = getsetStruct.encode({ hCard, dwAttrId, pbAttr: attr, cbAttrLen, rv });
        const back = getsetStruct.decode(raw);
        const padded = new Uint8Array(264);
        padded.set(attr);
        expect(back).toEqual({ hCard, dwAttrId, pbAttr: padded, cbAttrLen, rv });
      }),
    );
  });

  it('READER_STATE[16]', () => {
    const entry = fc.record({
      readerName: name.filter((s) => s.length > 0),
      eventCounter: fc.nat({ max: 0xffff }),
      readerState: u32,
      readerSharing: i32,
      cardAtr: bytesUpTo(33),
      cardProtocol: u32,
    });
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 16 }), (entries) => {
        const snap = encodeReaderStates(entries);
        expect(snap.length).toBe(2944);
        expect(decodeReaderStates(snap)).toEqual(entries);
      }),
    );
  });

  it('encode with a template echoes unmodelled bytes (pcscd echoes the request)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 152, maxLength: 152 }), u32, (raw, rv) => {
        raw[131] = 0; // pcscd forces the name's last byte to NUL
        const req = connectStruct.decode(raw);
        const reply = connectStruct.encode({ ...req, rv }, raw);
        // Modelled input fields are echoed byte for byte; only rv changes.
        expect(hex(reply.subarray(0, 4))).toBe(hex(raw.subarray(0, 4)));
        expect(connectStruct.decode(reply).rv).toBe(rv);
        expect(hex(reply.subarray(132, 148))).toBe(hex(raw.subarray(132, 148)));
      }),
    );
  });
});
