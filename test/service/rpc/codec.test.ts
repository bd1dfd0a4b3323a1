// The pure JSON-RPC codec: frame parsing, request validation, params and hex round trips.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { InvalidParamsError, JSONRPC_ERROR, ParamReader, decodeHex, encodeHex, parseFrame, validateRequest } from '../../../service/rpc/json-rpc/codec.js';

describe('codec', () => {
  it('hex round-trips and encodes lowercase', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
        const h = encodeHex(b);
        expect(h).toBe(h.toLowerCase());
        expect(decodeHex(h)).toEqual(b);
        expect(decodeHex(h.toUpperCase())).toEqual(b);
      }),
    );
    expect(decodeHex('abc')).toBeNull();
    expect(decodeHex('0x00')).toBeNull();
    expect(decodeHex('')).toEqual(new Uint8Array(0));
  });

  it('parses frames', () => {
    expect(parseFrame('nope')).toMatchObject({ kind: 'invalid', response: { id: null, error: { code: JSONRPC_ERROR.PARSE_ERROR } } });
    expect(parseFrame('[]')).toMatchObject({ kind: 'invalid', response: { error: { code: JSONRPC_ERROR.INVALID_REQUEST } } });
    expect(parseFrame('{"jsonrpc":"2.0","id":3,"method":"m"}')).toEqual({ kind: 'single', item: { ok: true, request: { id: 3, method: 'm', params: {} } } });
    const batch = parseFrame('[{"jsonrpc":"2.0","method":"n","params":{"a":1}}, 1]');
    expect(batch).toMatchObject({ kind: 'batch', items: [{ ok: true, request: { id: undefined, method: 'n', params: { a: 1 } } }, { ok: false }] });
  });

  it('validates request objects', () => {
    expect(validateRequest({ jsonrpc: '2.0', id: 1, method: 'm', params: [1] })).toMatchObject({ ok: false, response: { id: 1, error: { code: JSONRPC_ERROR.INVALID_PARAMS } } });
    expect(validateRequest({ jsonrpc: '2.0', id: true, method: 'm' })).toMatchObject({ ok: false, response: { id: null, error: { code: JSONRPC_ERROR.INVALID_REQUEST } } });
    expect(validateRequest({ id: 'z', method: 'm' })).toMatchObject({ ok: false, response: { id: 'z', error: { code: JSONRPC_ERROR.INVALID_REQUEST } } });
    expect(validateRequest({ jsonrpc: '2.0', id: null, method: 'm' })).toEqual({ ok: true, request: { id: null, method: 'm', params: {} } });
  });

  it('reads params with named errors', () => {
    const p = new ParamReader({ a: 5, big: 0x100000000, s: 'x', h: 'A0b1', arr: [{ k: 1 }], o: { d: 2 } });
    expect(p.u32('a')).toBe(5);
    expect(() => p.u32('big')).toThrow(InvalidParamsError);
    expect(() => p.u32('missing')).toThrow(/"missing" is required/);
    expect(p.optU32('missing', 264)).toBe(264);
    expect(p.string('s')).toBe('x');
    expect(p.hex('h')).toEqual(Uint8Array.of(0xa0, 0xb1));
    expect(() => p.hex('s')).toThrow(/"s" is not valid hex/);
    expect(p.objectArray('arr', 2)[0].u32('k')).toBe(1);
    expect(() => p.objectArray('arr', 0)).toThrow(/more than 0/);
    expect(p.object('o').u32('d')).toBe(2);
    expect(p.optStringArray('nothing')).toBeNull();
    expect(() => p.optStringArray('arr')).toThrow(InvalidParamsError);
  });
});
