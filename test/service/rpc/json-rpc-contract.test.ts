// The /v1/pcsc method table is defined once (service/contract/json-rpc.ts): the service has a handler for exactly
// the methods docs/json-rpc.md lists, and a param name the contract lacks does not compile (the @ts-expect-error
// lines below fail `npm run typecheck` the day the contract accepts them).

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { VSCR_METHODS, type PcscMethod, type PcscParams } from '../../../service/contract/json-rpc.js';
import { InvalidParamsError, ParamReader } from '../../../service/rpc/json-rpc/codec.js';
import { METHODS } from '../../../service/rpc/json-rpc/methods.js';
import { deviceFaultMethods } from '../../../service/rpc/json-rpc/device-fault-methods.js';
import { faultMethods } from '../../../service/rpc/json-rpc/fault-methods.js';

describe('the JSON-RPC method contract', () => {
  it('the service handles exactly the methods docs/json-rpc.md lists, in its order', () => {
    const doc = readFileSync(new URL('../../../docs/json-rpc.md', import.meta.url), 'utf8');
    const documented = [...doc.matchAll(/^\| `([A-Za-z][\w.]*)` \|/gm)].map((m) => m[1]);
    expect(documented.length).toBeGreaterThan(10);
    // The winscard calls, then vscr's own methods; each vscr table serves exactly the names the contract lists.
    const readerFaults = Object.keys(faultMethods({} as Parameters<typeof faultMethods>[0]));
    const deviceFaults = Object.keys(deviceFaultMethods({} as Parameters<typeof deviceFaultMethods>[0]));
    expect(readerFaults).toEqual([...VSCR_METHODS.readerFault]);
    expect(deviceFaults).toEqual([...VSCR_METHODS.deviceFault]);
    expect([...Object.keys(METHODS), ...readerFaults, ...deviceFaults]).toEqual(documented);
  });

  it('a typed reader reads the contract\'s params and names the one that is missing', () => {
    const p = new ParamReader<PcscParams<'SCardTransmit'>>({ hCard: 7, pioSendPci: { dwProtocol: 2 }, pbSendBuffer: '00A4' });
    expect(p.u32('hCard')).toBe(7);
    expect(p.object('pioSendPci').u32('dwProtocol')).toBe(2);
    expect([...p.hex('pbSendBuffer')]).toEqual([0x00, 0xa4]);
    expect(p.optU32('cbRecvLength', 65548)).toBe(65548);
    // @ts-expect-error SCardTransmit has no dwScope param
    expect(() => p.u32('dwScope')).toThrow(new InvalidParamsError('Invalid params: "dwScope" is required'));
    // @ts-expect-error hCard is a number, not a string
    expect(() => p.string('hCard')).toThrow(InvalidParamsError);
    const states = new ParamReader<PcscParams<'SCardGetStatusChange'>>({ rgReaderStates: [{ szReader: 'r', dwCurrentState: 0 }] }).objectArray('rgReaderStates', 4);
    expect(states[0].string('szReader')).toBe('r');
    // @ts-expect-error an entry has szReader, not szReaderName
    expect(() => states[0].string('szReaderName')).toThrow(InvalidParamsError);
  });

  it('every method name is a contract name', () => {
    const names: PcscMethod[] = Object.keys(METHODS) as PcscMethod[];
    // @ts-expect-error names are case-sensitive, as the server's -32601 is
    const wrong: PcscMethod = 'scardConnect';
    expect(names).not.toContain(wrong);
    expect(names).toContain('SCardConnect' satisfies PcscMethod);
  });
});
