// A pure server-sent-events decoder (WHATWG HTML "event stream interpretation"): bytes in, events out.
// Kept apart from the socket so chunk boundaries can be tested byte by byte.

export interface SseMessage {
  event: string;
  data: string;
  id?: string;
}

/** Feed it text chunks of any size; it returns the complete events each chunk finished. */
export class SseDecoder {
  #buffer = '';
  #event = '';
  #data: string[] = [];
  #id: string | undefined;
  #sawData = false;

  push(chunk: string): SseMessage[] {
    this.#buffer += chunk;
    const out: SseMessage[] = [];
    // Lines end in CRLF, LF or CR; a trailing CR may be the first half of a CRLF, so keep it for the next chunk.
    for (;;) {
      const match = /\r\n|\n|\r/.exec(this.#buffer);
      if (!match) break;
      if (match[0] === '\r' && match.index === this.#buffer.length - 1) break;
      const line = this.#buffer.slice(0, match.index);
      this.#buffer = this.#buffer.slice(match.index + match[0].length);
      const msg = this.#line(line);
      if (msg) out.push(msg);
    }
    return out;
  }

  #line(line: string): SseMessage | undefined {
    if (line === '') {
      // A blank line dispatches the event; an event with no data lines is dropped (spec).
      const msg = this.#sawData ? { event: this.#event || 'message', data: this.#data.join('\n'), ...(this.#id !== undefined ? { id: this.#id } : {}) } : undefined;
      this.#event = '';
      this.#data = [];
      this.#sawData = false;
      return msg;
    }
    if (line.startsWith(':')) return undefined; // comment / keep-alive
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.#event = value;
    else if (field === 'data') {
      this.#data.push(value);
      this.#sawData = true;
    } else if (field === 'id' && !value.includes('\0')) this.#id = value;
    return undefined;
  }
}
