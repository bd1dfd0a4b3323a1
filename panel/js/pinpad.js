// @ts-check
// The keypad of a PIN-pad reader (docs/pinpad.md): digit, Clear, OK and Cancel keys for the entry a client is
// waiting on, a PIN queued ahead of time, and the pad's status. Digits are never shown back, only their count.

import { api, readerPath } from './api.js';
import { h, messageOf } from './dom.js';

/** How often a pad's status is re-read while the page shows it. */
const POLL_MS = 1000;

/** @typedef {{ prompting: boolean, stage: string | null, digitsEntered: number, maxDigits: number | null, queued: number, entries: number }} PadStatus */

export class PinpadWatch {
  constructor() {
    /** Last status per reader index. @type {Map<string, PadStatus>} */
    this.status = new Map();
    /** Readers with a pad, by index, with their keypad: the same element moves into each re-rendered slot, so a
     * PIN being typed into the queue field survives reader events. @type {Map<string, HTMLElement>} */
    this.pads = new Map();
    /** @type {ReturnType<typeof setInterval> | null} */
    this.timer = null;
  }

  /**
   * The keypad of one reader; it keeps its status across the reader list's re-renders.
   * @param {string} ref reader index
   * @param {string} name
   * @param {string} labelId the id of the reader's heading
   */
  keypad(ref, name, labelId) {
    const kept = this.pads.get(ref);
    if (kept !== undefined && kept.dataset.readerName === name) return kept;
    const status = h('p', { class: 'pad-status', role: 'status', 'data-role': 'pinpad-status' });
    const error = h('p', { class: 'error', role: 'alert', 'data-role': 'pinpad-error' });
    const key = (/** @type {string} */ label, /** @type {Record<string, string>} */ body, /** @type {string} */ aria, cls = '') =>
      h('button', { type: 'button', class: `key ${cls}`, 'data-key': `${ref}-pad-${label}`, 'data-pad-key': label, 'aria-label': aria,
        onclick: () => void this.press(ref, body, box) }, label);
    const digits = ['1', '2', '3', '4', '5', '6', '7', '8', '9'].map((d) => key(d, { digits: d }, `digit ${d}`));
    const pin = /** @type {HTMLInputElement} */ (h('input', { id: `pad-${ref}-queue`, type: 'password', inputmode: 'numeric', autocomplete: 'off',
      pattern: '[0-9]{1,16}', maxlength: 16, required: true, 'data-role': 'pinpad-queue', 'data-key': `${ref}-pad-queue` }));
    const queue = h('form', { class: 'row', onsubmit: (e) => {
      e.preventDefault();
      void this.queue(ref, pin, box);
    } }, h('label', { for: `pad-${ref}-queue` }, 'Queue a PIN'), pin, h('button', { type: 'submit', class: 'small' }, 'Queue'));
    const box = h('div', { class: 'pinpad', role: 'group', 'aria-label': `PIN pad of ${name}`, 'aria-describedby': labelId, 'data-reader-name': name },
      h('strong', {}, 'PIN pad'), status,
      h('div', { class: 'keys' }, ...digits, key('Clear', { key: 'clear' }, 'Clear (correction)', 'clear'), key('0', { digits: '0' }, 'digit 0'),
        key('OK', { key: 'ok' }, 'OK', 'ok'), key('Cancel', { key: 'cancel' }, 'Cancel', 'danger cancel')),
      queue, error);
    this.pads.set(ref, box);
    this.show(ref, box);
    return box;
  }

  /** Keeps following the pads of these readers (after each render of the reader list). @param {string[]} refs */
  watch(refs) {
    for (const ref of [...this.pads.keys()]) if (!refs.includes(ref)) this.pads.delete(ref);
    for (const ref of [...this.status.keys()]) if (!refs.includes(ref)) this.status.delete(ref);
    if (refs.length === 0 && this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    } else if (refs.length > 0 && this.timer === null) {
      this.timer = setInterval(() => void this.poll(), POLL_MS);
      void this.poll();
    }
  }

  async poll() {
    await Promise.all([...this.pads.keys()].map(async (ref) => {
      try {
        const { pinpad } = await api('GET', `${readerPath(ref)}/pinpad`);
        this.update(ref, pinpad);
      } catch {
        // The reader went away: the next render drops it.
      }
    }));
  }

  /** @param {string} ref @param {Record<string, string>} body @param {HTMLElement} box */
  async press(ref, body, box) {
    setError(box, '');
    try {
      const { pinpad } = await api('POST', `${readerPath(ref)}/pinpad`, body);
      this.update(ref, pinpad);
    } catch (err) {
      setError(box, messageOf(err));
    }
  }

  /** @param {string} ref @param {HTMLInputElement} pin @param {HTMLElement} box */
  async queue(ref, pin, box) {
    setError(box, '');
    const digits = pin.value;
    pin.value = '';
    try {
      const { pinpad } = await api('POST', `${readerPath(ref)}/pinpad/queue`, { digits });
      this.update(ref, pinpad);
    } catch (err) {
      setError(box, messageOf(err));
    }
  }

  /** @param {string} ref @param {PadStatus} s */
  update(ref, s) {
    this.status.set(ref, s);
    const box = this.pads.get(ref);
    if (box !== undefined) this.show(ref, box);
  }

  /** @param {string} ref @param {HTMLElement} box */
  show(ref, box) {
    const s = this.status.get(ref);
    const status = box.querySelector('[data-role="pinpad-status"]');
    if (status !== null) status.textContent = statusText(s);
    box.dataset.prompting = String(s?.prompting === true);
    for (const button of box.querySelectorAll('.keys button')) {
      if (button instanceof HTMLButtonElement) button.disabled = s?.prompting !== true;
    }
  }
}

/** @param {PadStatus | undefined} s */
function statusText(s) {
  if (s === undefined) return 'reading the pad…';
  const stage = s.stage === null || s.stage === 'pin' ? '' : ` (${s.stage === 'current' ? 'current PIN' : s.stage === 'new' ? 'new PIN' : 'new PIN again'})`;
  const entry = s.prompting ? `waiting for PIN${stage}: ${s.digitsEntered} digit(s) entered` : 'idle: no PIN asked for';
  return s.queued > 0 ? `${entry}; ${s.queued} queued` : entry;
}

/** @param {HTMLElement} box @param {string} text */
function setError(box, text) {
  const el = box.querySelector('[data-role="pinpad-error"]');
  if (el !== null) el.textContent = text;
}
