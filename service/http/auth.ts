// Bearer-token check (when a token is configured) and the shutdown gate, run before routing on every request.

import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppContext } from './context.js';
import { errors } from './errors.js';

/**
 * Liveness, the API description and the panel's static files stay reachable without a token: they reveal no
 * state (the panel asks for the token and sends it with every API call).
 */
function isPublic(url: string): boolean {
  const path = url.split('?')[0];
  if (path === '/health' || path === '/docs' || path.startsWith('/docs/') || path === '/') return true;
  // Panel files have plain names: a dot-segment or an escape is never public, whatever the router makes of it.
  return path.startsWith('/panel/') && !path.includes('..') && !path.includes('%');
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/**
 * The token from `Authorization: Bearer …`, or from `?access_token=` for clients that cannot set headers
 * (browser EventSource and WebSocket).
 */
function presentedToken(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (typeof header === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    return m ? m[1] : null;
  }
  const query = request.query as Record<string, unknown> | undefined;
  const q = query?.access_token;
  return typeof q === 'string' ? q : null;
}

export function installAuth(app: FastifyInstance, ctx: AppContext): void {
  const expected = ctx.config.token === null ? null : digest(ctx.config.token);
  // A callback hook, not an async one: it runs on every request, and needs no promise and no extra tick.
  app.addHook('onRequest', (request, _reply, done) => {
    if (ctx.shuttingDown()) return done(new errors.VSCR_ERR_SHUTTING_DOWN());
    if (expected === null || isPublic(request.url)) return done();
    const token = presentedToken(request);
    // Compare digests so the comparison is constant-time whatever the lengths.
    if (token === null || !timingSafeEqual(digest(token), expected)) return done(new errors.VSCR_ERR_UNAUTHORIZED());
    done();
  });
}

/** The URL as it may be logged: never with an access token in it. */
export function redactUrl(url: string): string {
  return url.replace(/([?&]access_token=)[^&]*/gi, '$1[Redacted]');
}
