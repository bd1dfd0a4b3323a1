// @ts-check
// The crypto device: State and ErrorCode, reset, and SHA-256 / AES-CBC of a dropped file. The file goes as a
// raw application/octet-stream body (the browser streams it from disk; the service streams it into guest
// memory). XMLHttpRequest, not fetch: only XHR reports upload progress over HTTP/1.1.

import { api, authHeaders, errorOf } from './api.js';
import { byId, h, messageOf } from './dom.js';

/** @typedef {{ id: number, engine: string, interruptMode: string, state: number, stateName: string, errorCode: number, errorName: string, maxRequestBytes?: number, guestMemoryBytes: number }} Device */

/** @param {number} n */
function size(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

export class DevicePanel {
  constructor() {
    this.list = byId('device-list');
    this.form = byId('crypto-form', HTMLFormElement);
    this.fileInput = byId('crypto-file', HTMLInputElement);
    this.drop = byId('drop');
    this.progress = byId('crypto-progress', HTMLProgressElement);
    this.status = byId('crypto-status');
    this.result = byId('crypto-result');
    /** @type {Device[]} */
    this.devices = [];
    /** @type {File | null} */
    this.file = null;
    /** @type {string | null} */
    this.downloadUrl = null;

    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.run();
    });
    this.fileInput.addEventListener('change', () => {
      this.file = this.fileInput.files?.[0] ?? null;
      void this.run();
    });
    // A file dropped anywhere else must not make the browser navigate away from the panel.
    for (const type of ['dragover', 'drop']) window.addEventListener(type, (e) => e.preventDefault());
    this.drop.addEventListener('dragover', (e) => {
      e.preventDefault();
      this.drop.classList.add('over');
    });
    this.drop.addEventListener('dragleave', () => this.drop.classList.remove('over'));
    this.drop.addEventListener('drop', (e) => {
      e.preventDefault();
      this.drop.classList.remove('over');
      const file = e.dataTransfer?.files[0];
      if (file === undefined) return;
      this.file = file;
      void this.run();
    });
  }

  async refresh() {
    try {
      const { devices } = await api('GET', '/v1/devices');
      this.devices = devices;
      this.render();
    } catch (err) {
      this.list.replaceChildren(h('p', { class: 'error' }, messageOf(err)));
    }
  }

  render() {
    this.list.replaceChildren(...this.devices.map((d) => h('div', { class: 'device', 'data-device': String(d.id) },
      h('h3', {}, `Device ${d.id}`),
      h('dl', { class: 'facts' },
        h('dt', {}, 'State'), h('dd', { 'data-role': 'state' }, `${d.stateName} (${d.state})`),
        h('dt', {}, 'Error code'), h('dd', { 'data-role': 'error' }, `${d.errorName} (${d.errorCode})`),
        h('dt', {}, 'Engine'), h('dd', {}, `${d.engine}, ${d.interruptMode}`),
        h('dt', {}, 'Largest request'), h('dd', {}, d.maxRequestBytes === undefined ? '—' : size(d.maxRequestBytes))),
      h('button', { type: 'button', onclick: () => void this.reset(d.id) }, `Reset device ${d.id}`))));
  }

  /** @param {number} id */
  async reset(id) {
    try {
      await api('POST', `/v1/devices/${id}/reset`);
    } catch (err) {
      this.status.textContent = messageOf(err);
    }
    await this.refresh();
  }

  async run() {
    const file = this.file;
    if (file === null) {
      this.status.textContent = 'Choose or drop a file first.';
      return;
    }
    const op = String(new FormData(this.form).get('op'));
    const device = this.devices[0];
    if (device === undefined) {
      this.status.textContent = 'No crypto device.';
      return;
    }
    if (device.maxRequestBytes !== undefined && file.size > device.maxRequestBytes) {
      this.status.textContent = `${file.name} is ${size(file.size)}; the device takes at most ${size(device.maxRequestBytes)}.`;
      return;
    }
    if (this.downloadUrl !== null) URL.revokeObjectURL(this.downloadUrl);
    this.downloadUrl = null;
    this.result.replaceChildren();
    this.progress.value = 0;
    this.status.textContent = `${op} of ${file.name} (${size(file.size)})…`;
    try {
      const answer = await send(`/v1/devices/${device.id}/${op}`, file, op === 'sha256', (done) => {
        this.progress.value = done;
      });
      this.progress.value = 1;
      if (op === 'sha256') {
        const { digest } = JSON.parse(await answer.text());
        this.status.textContent = `SHA-256 of ${file.name} (${size(file.size)}):`;
        this.result.replaceChildren(h('span', { 'data-role': 'digest' }, digest));
      } else {
        const name = `${file.name}.${op.endsWith('encrypt') ? 'enc' : 'dec'}`;
        this.downloadUrl = URL.createObjectURL(answer);
        this.status.textContent = `${op.slice(8)}ed ${file.name}: ${size(answer.size)}`;
        const head = new Uint8Array(await answer.slice(0, 64).arrayBuffer());
        const hex = [...head].map((b) => b.toString(16).padStart(2, '0')).join('');
        this.result.replaceChildren(
          h('span', { 'data-role': 'output-hex' }, hex + (answer.size > 64 ? '…' : '')), h('br'),
          h('a', { href: this.downloadUrl, download: name }, `Download ${name}`));
      }
    } catch (err) {
      this.status.textContent = messageOf(err);
    }
  }
}

/**
 * POSTs the file as raw bytes; resolves the answer as a Blob (JSON for the hash, the raw bytes otherwise).
 * @param {string} path @param {Blob} body @param {boolean} json @param {(fraction: number) => void} onProgress
 * @returns {Promise<Blob>}
 */
function send(path, body, json, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', path);
    xhr.responseType = 'blob';
    xhr.setRequestHeader('content-type', 'application/octet-stream');
    xhr.setRequestHeader('accept', json ? 'application/json' : 'application/octet-stream');
    for (const [k, v] of Object.entries(authHeaders())) xhr.setRequestHeader(k, v);
    xhr.upload.addEventListener('progress', (e) => {
      if (e.lengthComputable && e.total > 0) onProgress(e.loaded / e.total);
    });
    xhr.addEventListener('load', () => {
      const blob = /** @type {Blob} */ (xhr.response);
      if (xhr.status === 200) resolve(blob);
      else void errorOf(new Response(blob, { status: xhr.status })).then(reject);
    });
    xhr.addEventListener('error', () => reject(new Error('the upload failed (connection error)')));
    xhr.send(body);
  });
}
