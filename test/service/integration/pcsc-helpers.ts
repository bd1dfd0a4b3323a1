// PC/SC helpers for the service suites: contexts, connections and the crypto applet APDUs (smcard/card/APDUS.md).

import { SCARD_PROTOCOL, SCARD_SHARE } from '../../../service/contract/pcsclite.js';
import { json, type RpcClient } from './harness.js';

export const READER0 = 'vscr Virtual Reader 00 00';
export const READER1 = 'vscr Virtual Reader 01 00';
/** SELECT by DF name of the crypto applet F0 "vscr" 01, P2=0C: no response data. */
export const SELECT_CRYPTO_APPLET = '00a4040c06f07673637201';
/** PSO: HASH (ISO 7816-8, P1P2 = 90 80) of "123", Le = 00. */
export const PSO_HASH_123 = '002a908003313233' + '00';

export async function establish(c: RpcClient): Promise<number> {
  const r = await c.result('SCardEstablishContext', { dwScope: 2 });
  if (r.rv !== 0) throw new Error(`SCardEstablishContext rv=0x${r.rv.toString(16)}`);
  return r.hContext as number;
}

export async function connect(c: RpcClient, hContext: number, reader = READER0, share: number = SCARD_SHARE.SHARED): Promise<{ rv: number; hCard: number; protocol: number }> {
  const r = await c.result('SCardConnect', { hContext, szReader: reader, dwShareMode: share, dwPreferredProtocols: SCARD_PROTOCOL.T0 | SCARD_PROTOCOL.T1 });
  return { rv: r.rv, hCard: r.hCard as number, protocol: r.dwActiveProtocol as number };
}

/** One APDU; follows 61xx with GET RESPONSE (T=0 case 4) so callers see the final response. */
export async function transmit(c: RpcClient, hCard: number, protocol: number, apduHex: string): Promise<{ rv: number; data: string; sw: string }> {
  let r = await c.result('SCardTransmit', { hCard, pioSendPci: { dwProtocol: protocol }, pbSendBuffer: apduHex });
  if (r.rv !== 0) return { rv: r.rv, data: '', sw: '' };
  let resp = r.pbRecvBuffer as string;
  if (resp.length === 4 && resp.startsWith('61')) {
    r = await c.result('SCardTransmit', { hCard, pioSendPci: { dwProtocol: protocol }, pbSendBuffer: `00c00000${resp.slice(2)}` });
    if (r.rv !== 0) return { rv: r.rv, data: '', sw: '' };
    resp = r.pbRecvBuffer as string;
  }
  return { rv: 0, data: resp.slice(0, -4), sw: resp.slice(-4) };
}

/** SELECT the crypto applet and hash "123" on the card; returns the digest hex (and checks every SW). */
export async function cardHash123(c: RpcClient, hCard: number, protocol: number): Promise<string> {
  const sel = await transmit(c, hCard, protocol, SELECT_CRYPTO_APPLET);
  if (sel.rv !== 0 || sel.sw !== '9000') throw new Error(`SELECT: rv=0x${sel.rv.toString(16)} sw=${sel.sw}`);
  const h = await transmit(c, hCard, protocol, PSO_HASH_123);
  if (h.rv !== 0 || h.sw !== '9000') throw new Error(`PSO HASH: rv=0x${h.rv.toString(16)} sw=${h.sw}`);
  return h.data;
}

/** Resolves true if `p` settles within `ms`, false otherwise (to check that a call is still blocked). */
export async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const r = await Promise.race([p.then(() => true, () => true), new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), ms); })]);
  clearTimeout(timer);
  return r;
}

/**
 * A fresh card in reader 1 and a shared connection to it on `rpc`'s own context (the fault suites' setting).
 * Throws rather than using vitest's expect: the benchmarks import this module outside vitest.
 */
export async function connectFreshCardInReader1(url: string, rpc: RpcClient): Promise<{ hContext: number; card: { hCard: number; protocol: number } }> {
  const inserted = await json(url, '/v1/readers/1/card', { method: 'POST', json: {} });
  if (inserted.status !== 201) throw new Error(`card insert answered HTTP ${inserted.status}, expected 201`);
  const hContext = await establish(rpc);
  const c = await connect(rpc, hContext, READER1);
  if (c.rv !== 0) throw new Error(`SCardConnect answered 0x${c.rv.toString(16)}, expected SCARD_S_SUCCESS`);
  return { hContext, card: c };
}
