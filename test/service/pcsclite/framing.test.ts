// Framing: complete frames only, at any split point; size/command violations detected before buffering.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BODY_SIZE,
  Command,
  encodeRequest,
  type Frame,
  FrameDecoder,
  FramingError,
  rxHeader,
  transmitStruct,
  controlStruct,
} from '../../../service/pcsclite/index.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

const commands = Object.keys(BODY_SIZE).map(Number) as Command[];

/** A random valid client message (struct bytes random, cbSendLength consistent with the payload). */
const frameArb: fc.Arbitrary<Frame> = fc
  .record({
    command: fc.constantFrom(...commands),
    seed: fc.uint8Array({ minLength: 280, maxLength: 280 }),
    payload: fc.uint8Array({ maxLength: 300 }),
  })
  .map(({ command, seed, payload }) => {
    const body = seed.slice(0, BODY_SIZE[command]);
    if (command === Command.SCARD_TRANSMIT) {
      new DataView(body.buffer).setUint32(12, payload.length, true);
      return { command, body, payload };
    }
    if (command === Command.SCARD_CONTROL) {
      new DataView(body.buffer).setUint32(8, payload.length, true);
      return { command, body, payload };
    }
    return { command, body, payload: new Uint8Array(0) };
  });

function serialise(frames: Frame[]): Uint8Array {
  return Buffer.concat(frames.map((f) => encodeRequest(f.command, f.body, f.payload)));
}

const summary = (f: Frame) => ({ command: f.command, body: hex(f.body), payload: hex(f.payload) });

describe('FrameDecoder', () => {
  it('reassembles any sequence of frames from any split points', () => {
    fc.assert(
      fc.property(fc.array(frameArb, { minLength: 1, maxLength: 8 }), fc.array(fc.nat(), { maxLength: 20 }), (frames, cuts) => {
        const stream = serialise(frames);
        const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
        const decoder = new FrameDecoder();
        const out: Frame[] = [];
        let prev = 0;
        for (const p of [...points, stream.length]) {
          out.push(...decoder.push(stream.subarray(prev, p)));
          prev = p;
        }
        expect(out.map(summary)).toEqual(frames.map(summary));
        expect(decoder.pending).toBe(0);
      }),
    );
  });

  it('one byte at a time reports the partial frame as pending', () => {
    const frame = encodeRequest(Command.SCARD_TRANSMIT, transmitStruct.encode({ hCard: 1, ioSendPciProtocol: 2, ioSendPciLength: 16, cbSendLength: 5, ioRecvPciProtocol: 3, ioRecvPciLength: 16, pcbRecvLength: 65548, rv: 0 }), new Uint8Array([0, 0x84, 0, 0, 8]));
    const decoder = new FrameDecoder();
    for (let i = 0; i < frame.length - 1; i++) {
      expect(decoder.push(frame.subarray(i, i + 1))).toEqual([]);
      expect(decoder.pending).toBeGreaterThan(0);
    }
    const [done] = decoder.push(frame.subarray(frame.length - 1));
    expect(hex(done.payload)).toBe('0084000008');
    expect(decoder.pending).toBe(0);
  });

  it('a CONTROL with cbSendLength 0 is complete after its struct', () => {
    const body = controlStruct.encode({ hCard: 1, dwControlCode: 0x42000d48, cbSendLength: 0, cbRecvLength: 256, dwBytesReturned: 0, rv: 0 });
    const frames = new FrameDecoder().push(encodeRequest(Command.SCARD_CONTROL, body));
    expect(frames).toHaveLength(1);
    expect(frames[0].payload.length).toBe(0);
  });

  const violation = (bytes: Uint8Array): string => {
    const decoder = new FrameDecoder();
    decoder.push(bytes);
    return decoder.error?.violation ?? 'none';
  };

  it.each([0x00, 0x03, 0x0c, 0x0e, 0x15, 0x99, 0xffffffff])('command %i is rejected from the header alone', (cmd) => {
    expect(violation(rxHeader.encode({ size: 0, command: cmd }))).toBe('unknown-command');
  });

  it('a wrong declared size is rejected from the header alone (VERSION 16, TRANSMIT counting its APDU)', () => {
    expect(violation(rxHeader.encode({ size: 16, command: Command.CMD_VERSION }))).toBe('wrong-size');
    expect(violation(rxHeader.encode({ size: 37, command: Command.SCARD_TRANSMIT }))).toBe('wrong-size');
    expect(violation(rxHeader.encode({ size: 0xffffffff, command: Command.SCARD_CONNECT }))).toBe('wrong-size');
  });

  it('cbSendLength above 65548 is rejected before any payload arrives', () => {
    const body = transmitStruct.encode({ hCard: 1, ioSendPciProtocol: 2, ioSendPciLength: 16, cbSendLength: 70000, ioRecvPciProtocol: 3, ioRecvPciLength: 16, pcbRecvLength: 65548, rv: 0 });
    expect(violation(encodeRequest(Command.SCARD_TRANSMIT, body))).toBe('oversize-payload');
    const ok = transmitStruct.encode({ ...transmitStruct.decode(body), cbSendLength: 65548 });
    expect(violation(encodeRequest(Command.SCARD_TRANSMIT, ok))).toBe('none');
  });

  it('stays failed after a violation', () => {
    const decoder = new FrameDecoder();
    expect(decoder.push(rxHeader.encode({ size: 0, command: 3 }))).toEqual([]);
    expect(decoder.error).toBeInstanceOf(FramingError);
    expect(() => decoder.push(encodeRequest(Command.CMD_GET_READERS_STATE))).toThrow(FramingError);
  });

  it('frames before a violation in the same chunk are still delivered (pcscd answers them first)', () => {
    const decoder = new FrameDecoder();
    const bytes = Buffer.concat([encodeRequest(Command.CMD_GET_READERS_STATE), rxHeader.encode({ size: 0, command: 0x0c })]);
    const frames = decoder.push(bytes);
    expect(frames.map((f) => f.command)).toEqual([Command.CMD_GET_READERS_STATE]);
    expect(decoder.error?.message).toMatch(/unused 0x0c/);
    expect(decoder.pending).toBe(0);
  });
});
