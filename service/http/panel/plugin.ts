// The web control panel: the static files under panel/ served at `/` and `/panel/…`, with helmet's security
// headers and a strict Content-Security-Policy. The files hold no state; every datum comes from the REST API.

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyHelmet from '@fastify/helmet';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

/** The panel/ folder at the package root, found by walking up (the same code runs from the sources and from dist/). */
function findPanelDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'panel', 'index.html'))) return path.join(dir, 'panel');
    const up = path.dirname(dir);
    if (up === dir) throw new Error('panel/index.html not found above the service sources');
    dir = up;
  }
}

export const PANEL_DIR = findPanelDir();

/** uPlot's dist/ folder: the chart library is served from node_modules, never from a CDN. */
const UPLOT_DIR = path.dirname(createRequire(import.meta.url).resolve('uplot'));

/**
 * Only our own files run: no inline script or style, no eval, no third-party origin. connect-src 'self' also
 * covers the same-origin WebSocket (/v1/pcsc) in CSP Level 3 browsers.
 */
export const PANEL_CSP = {
  defaultSrc: ["'none'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'"],
  connectSrc: ["'self'"],
  formAction: ["'self'"],
  baseUri: ["'none'"],
  frameAncestors: ["'none'"],
  objectSrc: ["'none'"],
};

/** Registered without fastify-plugin, so helmet's hooks stay inside this context and touch no API route. */
export async function panelRoutes(app: FastifyInstance): Promise<void> {
  await app.register(fastifyHelmet, {
    contentSecurityPolicy: { useDefaults: false, directives: PANEL_CSP },
    // Same-origin only: the panel is never embedded or opened by another site.
    crossOriginResourcePolicy: { policy: 'same-origin' },
    referrerPolicy: { policy: 'no-referrer' },
    frameguard: { action: 'deny' },
    // The service speaks plain HTTP (loopback by default); HSTS would promise a TLS it does not have.
    strictTransportSecurity: false,
  });
  // wildcard: false registers one route per file at start-up: no catch-all route shadows the API's 404 answer.
  await app.register(fastifyStatic, {
    root: PANEL_DIR,
    prefix: '/panel/',
    wildcard: false,
    index: false,
    // Only what a page loads; the folder's tsconfig.json is for the type checker.
    allowedPath: (pathName) => /\.(html|js|css|svg)$/.test(pathName),
  });
  await app.register(fastifyStatic, { root: UPLOT_DIR, prefix: '/panel/vendor/uplot/', wildcard: false, index: false, decorateReply: false });
  app.get('/', { schema: { hide: true } }, (_request, reply) => reply.type('text/html; charset=utf-8').sendFile('index.html'));
}
