// buildApp(): the fastify application (logging, auth, errors, OpenAPI, route plugins), separate from listen().

import fastifySwagger from '@fastify/swagger';
import fastifyWebsocket from '@fastify/websocket';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { AppContext } from './context.js';
import { installAuth, redactUrl } from './auth.js';
import { clientErrorHandler, frameworkErrorHandler, installErrorHandling, MAX_PARAM_LENGTH } from './error-handler.js';
import { deviceRoutes } from './routes/devices.js';
import { deviceFaultRoutes } from './routes/device-faults.js';
import { eventRoutes } from './routes/events.js';
import { healthRoutes } from './routes/health.js';
import { faultRoutes } from './routes/faults.js';
import { pinpadRoutes } from './routes/pinpad.js';
import { readerRoutes } from './routes/readers.js';
import { simRoutes } from './routes/sim.js';
import { pcscRpcRoutes } from './routes/pcsc-rpc.js';
import { profileRoutes } from './routes/profiles.js';
import { panelRoutes } from './panel/plugin.js';
import { errorSchema } from './schemas.js';
import { errors } from './errors.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../rpc/json-rpc/index.js';
import { FaultHost } from '../runtime/faults.js';
import { lazySerializerFactory, lazyValidatorFactory } from './lazy-schema-compilers.js';

/** A connection with no traffic at all for this long is closed (SSE sends a heartbeat every 15 s). */
const HTTP_IDLE_TIMEOUT_MS = 120_000;

export async function buildApp(ctx: AppContext): Promise<FastifyInstance> {
  // Typed as fastify's logger interface so the instance type stays the default FastifyInstance.
  const loggerInstance: FastifyBaseLogger = ctx.logger.child({ component: 'http' }, {
      serializers: {
        // fastify's default request serializer logs the URL; keep access tokens out of it.
        req: (req: { method?: string; url?: string; ip?: string; socket?: { remotePort?: number } }) => ({
          method: req.method,
          url: redactUrl(req.url ?? ''),
          remoteAddress: req.ip,
          remotePort: req.socket?.remotePort,
        }),
      },
    });
  const app = Fastify({
    loggerInstance,
    bodyLimit: ctx.config.jsonBodyLimit,
    // Idle keep-alive sockets are closed on close(); in-flight requests finish first.
    forceCloseConnections: 'idle',
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: true } },
    // Each route's validator and serializer is compiled at its first request, not at start-up.
    schemaController: { compilersFactory: { buildValidator: lazyValidatorFactory(), buildSerializer: lazySerializerFactory() } },
    // Reader names carry spaces and may be long.
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // Bounded time to send a request: a stalled or trickling body is answered 408 and its guest memory freed.
    // Whole-request, so SSE streams and WebSockets (which have sent their request) are unaffected; the socket
    // idle limit catches a peer that goes silent anywhere else.
    requestTimeout: ctx.config.httpRequestTimeoutMs,
    connectionTimeout: HTTP_IDLE_TIMEOUT_MS,
    // Given to node's server constructor too: node 20 only enforces a requestTimeout it was constructed with
    // (fastify sets it afterwards). Deadlines are checked on an interval (default 30 s), which bounds how late.
    http: {
      // node would answer a missing Host with a bare 400; the hook below answers it in the documented shape.
      requireHostHeader: false,
      requestTimeout: ctx.config.httpRequestTimeoutMs,
      connectionsCheckingInterval: Math.min(30_000, Math.max(100, Math.floor(ctx.config.httpRequestTimeoutMs / 4))),
    },
    // Each request's logger is a pino child with the request id only: pino's fast path (no options object). With
    // fastify's default the child gets `{}` as options and rebuilds its formatters on every request.
    childLoggerFactory: (logger, bindings, options) => (Object.keys(options).length === 0 ? logger.child(bindings) : logger.child(bindings, options)),
    frameworkErrors: frameworkErrorHandler,
    clientErrorHandler: clientErrorHandler(ctx.config.httpRequestTimeoutMs, ctx.logger.child({ component: 'http' })),
  });

  app.addSchema(errorSchema);
  // Registered at the root and BEFORE the auth hook: its onRequest hook marks upgrade requests, so when auth
  // refuses one (401) its onResponse hook destroys the raw socket instead of leaving it open forever.
  // maxPayload is 4× the JSON-RPC message limit so the transport can answer an oversize frame itself.
  await app.register(fastifyWebsocket, { options: { maxPayload: 4 * DEFAULT_MAX_MESSAGE_BYTES } });
  installAuth(app, ctx);
  installErrorHandling(app, ctx);
  app.addHook('onRequest', (request, _reply, done) => {
    if (request.raw.httpVersion === '1.1' && request.headers.host === undefined) done(new errors.VSCR_ERR_BAD_REQUEST('HTTP/1.1 requires a Host header'));
    else done();
  });

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'vscr',
        description: 'Virtual smart card reader, virtual card and emulated PCI crypto device. Errors: docs/errors.md.',
        version: ctx.version,
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: ctx.config.token === null ? [] : [{ bearer: [] }],
    },
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });

  await app.register(healthRoutes, { ctx });
  await app.register(deviceRoutes, { ctx });
  await app.register(readerRoutes, { ctx });
  await app.register(simRoutes, { ctx });
  await app.register(pinpadRoutes, { ctx });
  // One fault host for REST and JSON-RPC: it wires each reader's fault hooks once.
  const faults = new FaultHost(ctx.readers, () => ctx.rm, ctx.metrics, ctx.logger.child({ component: 'faults' }));
  await app.register(faultRoutes, { ctx, faults });
  await app.register(deviceFaultRoutes, { ctx });
  await app.register(eventRoutes, { ctx });
  await app.register(pcscRpcRoutes, { ctx, faults });
  await app.register(profileRoutes, { ctx });
  await app.register(panelRoutes);
  return app;
}
