// @ts-check
// The IRP trace of one reader in the debugger-log text shape (GET /v1/readers/:reader/trace, text/plain).

import { getText, readerPath } from './api.js';
import { byId, fillSelect, messageOf } from './dom.js';

export class TraceView {
  constructor() {
    this.reader = byId('trace-reader', HTMLSelectElement);
    this.text = byId('trace-text');
    this.follow = byId('trace-follow', HTMLInputElement);
    byId('trace-refresh').addEventListener('click', () => void this.refresh());
    this.reader.addEventListener('change', () => void this.refresh());
  }

  /** @param {{ index: number, name: string }[]} readers */
  setReaders(readers) {
    const before = this.reader.value;
    fillSelect(this.reader, readers.map((r) => ({ value: String(r.index), label: r.name })));
    if (this.reader.value !== before) void this.refresh();
  }

  onReaderEvent() {
    if (this.follow.checked) void this.refresh();
  }

  async refresh() {
    if (this.reader.value === '') {
      this.text.textContent = 'no reader';
      return;
    }
    try {
      const text = await getText(`${readerPath(this.reader.value)}/trace`, 'text/plain');
      const atBottom = this.text.scrollTop + this.text.clientHeight >= this.text.scrollHeight - 4;
      this.text.textContent = text === '' ? '(empty)' : text;
      if (atBottom) this.text.scrollTop = this.text.scrollHeight;
    } catch (err) {
      this.text.textContent = messageOf(err);
    }
  }
}
