// BusyPoll keeps the loop turning for a bounded window after traffic, never when off, and never after stop();
// both PC/SC servers extend it on traffic and stop it when they close.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startPcscLiteServer } from '../../../service/pcsclite/index.js';
import { BusyPoll, MAX_BUSY_POLL_MICROS } from '../../../service/net/busy-poll.js';
import { FakeRm } from '../pcsclite/fake-rm.js';
import { WireClient } from '../pcsclite/wire-client.js';
import { RpcClient, startRpcServer } from '../../support/rpc-client.js';

const immediates = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Immediate').length;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Lets `n` setImmediate turns run. */
const turns = async (n: number) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

describe('BusyPoll', () => {
  it('rejects windows outside [0, 10000] µs', () => {
    expect(MAX_BUSY_POLL_MICROS).toBe(10_000);
    expect(() => new BusyPoll(-1)).toThrow(RangeError);
    expect(() => new BusyPoll(10_001)).toThrow(/busy-poll window must be in \[0, 10000\] µs \(got 10001\)/);
    expect(() => new BusyPoll(Number.NaN)).toThrow(RangeError);
  });

  it('polls for the window after each extend(), then lets the loop sleep', async () => {
    let now = 1000; // an injected clock: the window is stepped through, not slept through
    const poll = new BusyPoll(10_000, () => now);
    const before = immediates();
    poll.extend();
    expect(immediates()).toBe(before + 1);
    now += 9;
    await turns(3);
    expect(immediates()).toBe(before + 1); // still inside the 10 ms window
    poll.extend(); // renews the window (to 1019) without starting a second chain
    expect(immediates()).toBe(before + 1);
    now += 9.9;
    await turns(3);
    expect(immediates()).toBe(before + 1); // inside the renewed window, past the first
    now += 0.2;
    await turns(3);
    expect(immediates()).toBe(before);
  });

  it('does nothing when off, and stops for good on stop()', async () => {
    const before = immediates();
    new BusyPoll(0).extend();
    expect(immediates()).toBe(before);
    const poll = new BusyPoll(10_000);
    poll.extend();
    poll.stop();
    await sleep(2);
    expect(immediates()).toBe(before);
    poll.extend();
    expect(immediates()).toBe(before);
  });
});

describe('JSON-RPC server busy poll', () => {
  it('polls after a reply, and the server stops it on close', async () => {
    const server = await startRpcServer({ readers: [{}], busyPollMicros: 10_000 });
    try {
      const client = await RpcClient.connect(server.url);
      const before = immediates();
      expect(await client.call('SCardEstablishContext', { dwScope: 0 })).toMatchObject({ rv: 0 });
      expect(immediates()).toBeGreaterThan(before); // the reply extended the poll
      // Close while the window still has ~10 ms to run, then look one turn later: only stop() can have ended it.
      const closed = client.close();
      await server.app.close();
      await new Promise((r) => setImmediate(r));
      expect(immediates()).toBe(0);
      await closed;
    } finally {
      await server.close();
    }
  });

  it('does not poll with busyPollMicros 0', async () => {
    const server = await startRpcServer({ readers: [{}], busyPollMicros: 0 });
    try {
      const client = await RpcClient.connect(server.url);
      expect(await client.call('SCardEstablishContext', { dwScope: 0 })).toMatchObject({ rv: 0 });
      expect(immediates()).toBe(0);
      await client.close();
    } finally {
      await server.close();
    }
  });
});

describe('pcsc-lite server busy poll', () => {
  it('polls after a reply and stops on close', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vscr-bp-'));
    const server = await startPcscLiteServer({ rm: new FakeRm(), socketPath: join(dir, 'pcscd.comm'), busyPollMicros: 10_000 });
    try {
      const client = await WireClient.open(server.socketPath);
      const before = immediates();
      expect(await client.version()).toBe(0); // SCARD_S_SUCCESS for protocol 4.4
      expect(immediates()).toBeGreaterThan(before);
      client.destroy();
      await server.close();
      await new Promise((r) => setImmediate(r));
      expect(immediates()).toBe(0); // only stop() can end the chain this soon
    } finally {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
