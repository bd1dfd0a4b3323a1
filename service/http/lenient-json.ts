// A JSON body parser that reads an empty body as "no body" (many clients send Content-Type: application/json
// with nothing after it); anything else goes through fastify's own safe parser (prototype-poisoning checks).

import type { FastifyInstance } from 'fastify';
import { errors } from './errors.js';

/** JSON.parse accepts it: so a refusal by fastify's parser was its prototype-poisoning check, not the syntax. */
function parsesAsJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** Replaces the JSON parser in the calling (encapsulated) context only. */
export function useLenientJsonParser(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') done(null, undefined);
    else {
      parseJson(request, text, (err, body) => {
        if (err !== null && parsesAsJson(text)) done(new errors.VSCR_ERR_VALIDATION('the body must not contain "__proto__" or "constructor.prototype" keys'), undefined);
        else done(err, body);
      });
    }
  });
}
