// The single place where any failure becomes the REST error shape: registry errors pass through, fastify's own
// errors and NtStatusErrors are mapped, 5xx are logged at error and 4xx at info, and 4xx are counted.

import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { NtStatusError } from '../../kernel/ntstatus.js';
import { CardProfileError, CardStateError } from '../../smcard/card/index.js';
import { METRIC } from '../runtime/metrics.js';
import type { AppContext } from './context.js';
import { errors, fromNtStatus, isRegistryError, type VscrError } from './errors.js';
import { isRawBody } from './raw-body.js';

export interface ErrorBody {
  error: string;
  code: string;
  message: string;
  ntstatus?: string;
  scard?: string;
}

function toVscrError(err: FastifyError | Error, request: FastifyRequest): VscrError {
  if (isRegistryError(err)) return err;
  if (err instanceof NtStatusError) return fromNtStatus(err, (request.params as { id?: string } | undefined)?.id ?? '?');
  // The card layer's host-side errors are operator problems (a broken profile or state file), not the client's.
  if (err instanceof CardProfileError) return new errors.VSCR_ERR_CARD_PROFILE(err.message);
  if (err instanceof CardStateError) return new errors.VSCR_ERR_CARD_STATE(err.message);
  const fe = err as FastifyError;
  if (fe.validation !== undefined) return new errors.VSCR_ERR_VALIDATION(fe.message);
  switch (fe.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new errors.VSCR_ERR_BAD_JSON(fe.message);
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new errors.VSCR_ERR_BODY_TOO_LARGE(String(request.routeOptions.bodyLimit ?? '?'));
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new errors.VSCR_ERR_UNSUPPORTED_MEDIA_TYPE(JSON.stringify(request.headers['content-type'] ?? ''));
    default:
      break;
  }
  // fastify's JSON parser may surface a plain SyntaxError tagged 400.
  if (err instanceof SyntaxError && fe.statusCode === 400) return new errors.VSCR_ERR_BAD_JSON(err.message);
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) return new errors.VSCR_ERR_BAD_REQUEST(fe.message);
  return new errors.VSCR_ERR_INTERNAL(request.id);
}

export function errorBody(e: VscrError): ErrorBody {
  const status = e.statusCode ?? 500;
  const body: ErrorBody = { error: STATUS_CODES[status] ?? 'Error', code: e.code, message: e.message };
  if (e.ntstatus !== undefined) body.ntstatus = e.ntstatus;
  if (e.scard !== undefined) body.scard = e.scard;
  return body;
}

export function installErrorHandling(app: FastifyInstance, ctx: AppContext): void {
  const rejected = new Map<string, number>();

  app.setErrorHandler((err: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) => {
    const e = toVscrError(err, request);
    const status = e.statusCode ?? 500;
    if (status >= 500) request.log.error({ err, code: e.code }, 'request failed');
    else request.log.info({ code: e.code, detail: e.message }, 'request rejected');
    // The client may still be sending a body we will never read; closing is cheaper than draining it.
    const body: unknown = request.body;
    if (status === 413 || e.code === 'VSCR_ERR_BODY_INCOMPLETE' || (isRawBody(body) && !body.readableEnded)) reply.header('connection', 'close');
    if (status === 401) reply.header('www-authenticate', 'Bearer');
    return reply.code(status).type('application/json').send(errorBody(e));
  });

  app.setNotFoundHandler((request, reply) => {
    const e = new errors.VSCR_ERR_NOT_FOUND(request.method, request.url.split('?')[0]);
    request.log.info({ code: e.code }, 'request rejected');
    return reply.code(404).type('application/json').send(errorBody(e));
  });

  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    ctx.metrics.inc(...METRIC.httpRequests, { method: request.method, route, status: reply.statusCode });
    if (reply.statusCode >= 400 && reply.statusCode < 500) {
      ctx.metrics.inc(...METRIC.httpBadRequests, { status: reply.statusCode });
      rejected.set(String(reply.statusCode), (rejected.get(String(reply.statusCode)) ?? 0) + 1);
    }
    done();
  });

  // A periodic line, not one per request, so a flood of bad requests stays visible without flooding the log.
  if (ctx.config.badRequestLogIntervalMs > 0) {
    const timer = setInterval(() => {
      if (rejected.size === 0) return;
      const byStatus = Object.fromEntries(rejected);
      const total = [...rejected.values()].reduce((a, b) => a + b, 0);
      rejected.clear();
      ctx.logger.info({ rejected: total, byStatus, intervalMs: ctx.config.badRequestLogIntervalMs }, 'rejected requests in the last interval');
    }, ctx.config.badRequestLogIntervalMs);
    timer.unref();
    app.addHook('onClose', async () => clearInterval(timer));
  }
}

/** Longest path parameter the router takes (reader names are at most 128 bytes; an index is 4 digits). */
export const MAX_PARAM_LENGTH = 256;

/**
 * Errors fastify raises before routing (a path that is not valid percent-encoding, a parameter over
 * MAX_PARAM_LENGTH): answered in the documented shape instead of fastify's own, never echoing the path.
 */
export function frameworkErrorHandler(err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const e = err.code === 'FST_ERR_BAD_URL'
    ? new errors.VSCR_ERR_BAD_URL()
    : err.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? new errors.VSCR_ERR_URI_TOO_LONG(String(MAX_PARAM_LENGTH))
      : new errors.VSCR_ERR_BAD_REQUEST(err.code);
  request.log.info({ code: e.code }, 'request rejected');
  void reply.code(e.statusCode ?? 400).type('application/json').send(errorBody(e));
}

/**
 * Node's HTTP parser and timers reject some requests before fastify sees them: a request that did not arrive
 * in full within `requestTimeoutMs`, headers over the size limit, a bad or duplicated Content-Length,
 * Content-Length together with chunked encoding. They get the documented shape too, then the socket closes.
 */
export function clientErrorHandler(requestTimeoutMs: number, log: { debug(obj: object, msg: string): void }): (err: NodeJS.ErrnoException, socket: Socket) => void {
  return (err, socket) => {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    const e = err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? new errors.VSCR_ERR_REQUEST_TIMEOUT(String(requestTimeoutMs))
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? new errors.VSCR_ERR_HEADERS_TOO_LARGE()
        : new errors.VSCR_ERR_BAD_HTTP(/^[A-Z_]+$/.test(err.code ?? '') ? err.code! : 'parse error');
    log.debug({ code: e.code, cause: err.code }, 'client error');
    const status = e.statusCode ?? 400;
    const body = JSON.stringify(errorBody(e));
    if (socket.writable) {
      socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    }
    socket.destroy();
  };
}
