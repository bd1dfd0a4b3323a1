// Bounded fuzz of the pcsc-lite wire protocol: valid frames of a real session (handles filled in) are mutated
// and sent over the UNIX socket to a server on the real reader stack. Counts cases, crashes (an error logged
// by the server, an uncaught exception) and hangs (a fresh client not served within 5 s).

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  beginStruct,
  Command,
  connectStruct,
  controlStruct,
  disconnectStruct,
  encodeRequest,
  endStruct,
  establishStruct,
  getsetStruct,
  releaseStruct,
  startPcscLiteServer,
  statusStruct,
  transmitStruct,
  versionStruct,
  waitReaderStateChange,
  type PcscLiteServer,
} from '../../service/pcsclite/index.js';
import { makeStack, withTimeout, type Stack } from '../support/rm-stack.js';
import { WireClient } from '../service/pcsclite/wire-client.js';
import { caseCount, concat, mutate, prng, seed } from './mutator.js';

const R0 = 'vscr Virtual Reader 00 00';
const CASES = caseCount(3000);
const BATCH = 25;

let stack: Stack;
let server: PcscLiteServer;
let dir: string;
const errors: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vscr-fz-'));
  stack = await makeStack({ readers: [{}, {}], cardsIn: [0] });
  const logger = pino({ level: 'error' }, { write: (line: string) => void errors.push(line) });
  server = await startPcscLiteServer({ rm: stack.rm, socketPath: join(dir, 'pcscd.comm'), frameTimeoutMs: 200, idleTimeoutMs: 500, logger });
});
afterAll(async () => {
  await server?.close();
  await stack?.close();
  await rm(dir, { recursive: true, force: true });
});

/** The frames of a session after VERSION and ESTABLISH, with this connection's hContext and hCard. */
function sessionFrames(hContext: number, hCard: number): Uint8Array[] {
  const apdu = Uint8Array.from(Buffer.from('00A4040006F0767363720100', 'hex'));
  return [
    encodeRequest(Command.CMD_VERSION, versionStruct.encode({ major: 4, minor: 4, rv: 0 })),
    encodeRequest(Command.SCARD_ESTABLISH_CONTEXT, establishStruct.encode({ dwScope: 2, hContext: 0, rv: 0 })),
    encodeRequest(Command.SCARD_CONNECT, connectStruct.encode({ hContext, szReader: R0, dwShareMode: 2, dwPreferredProtocols: 3, hCard: 0, dwActiveProtocol: 0, rv: 0 })),
    encodeRequest(Command.SCARD_TRANSMIT, transmitStruct.encode({ hCard, ioSendPciProtocol: 2, ioSendPciLength: 16, cbSendLength: apdu.length, ioRecvPciProtocol: 2, ioRecvPciLength: 16, pcbRecvLength: 258, rv: 0 }), apdu),
    encodeRequest(Command.SCARD_STATUS, statusStruct.encode({ hCard, rv: 0 })),
    encodeRequest(Command.CMD_GET_READERS_STATE),
    encodeRequest(Command.SCARD_BEGIN_TRANSACTION, beginStruct.encode({ hCard, rv: 0 })),
    encodeRequest(Command.SCARD_END_TRANSACTION, endStruct.encode({ hCard, dwDisposition: 0, rv: 0 })),
    encodeRequest(Command.SCARD_CONTROL, controlStruct.encode({ hCard, dwControlCode: 0x42000d48, cbSendLength: 0, cbRecvLength: 256, dwBytesReturned: 0, rv: 0 })),
    encodeRequest(Command.SCARD_GET_ATTRIB, getsetStruct.encode({ hCard, dwAttrId: 0x00090303, pbAttr: new Uint8Array(0), cbAttrLen: 264, rv: 0 })),
    encodeRequest(Command.CMD_WAIT_READER_STATE_CHANGE, waitReaderStateChange.encode({ timeOut: 0, rv: 0 })),
    encodeRequest(Command.CMD_STOP_WAITING_READER_STATE_CHANGE, waitReaderStateChange.encode({ timeOut: 0, rv: 0 })),
    encodeRequest(Command.SCARD_DISCONNECT, disconnectStruct.encode({ hCard, dwDisposition: 0, rv: 0 })),
    encodeRequest(Command.SCARD_RELEASE_CONTEXT, releaseStruct.encode({ hContext, rv: 0 })),
  ];
}

/** One case: a real session, then valid frames with one mutated among them, sent in one write; then EOF. */
async function runCase(rand: () => number): Promise<void> {
  const c = await WireClient.open(server.socketPath);
  try {
    const hContext = await c.context();
    const con = await c.connect(hContext, R0);
    const frames = sessionFrames(hContext, con.hCard);
    const pick = (): Uint8Array => frames[Math.floor(rand() * frames.length)];
    const target = pick();
    const sequence = [...Array.from({ length: Math.floor(rand() * 3) }, pick), mutate(target, rand, pick()), ...Array.from({ length: Math.floor(rand() * 2) }, pick)];
    c.socket.end(concat(...sequence));
  } finally {
    // The server answers or closes on its own; the client side just goes.
    setTimeout(() => c.destroy(), 50).unref();
  }
}

async function alive(): Promise<boolean> {
  try {
    const c = await WireClient.open(server.socketPath, 5000);
    try {
      await withTimeout(c.context(), 5000, 'VERSION + ESTABLISH');
      return (await withTimeout(c.readerStates(), 5000, 'GET_READERS_STATE')).length > 0;
    } finally {
      c.destroy();
    }
  } catch {
    return false;
  }
}

describe('pcsc-lite wire fuzz', () => {
  it(`${CASES} mutated frames: no crash, no hang`, async () => {
    const rand = prng(seed());
    const uncaught: unknown[] = [];
    const onUncaught = (err: unknown): void => void uncaught.push(err);
    process.on('uncaughtException', onUncaught);
    let cases = 0;
    let hangs = 0;
    try {
      while (cases < CASES) {
        const n = Math.min(BATCH, CASES - cases);
        await Promise.all(Array.from({ length: n }, () => runCase(rand).catch(() => undefined)));
        cases += n;
        if (!(await alive())) {
          hangs++;
          break;
        }
      }
      // Let the last connections finish on the server side.
      await withTimeout((async () => {
        while (server.connectionCount() > 0) await new Promise((r) => setTimeout(r, 20));
      })(), 10_000, 'every fuzz connection closed');
    } finally {
      process.off('uncaughtException', onUncaught);
    }
    const crashes = errors.length + uncaught.length;
    console.log(`pcsc-lite wire fuzz: seed ${seed()}, ${cases} cases, ${crashes} crashes, ${hangs} hangs`);
    expect(errors).toEqual([]);
    expect(uncaught).toEqual([]);
    expect(hangs).toBe(0);
    expect(cases).toBe(CASES);
  });
});
