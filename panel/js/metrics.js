// @ts-check
// Metrics at a glance from /metrics (Prometheus text): APDUs per second, notifications, errors, counts.

import { getText } from './api.js';
import { RateChart } from './chart.js';
import { byId, h, messageOf } from './dom.js';

const POLL_MS = 2000;

/**
 * Sums every sample of each metric name (labels are added up). Exported for the tests' sake.
 * @param {string} text
 * @returns {Map<string, number>}
 */
export function parseMetrics(text) {
  const sums = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m === null) continue;
    const value = Number(m[3]);
    if (Number.isFinite(value)) sums.set(m[1], (sums.get(m[1]) ?? 0) + value);
  }
  return sums;
}

export class MetricsView {
  constructor() {
    this.list = byId('metric-list');
    /** Server-sent events this page received. */
    this.notifications = 0;
    /** @type {{ at: number, apdus: number, ops: number } | null} */
    this.last = null;
    /** @type {ReturnType<typeof setInterval> | null} */
    this.timer = null;
    this.chart = new RateChart(byId('metric-chart'), ['APDUs/s', 'Device ops/s', 'Notifications/s']);
    /** Notifications at the previous poll, for their rate. */
    this.lastNotifications = 0;
  }

  start() {
    void this.poll();
    this.timer = setInterval(() => {
      if (document.visibilityState === 'visible') void this.poll();
    }, POLL_MS);
  }

  async poll() {
    try {
      const m = parseMetrics(await getText('/metrics', 'text/plain'));
      const at = performance.now();
      const apdus = m.get('vscr_apdus_total') ?? 0;
      const ops = m.get('vscr_device_operations_total') ?? 0;
      const seconds = this.last === null ? 0 : (at - this.last.at) / 1000;
      const rate = (/** @type {number} */ now, /** @type {number} */ before) => (seconds > 0 ? Math.max(0, now - before) / seconds : 0);
      const apduRate = this.last === null ? null : rate(apdus, this.last.apdus);
      const opRate = this.last === null ? null : rate(ops, this.last.ops);
      const notificationRate = this.last === null ? null : rate(this.notifications, this.lastNotifications);
      this.last = { at, apdus, ops };
      this.lastNotifications = this.notifications;
      if (apduRate !== null && opRate !== null && notificationRate !== null) {
        this.chart.push([apduRate, opRate, notificationRate]);
      }
      const get = (/** @type {string} */ name) => String(m.get(name) ?? 0);
      this.render([
        ['APDUs/s', apduRate === null ? '…' : apduRate.toFixed(1), 'apdu-rate'],
        ['APDUs', get('vscr_apdus_total'), 'apdus'],
        ['Device ops/s', opRate === null ? '…' : opRate.toFixed(1), 'op-rate'],
        ['Notifications (this page)', String(this.notifications), 'notifications'],
        ['Event streams', get('vscr_sse_clients'), 'sse'],
        ['Device errors', get('vscr_device_errors_total'), 'device-errors'],
        ['HTTP 4xx answers', get('vscr_http_rejected_requests_total'), 'http-errors'],
        ['Readers (published)', `${get('vscr_readers')} (${get('vscr_readers_published')})`, 'readers'],
        ['Cards present', get('vscr_cards_present'), 'cards'],
        ['Uptime', `${get('vscr_uptime_seconds')} s`, 'uptime'],
      ]);
    } catch (err) {
      this.list.replaceChildren(h('p', { class: 'error' }, messageOf(err)));
    }
  }

  /** @param {[string, string, string][]} rows */
  render(rows) {
    this.list.replaceChildren(...rows.map(([label, value, key]) => h('div', { class: 'metric' }, h('dt', {}, label), h('dd', { 'data-metric': key }, value))));
  }
}
