// @ts-check
// REST calls with the access token: kept in sessionStorage (this tab only), sent as a Bearer header.

const TOKEN_KEY = 'vscr.token';

/** @returns {string | null} */
export function getToken() {
  return sessionStorage.getItem(TOKEN_KEY);
}

/** @param {string | null} token */
export function setToken(token) {
  if (token === null) sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, token);
}

/** @returns {Record<string, string>} */
export function authHeaders() {
  const token = getToken();
  return token === null ? {} : { authorization: `Bearer ${token}` };
}

/** A 4xx/5xx answer in the service's error shape (docs/errors.md). */
export class ApiError extends Error {
  /** @param {number} status @param {string} code @param {string} message */
  constructor(status, code, message) {
    super(`${code}: ${message}`);
    this.status = status;
    this.code = code;
  }
}

/** @param {Response} res @returns {Promise<ApiError>} */
export async function errorOf(res) {
  const text = await res.text();
  try {
    const body = JSON.parse(text);
    return new ApiError(res.status, String(body.code ?? res.status), String(body.message ?? text));
  } catch {
    return new ApiError(res.status, `HTTP ${res.status}`, text.slice(0, 200));
  }
}

/**
 * A JSON call; resolves the parsed body (null for 204) or throws ApiError.
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]
 * @returns {Promise<any>} the route's documented JSON (any: the shapes are in docs/service.md, not typed here)
 */
export async function api(method, path, body) {
  /** @type {Record<string, string>} */
  const headers = { ...authHeaders(), accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!res.ok) throw await errorOf(res);
  if (res.status === 204) return null;
  return res.json();
}

/** A text GET (trace log, metrics). @param {string} path @param {string} accept */
export async function getText(path, accept) {
  const res = await fetch(path, { headers: { ...authHeaders(), accept } });
  if (!res.ok) throw await errorOf(res);
  return res.text();
}

/** @param {string} reader a reader name or index */
export function readerPath(reader) {
  return `/v1/readers/${encodeURIComponent(reader)}`;
}
