// Decoding of JSON `{ data, encoding }` bodies and Accept negotiation for the device routes.

import type { FastifyRequest } from 'fastify';
import { errors } from './errors.js';

export type DataEncoding = 'hex' | 'base64' | 'utf8';

export function decodeData(data: string, encoding: DataEncoding = 'hex'): Uint8Array {
  switch (encoding) {
    case 'hex':
      if (data.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(data)) throw new errors.VSCR_ERR_BAD_HEX('data');
      return Buffer.from(data, 'hex');
    case 'base64':
      // Buffer.from silently skips bad characters; check first so garbage is an error, not different bytes.
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(data) && !/^[A-Za-z0-9_-]*={0,2}$/.test(data)) throw new errors.VSCR_ERR_BAD_BASE64('data');
      if (data.replace(/=+$/, '').length % 4 === 1) throw new errors.VSCR_ERR_BAD_BASE64('data');
      return Buffer.from(data, data.includes('-') || data.includes('_') ? 'base64url' : 'base64');
    case 'utf8':
      return Buffer.from(data, 'utf8');
  }
}

export type AnswerForm = 'json' | 'raw';

/**
 * Picks JSON or raw bytes from the Accept header by q-value; `fallback` when Accept is absent, a wildcard, or a
 * tie. Throws 406 when Accept names neither (nor a wildcard).
 */
export function answerForm(request: FastifyRequest, fallback: AnswerForm): AnswerForm {
  const accept = request.headers.accept;
  if (accept === undefined || accept.trim() === '') return fallback;
  let json = -1;
  let raw = -1;
  let wildcard = -1;
  for (const part of accept.split(',')) {
    const [type, ...params] = part.trim().toLowerCase().split(';').map((s) => s.trim());
    const qParam = params.find((p) => p.startsWith('q='));
    const q = qParam === undefined ? 1 : Number(qParam.slice(2));
    if (!Number.isFinite(q)) continue;
    if (type === 'application/json') json = Math.max(json, q);
    else if (type === 'application/octet-stream') raw = Math.max(raw, q);
    else if (type === '*/*' || type === 'application/*') wildcard = Math.max(wildcard, q);
  }
  if (json <= 0 && raw <= 0 && wildcard <= 0) throw new errors.VSCR_ERR_NOT_ACCEPTABLE(accept, 'application/octet-stream');
  if (json > raw) return 'json';
  if (raw > json) return 'raw';
  return fallback;
}
