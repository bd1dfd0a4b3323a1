// @ts-check
// Reader slots: name, publication (and why not), card profile, ATR with its decoding, state bits, event
// counter; insert with a profile picker, remove, add and remove readers; a PIN-pad reader's keypad.

import { api, readerPath } from './api.js';
import { decodeAtr } from './atr.js';
import { byId, h, messageOf, spacedHex } from './dom.js';
import { PinpadWatch } from './pinpad.js';

/**
 * @typedef {{ index: number, name: string, symbolicLink?: string, state: number, stateNames: string[], cardPresent: boolean,
 *   atr: string | null, protocol: number, eventCounter: number, sharing: number, published: boolean,
 *   failure: string | null, variant: string, profile: string | null, pinpad?: boolean }} Reader
 * @typedef {{ seq: number, ioControlName: string, statusName: string, status: number, minorCode?: number }} TraceEntry
 */

const PROTOCOLS = /** @type {Record<number, string>} */ ({ 0: 'none', 1: 'T=0', 2: 'T=1', 4: 'raw' });

export class ReaderList {
  /** @param {{ onChange: (readers: Reader[]) => void }} hooks */
  constructor(hooks) {
    this.hooks = hooks;
    this.list = byId('reader-list', HTMLUListElement);
    this.error = byId('readers-error');
    /** @type {string[]} */
    this.profiles = ['default'];
    /** @type {Reader[]} */
    this.readers = [];
    /** The IRP behind each failure, looked up once per (reader, failure). @type {Map<string, Promise<TraceEntry | null>>} */
    this.culprits = new Map();
    /** @type {Promise<void> | null} */
    this.pending = null;
    this.again = false;
    this.pinpads = new PinpadWatch();

    byId('add-reader', HTMLFormElement).addEventListener('submit', (e) => {
      e.preventDefault();
      const form = /** @type {HTMLFormElement} */ (e.currentTarget);
      const data = new FormData(form);
      /** @type {Record<string, string | boolean>} */
      const body = { variant: String(data.get('variant')) };
      if (data.get('pinpad') !== null) body.pinpad = true;
      for (const key of ['vendorName', 'ifdType']) {
        const value = String(data.get(key) ?? '').trim();
        if (value !== '') body[key] = value;
      }
      void this.act(() => api('POST', '/v1/readers', body));
    });
  }

  async loadProfiles() {
    const { profiles } = await api('GET', '/v1/profiles');
    this.profiles = profiles;
  }

  /** Re-reads GET /v1/readers; calls that arrive while one runs fold into one more read. */
  refresh() {
    if (this.pending !== null) {
      this.again = true;
      return this.pending;
    }
    this.pending = (async () => {
      do {
        this.again = false;
        try {
          const { readers } = await api('GET', '/v1/readers');
          this.readers = readers;
          this.render();
          this.hooks.onChange(readers);
        } catch (err) {
          this.error.textContent = messageOf(err);
        }
      } while (this.again);
      this.pending = null;
    })();
    return this.pending;
  }

  /** Runs a REST action, shows its error, and refreshes (the event stream refreshes too; both are cheap). @param {() => Promise<unknown>} action */
  async act(action) {
    this.error.textContent = '';
    try {
      await action();
    } catch (err) {
      this.error.textContent = messageOf(err);
    }
    await this.refresh();
  }

  render() {
    // Keep keyboard focus on the same control across the re-render (e.g. Insert becomes Remove card).
    const active = document.activeElement instanceof HTMLElement ? document.activeElement.dataset.key : undefined;
    this.list.replaceChildren(...this.readers.map((r) => this.slot(r)));
    this.pinpads.watch(this.readers.filter((r) => r.pinpad === true).map((r) => String(r.index)));
    if (active === undefined) return;
    const again = this.list.querySelector(`[data-key="${CSS.escape(active)}"]`);
    if (again instanceof HTMLElement) again.focus();
  }

  /** @param {Reader} r */
  slot(r) {
    const id = `reader-${r.index}`;
    const ref = String(r.index);
    const status = r.failure !== null ? h('span', { class: 'badge bad' }, r.published ? 'failed' : 'not published')
      : r.published ? h('span', { class: 'badge ok' }, 'published') : h('span', { class: 'badge' }, 'not published yet');
    /** @type {(Node | null)[]} */
    const body = [
      h('h3', { id: `${id}-name` }, r.name),
      h('p', { class: 'badges' }, status, ' ', h('span', { class: 'badge' }, `driver: ${r.variant}`), ' ',
        h('span', { class: `badge ${r.cardPresent ? 'card' : ''}` }, r.cardPresent ? 'card present' : 'empty'),
        r.pinpad === true ? ' ' : null, r.pinpad === true ? h('span', { class: 'badge' }, 'PIN pad') : null),
    ];
    if (r.failure !== null) body.push(this.failureBox(r));
    body.push(h('dl', { class: 'facts' },
      h('dt', {}, 'Profile'), h('dd', { 'data-role': 'profile' }, r.profile ?? '—'),
      h('dt', {}, 'State'), h('dd', { 'data-role': 'state' }, `${r.stateNames.join(' | ') || 'none'} (0x${r.state.toString(16).padStart(4, '0')})`),
      h('dt', {}, 'Event counter'), h('dd', { 'data-role': 'events' }, String(r.eventCounter)),
      h('dt', {}, 'Protocol'), h('dd', {}, PROTOCOLS[r.protocol] ?? String(r.protocol)),
      h('dt', {}, 'Sharing'), h('dd', {}, r.sharing === -1 ? 'exclusive' : r.sharing === 0 ? 'not connected' : `${r.sharing} shared handle(s)`),
      h('dt', {}, 'ATR'), h('dd', { class: 'mono', 'data-role': 'atr' }, r.atr === null ? '—' : spacedHex(r.atr))));
    if (r.atr !== null) body.push(atrDetails(r.atr));
    if (r.pinpad === true) body.push(this.pinpads.keypad(ref, r.name, `${id}-name`));

    const actions = h('div', { class: 'row actions' });
    if (r.cardPresent) {
      actions.append(h('button', { type: 'button', 'data-key': `${ref}-card`, 'aria-describedby': `${id}-name`,
        onclick: () => void this.act(() => api('DELETE', `${readerPath(ref)}/card`)) }, 'Remove card'));
    } else {
      const picker = /** @type {HTMLSelectElement} */ (h('select', { id: `${id}-profile`, 'data-key': `${ref}-profile` },
        ...this.profiles.map((p) => h('option', { value: p }, p))));
      actions.append(h('label', { for: `${id}-profile` }, 'Profile'), picker,
        h('button', { type: 'button', 'data-key': `${ref}-card`, 'aria-describedby': `${id}-name`,
          onclick: () => void this.act(() => api('POST', `${readerPath(ref)}/card`, { profile: picker.value })) }, 'Insert card'));
    }
    actions.append(h('button', { type: 'button', class: 'danger', 'data-key': `${ref}-remove`, 'aria-describedby': `${id}-name`,
      onclick: () => void this.act(() => api('DELETE', readerPath(ref))) }, 'Remove reader'));
    body.push(actions);
    return h('li', { class: `slot${r.failure !== null ? ' failed' : ''}`, 'aria-labelledby': `${id}-name`, 'data-reader': r.name }, ...body);
  }

  /** The diagnosis and the IRP that caused it (from the reader's trace). @param {Reader} r */
  failureBox(r) {
    const box = h('div', { class: 'failure', role: 'note' },
      h('strong', {}, 'Failure: '), h('span', { 'data-role': 'failure' }, r.failure ?? ''));
    const irp = h('p', { class: 'mono', 'data-role': 'culprit' }, 'looking up the IRP…');
    box.append(irp);
    const key = `${r.symbolicLink ?? r.index}|${r.failure}`;
    let culprit = this.culprits.get(key);
    if (culprit === undefined) {
      culprit = findCulprit(String(r.index), r.failure ?? '');
      this.culprits.set(key, culprit);
    }
    culprit.then((e) => {
      irp.textContent = e === null ? 'no failing IRP in the trace ring' : `IRP #${e.seq}: ${e.ioControlName} → ${e.statusName} (0x${(e.status >>> 0).toString(16).padStart(8, '0')})`;
    }, (err) => {
      irp.textContent = `trace unavailable: ${messageOf(err)}`;
    });
    return box;
  }
}

/** @param {string} atr */
function atrDetails(atr) {
  const rows = decodeAtr(atr);
  return h('details', { class: 'atr' }, h('summary', {}, 'ATR decoding'),
    h('table', {},
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Bytes'), h('th', { scope: 'col' }, 'Field'), h('th', { scope: 'col' }, 'Meaning'))),
      h('tbody', {}, ...rows.map((row) => h('tr', {}, h('td', { class: 'mono' }, row.byte), h('th', { scope: 'row' }, row.name), h('td', {}, row.meaning))))));
}

/**
 * The trace entry the diagnosis names (its IOCTL and NTSTATUS), else the last unsuccessful one.
 * @param {string} ref @param {string} failure
 * @returns {Promise<TraceEntry | null>}
 */
async function findCulprit(ref, failure) {
  /** @type {{ entries: TraceEntry[] }} */
  const { entries } = await api('GET', `${readerPath(ref)}/trace`);
  const named = entries.filter((e) => failure.includes(e.ioControlName) && failure.includes(e.statusName));
  if (named.length > 0) return named[named.length - 1];
  const failed = entries.filter((e) => e.status !== 0 && e.statusName !== 'STATUS_PENDING');
  return failed.length > 0 ? failed[failed.length - 1] : null;
}
