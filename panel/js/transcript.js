// @ts-check
// A reader's APDU transcript, followed live (GET /v1/readers/:reader/transcript/events): resets with their ATR,
// insertions, protocol changes and every exchange with its status word's meaning. PIN bytes arrive masked (??).

import { api, readerPath } from './api.js';
import { byId, fillSelect, h, messageOf, spacedHex } from './dom.js';
import { followStream } from './events.js';
import { swMeaning } from './sw.js';

/** Entries kept on the page; the service keeps its own bounded ring (docs/simulation.md). */
const SHOWN_MAX = 500;

/**
 * @typedef {{ seq: number, time: number, session: number, kind: string, profile?: string, action?: string,
 *   atr?: string, error?: string, protocol?: string, command?: string, response?: string, sw?: string,
 *   meaning?: string, masked?: boolean, durationMs?: number }} TranscriptEntry
 */

export class TranscriptView {
  constructor() {
    this.reader = byId('transcript-reader', HTMLSelectElement);
    this.list = byId('transcript-list', HTMLOListElement);
    this.state = byId('transcript-state');
    this.error = byId('transcript-error');
    /** The last entry shown: a reconnect resumes after it. */
    this.lastSeq = 0;
    /** @type {(() => void) | null} */
    this.stop = null;
    this.reader.addEventListener('change', () => this.follow());
    byId('transcript-clear').addEventListener('click', () => void this.clear());
  }

  /** @param {{ index: number, name: string }[]} readers */
  setReaders(readers) {
    const before = this.reader.value;
    fillSelect(this.reader, readers.map((r) => ({ value: String(r.index), label: r.name })));
    if (this.reader.value !== before || this.stop === null) this.follow();
  }

  /** (Re)starts following the chosen reader from the first kept entry. */
  follow() {
    this.stop?.();
    this.stop = null;
    this.lastSeq = 0;
    this.list.replaceChildren();
    this.error.textContent = '';
    const ref = this.reader.value;
    if (ref === '') {
      this.state.textContent = 'no reader';
      return;
    }
    this.stop = followStream(() => `${readerPath(ref)}/transcript/events?since=${this.lastSeq}`, (e) => {
      if (e.event === 'entry') this.add(/** @type {TranscriptEntry} */ (e.data));
    }, (state, detail) => {
      this.state.textContent = state === 'open' ? 'following' : `reconnecting… ${detail ?? ''}`;
    });
  }

  async clear() {
    this.error.textContent = '';
    const ref = this.reader.value;
    if (ref === '') return;
    try {
      await api('DELETE', `${readerPath(ref)}/transcript`);
      this.list.replaceChildren();
    } catch (err) {
      this.error.textContent = messageOf(err);
    }
  }

  /** @param {TranscriptEntry} e */
  add(e) {
    if (e.seq <= this.lastSeq) return;
    this.lastSeq = e.seq;
    const atBottom = this.list.scrollTop + this.list.clientHeight >= this.list.scrollHeight - 4;
    this.list.append(entryItem(e));
    while (this.list.childElementCount > SHOWN_MAX) this.list.firstElementChild?.remove();
    if (atBottom) this.list.scrollTop = this.list.scrollHeight;
  }
}

/** @param {TranscriptEntry} e */
function entryItem(e) {
  const meta = h('div', { class: 'meta' }, h('time', { datetime: new Date(e.time).toISOString() }, new Date(e.time).toLocaleTimeString()),
    ` #${e.seq} · session ${e.session}`);
  if (e.kind === 'apdu') {
    const response = e.response ?? '';
    const sw = e.sw ?? (response.length >= 4 ? response.slice(-4) : '');
    const ok = sw === '9000' || sw.startsWith('61');
    const meaning = e.error ?? (sw.length === 4 ? swMeaning(parseInt(sw.slice(0, 2), 16), parseInt(sw.slice(2), 16)) : 'no status word');
    return h('li', { class: `apdu ${e.error === undefined && ok ? 'ok' : 'bad'}`, 'data-kind': 'apdu' }, meta,
      h('div', { class: 'mono', 'data-role': 'command' }, '> ', spacedHex(e.command ?? ''), e.masked === true ? h('span', { class: 'badge' }, 'PIN masked') : null),
      e.error !== undefined ? null : h('div', { class: 'mono', 'data-role': 'response' }, '< ', spacedHex(response.slice(0, -4)), ' ', h('strong', { 'data-role': 'sw' }, sw.toUpperCase())),
      h('div', { class: 'meaning', 'data-role': 'meaning' }, meaning));
  }
  return h('li', { class: `apdu event${e.error === undefined ? '' : ' bad'}`, 'data-kind': e.kind }, meta,
    h('div', { class: e.kind === 'power' ? 'mono' : '', 'data-role': 'event' }, eventText(e)));
}

/** @param {TranscriptEntry} e */
function eventText(e) {
  switch (e.kind) {
    case 'insert': return `card inserted (${e.profile ?? 'unknown profile'})`;
    case 'remove': return 'card removed';
    case 'protocol': return `protocol ${e.protocol ?? '?'}`;
    case 'power': {
      const what = e.action === 'unpower' ? 'power off' : `${e.action ?? ''} reset`;
      if (e.error !== undefined) return `${what} failed: ${e.error}`;
      return e.atr === undefined ? what : `${what}, ATR: ${spacedHex(e.atr)}`;
    }
    default: return e.kind;
  }
}
