// The REST error registry: each key equals its code, has a 4xx/5xx status, and is documented in docs/errors.md.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { NtStatusError, NTSTATUS } from '../../../kernel/ntstatus.js';
import { errors, fromNtStatus, NTSTATUS_HTTP } from '../../../service/http/errors.js';

const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');

describe('error registry', () => {
  it('every key equals its code and has an error status', () => {
    for (const [key, ctor] of Object.entries(errors)) {
      const e = new ctor('a', 'b', 'c');
      expect(e.code).toBe(key);
      expect(e.statusCode).toBeGreaterThanOrEqual(400);
      expect(e.statusCode).toBeLessThan(600);
    }
  });

  it('docs/errors.md lists every code with its HTTP status', () => {
    for (const [key, ctor] of Object.entries(errors)) {
      const status = new ctor().statusCode;
      expect(doc, key).toMatch(new RegExp(`\\| \`${key}\` \\| ${status} \\|`));
    }
  });

  it('docs/errors.md documents no code the registry lacks', () => {
    const documented = [...doc.matchAll(/^\| `(VSCR_ERR_[A-Z_]+)` \| \d{3} \|/gm)].map((m) => m[1]);
    expect(documented.length).toBeGreaterThan(0);
    expect(documented.filter((code) => !(code in errors))).toEqual([]);
    expect(new Set(documented).size).toBe(documented.length);
  });

  it('docs/errors.md lists every NTSTATUS mapping', () => {
    for (const [name, code] of Object.entries(NTSTATUS_HTTP)) expect(doc).toMatch(new RegExp(`\\| \`${name}\` \\| \`${code}\` \\|`));
  });

  it('maps NTSTATUS to HTTP', () => {
    expect(fromNtStatus(new NtStatusError(NTSTATUS.STATUS_DEVICE_BUSY), 0)).toMatchObject({ statusCode: 503, code: 'VSCR_ERR_DEVICE_BUSY', ntstatus: 'STATUS_DEVICE_BUSY' });
    expect(fromNtStatus(new NtStatusError(NTSTATUS.STATUS_INVALID_USER_BUFFER), 0)).toMatchObject({ statusCode: 400, code: 'VSCR_ERR_DEVICE_BAD_REQUEST' });
    const data = fromNtStatus(new NtStatusError(NTSTATUS.STATUS_DEVICE_DATA_ERROR), 3);
    expect(data).toMatchObject({ statusCode: 502, code: 'VSCR_ERR_DEVICE_DATA_ERROR' });
    expect(data.message).toContain('/v1/devices/3/reset');
    expect(fromNtStatus(new NtStatusError(NTSTATUS.STATUS_NO_MEDIA), 0)).toMatchObject({ statusCode: 500, code: 'VSCR_ERR_DEVICE_FAILURE', ntstatus: 'STATUS_NO_MEDIA' });
  });
});
