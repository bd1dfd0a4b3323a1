// The panel's static files: served at / and /panel/ without a token, with a strict CSP that API answers do not get.

import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, json, startTestService, type TestService } from '../integration/harness.js';

const TOKEN = 'panel-token-5678';
let svc: TestService;

beforeAll(async () => {
  svc = await startTestService({ token: TOKEN, readers: 1 });
});
afterAll(async () => {
  await svc?.close();
});

/** A GET with the path sent exactly as written (fetch would resolve the dot-segments first). */
function rawGet(base: string, path: string): Promise<number> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path, method: 'GET' }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('panel files', () => {
  it('serves the shell at / without a token, with a strict Content-Security-Policy', async () => {
    const res = await http(svc.url, '/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toBe(
      "default-src 'none';script-src 'self';style-src 'self';img-src 'self';connect-src 'self';form-action 'self';base-uri 'none';frame-ancestors 'none';object-src 'none'");
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('strict-transport-security')).toBeNull();
    const html = await res.text();
    expect(html).toContain('<script type="module" src="/panel/js/main.js"></script>');
    expect(html).not.toMatch(/<script>|style="/);
  });

  it('serves the modules as JavaScript, and uPlot from node_modules', async () => {
    for (const path of ['/panel/js/main.js', '/panel/vendor/uplot/uPlot.esm.js']) {
      const res = await http(svc.url, path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type'), path).toMatch(/^(text|application)\/javascript/);
    }
    expect((await http(svc.url, '/panel/vendor/uplot/uPlot.min.css')).headers.get('content-type')).toMatch(/^text\/css/);
    // The type checker's config sits in the folder but is not a page resource.
    expect((await http(svc.url, '/panel/tsconfig.json')).status).toBe(404);
  });

  it('keeps the API behind the token and free of the panel headers', async () => {
    expect((await json(svc.url, '/v1/profiles')).status).toBe(401);
    const ok = await json<{ profiles: string[] }>(svc.url, '/v1/profiles', { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.status).toBe(200);
    expect(ok.body.profiles[0]).toBe('default');
    expect(ok.body.profiles).toContain('t1-only');
    expect(ok.headers.get('content-security-policy')).toBeNull();
  });

  it('an unknown panel file is the API 404, and a path that only starts with /panel/ is not public', async () => {
    const missing = await json(svc.url, '/panel/nope.js');
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ code: 'VSCR_ERR_NOT_FOUND' });
    for (const path of ['/panel/../v1/readers', '/panel/%2e%2e/v1/readers', '/panel/..%2fv1/readers']) {
      expect(await rawGet(svc.url, path), path).toBe(401);
    }
    expect((await http(svc.url, '/docs/json')).status).toBe(200);
  });
});
