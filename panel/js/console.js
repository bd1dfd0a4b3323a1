// @ts-check
// The APDU console: sends command APDUs over /v1/pcsc, keeps the card connected between sends (so a SELECT
// holds for the next command), names the status word, and keeps a history in localStorage with PIN bytes masked.

import { byId, h, messageOf, spacedHex } from './dom.js';
import { PcscClient, PcscError } from './pcsc.js';
import { maskPinData } from './pin-mask.js';
import { swMeaning } from './sw.js';

const HISTORY_KEY = 'vscr.apdu.history';
const HISTORY_MAX = 100;
const SCARD_SHARE_SHARED = 2;
const SCARD_PROTOCOL_ANY = 3;
const SCARD_LEAVE_CARD = 0;

/** @typedef {{ time: string, reader: string, command: string, response: string | null, sw: string | null, meaning: string }} HistoryEntry */

/** @returns {HistoryEntry[]} */
function loadHistory() {
  try {
    const parsed = JSON.parse(localStorage.getItem(HISTORY_KEY) ?? '[]');
    // Older panels stored commands unmasked: mask them on the way in, and the next save overwrites them.
    return Array.isArray(parsed) ? parsed.slice(0, HISTORY_MAX).map((e) => ({ ...e, command: maskPinData(String(e.command)).hex })) : [];
  } catch {
    return [];
  }
}

export class ApduConsole {
  constructor() {
    this.form = byId('apdu-form', HTMLFormElement);
    this.reader = byId('apdu-reader', HTMLSelectElement);
    this.input = byId('apdu-input', HTMLInputElement);
    this.error = byId('apdu-error');
    this.list = byId('apdu-history', HTMLOListElement);
    this.history = loadHistory();
    this.save();
    /** @type {PcscClient | null} */
    this.client = null;
    /** @type {{ hContext: number } | null} */
    this.context = null;
    /** @type {{ reader: string, hCard: number, protocol: number } | null} */
    this.card = null;
    /** Sends run one after another; a second click waits for the first. */
    this.queue = Promise.resolve();

    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.submit(this.input.value);
    });
    for (const button of this.form.querySelectorAll('button[data-apdu]')) {
      button.addEventListener('click', () => {
        const apdu = button.getAttribute('data-apdu') ?? '';
        this.input.value = spacedHex(apdu);
        void this.submit(apdu);
      });
    }
    byId('apdu-disconnect').addEventListener('click', () => void this.enqueue(() => this.disconnect()));
    byId('apdu-clear').addEventListener('click', () => {
      this.history = [];
      this.save();
      this.render();
    });
    this.reader.addEventListener('change', () => void this.enqueue(() => this.disconnect()));
    this.render();
  }

  /** @param {() => Promise<void>} job */
  enqueue(job) {
    this.queue = this.queue.then(job, job);
    return this.queue;
  }

  /** @param {string} text */
  submit(text) {
    return this.enqueue(async () => {
      this.error.textContent = '';
      const hex = text.replace(/\s+/g, '').toUpperCase();
      if (!/^([0-9A-F]{2}){4,}$/.test(hex)) {
        this.error.textContent = 'A command APDU is at least 4 bytes of hex (CLA INS P1 P2).';
        return;
      }
      const reader = this.reader.value;
      /** @type {HistoryEntry} */
      const entry = { time: new Date().toISOString(), reader, command: maskPinData(hex).hex, response: null, sw: null, meaning: '' };
      try {
        const response = await this.transmit(reader, hex);
        const sw = response.slice(-4);
        entry.response = response.slice(0, -4);
        entry.sw = sw;
        entry.meaning = sw.length === 4 ? swMeaning(parseInt(sw.slice(0, 2), 16), parseInt(sw.slice(2), 16)) : 'no status word';
      } catch (err) {
        entry.meaning = messageOf(err);
        this.error.textContent = entry.meaning;
      }
      this.history.unshift(entry);
      this.history.length = Math.min(this.history.length, HISTORY_MAX);
      this.save();
      this.render();
    });
  }

  /** @param {string} reader @param {string} hex @returns {Promise<string>} response APDU hex (upper case) */
  async transmit(reader, hex) {
    const card = await this.connected(reader);
    try {
      const r = await /** @type {PcscClient} */ (this.client).call('SCardTransmit', { hCard: card.hCard, pioSendPci: { dwProtocol: card.protocol }, pbSendBuffer: hex });
      return String(r.pbRecvBuffer).toUpperCase();
    } catch (err) {
      // The card was removed or reset under us: forget the handle, the next send connects afresh.
      if (err instanceof PcscError) this.card = null;
      throw err;
    }
  }

  /** @param {string} reader */
  async connected(reader) {
    if (this.client === null || !this.client.open) {
      this.client = await PcscClient.connect();
      this.client.ws.addEventListener('close', () => {
        this.client = null;
        this.context = null;
        this.card = null;
      });
      this.context = null;
      this.card = null;
    }
    const client = this.client;
    if (this.context === null) this.context = await client.call('SCardEstablishContext', { dwScope: 2 });
    if (this.card !== null && this.card.reader === reader) return this.card;
    if (this.card !== null) await this.disconnect();
    const r = await client.call('SCardConnect', {
      hContext: /** @type {{ hContext: number }} */ (this.context).hContext,
      szReader: reader,
      dwShareMode: SCARD_SHARE_SHARED,
      dwPreferredProtocols: SCARD_PROTOCOL_ANY,
    });
    this.card = { reader, hCard: r.hCard, protocol: r.dwActiveProtocol };
    return this.card;
  }

  async disconnect() {
    const card = this.card;
    this.card = null;
    if (card === null || this.client === null) return;
    try {
      await this.client.call('SCardDisconnect', { hCard: card.hCard, dwDisposition: SCARD_LEAVE_CARD });
    } catch {
      // Already gone with the card: nothing to release.
    }
  }

  /** @param {{ name: string, published: boolean, cardPresent: boolean }[]} readers */
  setReaders(readers) {
    const previous = this.reader.value;
    this.reader.replaceChildren(...readers.filter((r) => r.published).map((r) =>
      h('option', { value: r.name }, `${r.name}${r.cardPresent ? '' : ' (empty)'}`)));
    if ([...this.reader.options].some((o) => o.value === previous)) this.reader.value = previous;
  }

  save() {
    try {
      localStorage.setItem(HISTORY_KEY, JSON.stringify(this.history));
    } catch {
      // Storage full or disabled: the history lives for this page only.
    }
  }

  render() {
    this.list.replaceChildren(...this.history.map((e) => {
      const ok = e.sw !== null && (e.sw === '9000' || e.sw.startsWith('61'));
      return h('li', { class: `apdu ${ok ? 'ok' : 'bad'}` },
        h('div', { class: 'meta' }, h('time', { datetime: e.time }, new Date(e.time).toLocaleTimeString()), ` ${e.reader}`),
        h('div', { class: 'mono' }, '> ', spacedHex(e.command)),
        e.sw === null ? null : h('div', { class: 'mono', 'data-role': 'response' }, '< ', spacedHex(e.response ?? ''), ' ', h('strong', { 'data-role': 'sw' }, e.sw)),
        h('div', { class: 'meaning', 'data-role': 'meaning' }, e.meaning),
        h('button', { type: 'button', class: 'small', 'aria-label': `Put ${spacedHex(e.command)} back in the input`, onclick: () => { this.input.value = spacedHex(e.command); this.input.focus(); } }, 'Reuse'));
    }));
  }
}
