// The TRANSMIT hot path's codec (readTransmitRequest / encodeTransmitReply) against the declarative struct codec:
// the same fields and byte-identical replies for every outcome, including the echoed bytes the struct leaves alone.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeTransmitReply, readTransmitRequest, transmitStruct, withPayload } from '../../../service/pcsclite/codec.js';

const u32 = fc.integer({ min: 0, max: 0xffffffff });

describe('TRANSMIT fast path codec', () => {
  it('reads hCard (signed), ioSendPciProtocol and pcbRecvLength exactly as transmitStruct.decode', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (body) => {
        const slow = transmitStruct.decode(body);
        expect(readTransmitRequest(body)).toEqual({ hCard: slow.hCard, ioSendPciProtocol: slow.ioSendPciProtocol, pcbRecvLength: slow.pcbRecvLength });
      }),
    );
    expect(() => readTransmitRequest(new Uint8Array(31))).toThrow(RangeError);
  });

  it('writes the same bytes as encode + withPayload, for success and failure', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), u32, u32, fc.constantFrom(0, 0x80100008, 0x8010000c, 0x80100069), fc.uint8Array({ maxLength: 300 }), (body, proto, length, rv, data) => {
        const req = transmitStruct.decode(body);
        const slow = withPayload(transmitStruct.encode({ ...req, ioRecvPciProtocol: proto, pcbRecvLength: length, rv }, body), rv, data);
        const fast = encodeTransmitReply(body, proto, length, rv, data);
        expect(Buffer.from(fast).toString('hex')).toBe(Buffer.from(slow).toString('hex'));
      }),
    );
  });

  it('a known reply: struct with the three fields set, then the response APDU', () => {
    const body = Buffer.from('0100000002000000080000000500000002000000080000000200010099999999', 'hex');
    const reply = encodeTransmitReply(body, 2, 10, 0, Buffer.from('0102030405060708' + '9000', 'hex'));
    expect(reply.toString('hex')).toBe('01000000' + '02000000' + '08000000' + '05000000' + '02000000' + '08000000' + '0a000000' + '00000000' + '01020304050607089000');
    const failed = encodeTransmitReply(body, 2, 0, 0x80100069, Buffer.from('9000', 'hex'));
    expect(failed.toString('hex')).toBe('0100000002000000080000000500000002000000080000000000000069001080');
  });
});
