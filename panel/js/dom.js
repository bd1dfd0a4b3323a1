// @ts-check
// DOM helpers: elements are built with textContent, never from HTML strings, so reader names and card data
// cannot inject markup.

/**
 * @param {string} tag
 * @param {Record<string, string | boolean | number | ((e: Event) => void) | undefined>} [attrs]
 * @param {...(Node | string | null | undefined | false)} children
 * @returns {HTMLElement}
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') el.addEventListener(key.replace(/^on/, ''), value);
    else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child);
  }
  return el;
}

/**
 * @template {HTMLElement} T
 * @param {string} id
 * @param {new () => T} [type]
 * @returns {T}
 */
export function byId(id, type) {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`#${id} is missing`);
  if (type !== undefined && !(el instanceof type)) throw new Error(`#${id} is not a ${type.name}`);
  return /** @type {T} */ (el);
}

/** Hex with a space every byte, upper case (how APDUs are read aloud). @param {string} hex */
export function spacedHex(hex) {
  return (hex.toUpperCase().match(/../g) ?? []).join(' ');
}

/** @param {unknown} err */
export function messageOf(err) {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Fills a <select> with options, keeping the current choice when it is still offered.
 * @param {HTMLSelectElement} select
 * @param {{ value: string, label: string }[]} options
 */
export function fillSelect(select, options) {
  const previous = select.value;
  select.replaceChildren(...options.map((o) => h('option', { value: o.value }, o.label)));
  if (options.some((o) => o.value === previous)) select.value = previous;
}
