// @ts-check
// A small time chart of the metric rates, drawn by uPlot. The service serves uPlot from node_modules (no CDN);
// it is loaded on first use so the rest of the page never waits for it.

const UPLOT_URL = '/panel/vendor/uplot/uPlot.esm.js';
/** Three minutes of 2 s polls. */
const MAX_POINTS = 90;

/** @typedef {import('uplot')} UPlot */

/** @param {string} name */
function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

export class RateChart {
  /** @param {HTMLElement} target @param {string[]} labels one per series */
  constructor(target, labels) {
    this.target = target;
    this.labels = labels;
    /** @type {number[]} seconds since the epoch */
    this.xs = [];
    /** @type {number[][]} one column per series */
    this.ys = labels.map(() => []);
    /** @type {UPlot | null} */
    this.plot = null;
    /** @type {Promise<void> | null} */
    this.loading = null;
    new ResizeObserver(() => this.plot?.setSize(this.size())).observe(target);
  }

  size() {
    return { width: Math.max(200, this.target.clientWidth), height: 160 };
  }

  /** @param {number[]} values one per series */
  push(values) {
    this.xs.push(Date.now() / 1000);
    values.forEach((v, i) => this.ys[i].push(v));
    for (const column of [this.xs, ...this.ys]) if (column.length > MAX_POINTS) column.shift();
    if (this.plot !== null) this.plot.setData(this.aligned());
    else this.loading ??= this.create();
  }

  /** @returns {import('uplot').AlignedData} */
  aligned() {
    return [this.xs, ...this.ys];
  }

  async create() {
    /** @type {{ default: typeof import('uplot') }} */
    const mod = await import(/* @vite-ignore */ UPLOT_URL);
    const fg = cssVar('--muted');
    const grid = cssVar('--line');
    const colours = [cssVar('--accent'), cssVar('--card'), cssVar('--ok')];
    this.target.replaceChildren();
    const axis = { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
    this.plot = new mod.default({
      ...this.size(),
      series: [{}, ...this.labels.map((label, i) => ({ label, stroke: colours[i % colours.length], width: 2 }))],
      axes: [axis, { ...axis, size: 44 }],
      scales: { y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
      cursor: { drag: { x: false, y: false } },
    }, this.aligned(), this.target);
  }
}
