// @ts-check
// Faults on demand (docs/faults.md): arm one on a reader (kind, trigger, one-shot or persistent), list the
// armed ones with what they have seen and fired, disarm them.

import { api, readerPath } from './api.js';
import { byId, fillSelect, h, messageOf } from './dom.js';

/** While faults are armed the list is re-read this often, so a one-shot fault that fired disappears. */
const POLL_MS = 1500;

/**
 * @typedef {{ id: number, reader: number, kind: string, once: boolean, seen: number, fired: number,
 *   trigger: { nth?: number, match?: string, afterMs?: number, probability?: number } | null,
 *   spec: Record<string, unknown> }} Fault
 */

export class FaultsView {
  constructor() {
    this.form = byId('fault-form', HTMLFormElement);
    this.reader = byId('fault-reader', HTMLSelectElement);
    this.kind = byId('fault-kind', HTMLSelectElement);
    this.list = byId('fault-list', HTMLUListElement);
    this.error = byId('faults-error');
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.timer = null;
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.arm();
    });
    this.kind.addEventListener('change', () => this.showFields());
    this.reader.addEventListener('change', () => void this.refresh());
    this.showFields();
  }

  /** Shows only the inputs the chosen kind reads (data-for lists the kinds). */
  showFields() {
    for (const el of this.form.querySelectorAll('[data-for]')) {
      if (el instanceof HTMLElement) el.hidden = !(el.dataset.for ?? '').split(' ').includes(this.kind.value);
    }
  }

  /** @param {{ index: number, name: string }[]} readers */
  setReaders(readers) {
    fillSelect(this.reader, readers.map((r) => ({ value: String(r.index), label: r.name })));
    void this.refresh();
  }

  async arm() {
    this.error.textContent = '';
    const data = new FormData(this.form);
    const text = (/** @type {string} */ key) => String(data.get(key) ?? '').trim();
    const kind = this.kind.value;
    /** @type {Record<string, unknown>} */
    const body = { kind, once: data.get('persistent') === null };
    /** @type {Record<string, unknown>} */
    const trigger = {};
    if (text('match') !== '') trigger.match = text('match').replace(/\s+/g, '');
    if (text('nth') !== '') trigger.nth = Number(text('nth'));
    if (Object.keys(trigger).length > 0) body.trigger = trigger;
    if (kind === 'sw') body.sw = text('sw');
    if ((kind === 'slow' || kind === 'mute') && text('delay') !== '') body.delayMs = Number(text('delay'));
    if (kind === 'unplug' && text('delay') !== '') body.replugMs = Number(text('delay'));
    if (kind === 'corrupt') body.corruption = text('corruption') || 'bitflip';
    try {
      await api('POST', `${readerPath(this.reader.value)}/faults`, body);
    } catch (err) {
      this.error.textContent = messageOf(err);
    }
    await this.refresh();
  }

  /** @param {number} id */
  async disarm(id) {
    this.error.textContent = '';
    try {
      await api('DELETE', `${readerPath(this.reader.value)}/faults/${id}`);
    } catch (err) {
      this.error.textContent = messageOf(err);
    }
    await this.refresh();
  }

  async refresh() {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const ref = this.reader.value;
    if (ref === '') {
      this.list.replaceChildren();
      return;
    }
    try {
      /** @type {{ faults: Fault[] }} */
      const { faults } = await api('GET', `${readerPath(ref)}/faults`);
      if (ref !== this.reader.value) return;
      this.list.replaceChildren(...(faults.length === 0 ? [h('li', { class: 'placeholder' }, 'No fault armed on this reader.')] : faults.map((f) => this.item(f))));
      if (faults.length > 0) this.timer = setTimeout(() => void this.refresh(), POLL_MS);
    } catch (err) {
      this.error.textContent = messageOf(err);
    }
  }

  /** @param {Fault} f */
  item(f) {
    const id = `fault-${f.id}`;
    return h('li', { class: 'fault', 'data-fault': String(f.id) },
      h('span', { id, class: 'mono' }, `#${f.id} ${describe(f)}`),
      h('span', { class: 'badge' }, f.once ? 'one-shot' : 'persistent'),
      h('span', { class: 'meta' }, `seen ${f.seen}, fired ${f.fired}`),
      h('button', { type: 'button', class: 'small danger', 'aria-describedby': id, onclick: () => void this.disarm(f.id) }, 'Disarm'));
  }
}

/** @param {Fault} f */
function describe(f) {
  const spec = f.spec;
  const detail = f.kind === 'sw' ? ` ${String(spec.sw ?? '').toUpperCase()}`
    : spec.delayMs !== undefined ? ` ${String(spec.delayMs)} ms`
      : spec.replugMs !== undefined ? ` replug ${String(spec.replugMs)} ms`
        : spec.corruption !== undefined ? ` ${String(spec.corruption)}` : '';
  const t = f.trigger ?? {};
  /** @type {string[]} */
  const when = [];
  if (t.nth !== undefined) when.push(`APDU ${t.nth}`);
  if (t.match !== undefined) when.push(`command ${t.match}…`);
  if (t.afterMs !== undefined) when.push(`after ${t.afterMs} ms`);
  if (t.probability !== undefined) when.push(`p=${t.probability}`);
  return `${f.kind}${detail} on ${when.length === 0 ? 'the next APDU' : when.join(', ')}`;
}
