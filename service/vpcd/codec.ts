// vsmartcard vpcd wire format (docs/vpcd-protocol.md §2): 2-byte big-endian length + payload; 1-byte payloads are controls.

/** Control messages vpcd sends as 1-byte payloads. Only GET_ATR is answered. */
export const VPCD_CTRL = { OFF: 0x00, ON: 0x01, RESET: 0x02, ATR: 0x04 } as const;

/** The largest payload the 16-bit length can carry. */
export const VPCD_MAX_PAYLOAD = 0xffff;

/** `len_hi len_lo payload` in one buffer: one write, so our side never splits a message (Nagle, §2). */
export function encodeVpcdMessage(payload: Uint8Array): Uint8Array {
  if (payload.length > VPCD_MAX_PAYLOAD) throw new RangeError(`vpcd payload of ${payload.length} bytes exceeds ${VPCD_MAX_PAYLOAD}`);
  const out = new Uint8Array(2 + payload.length);
  out[0] = payload.length >> 8;
  out[1] = payload.length & 0xff;
  out.set(payload, 2);
  return out;
}

/** Incremental decoder: complete payloads only, whatever the TCP segmentation. */
export class VpcdDecoder {
  private buffer = new Uint8Array(0);

  push(chunk: Uint8Array): Uint8Array[] {
    const joined = new Uint8Array(this.buffer.length + chunk.length);
    joined.set(this.buffer, 0);
    joined.set(chunk, this.buffer.length);
    const out: Uint8Array[] = [];
    let pos = 0;
    while (joined.length - pos >= 2) {
      const length = (joined[pos] << 8) | joined[pos + 1];
      if (joined.length - pos - 2 < length) break;
      out.push(joined.slice(pos + 2, pos + 2 + length));
      pos += 2 + length;
    }
    this.buffer = joined.slice(pos);
    return out;
  }

  /** Bytes of an incomplete message held back. */
  get pending(): number {
    return this.buffer.length;
  }
}
