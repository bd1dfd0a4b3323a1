// pcscd's automatic power-off: after the last handle disconnects with SCARD_LEAVE_CARD, the card is powered down
// through the reader's POWER IOCTL once the grace period passes; the protocol returns to undefined and the next
// session starts from a fresh ATR (the applet must be selected again). 0 = never.

import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { SCARD, SCARD_DISPOSITION, SCARD_PROTOCOL, SCARD_SHARE } from '../../../service/contract/pcsclite.js';
import { SELECT_CRYPTO, hex, makeStack, psoHash, type Stack } from '../../support/rm-stack.js';

const R0 = 'vscr Virtual Reader 00 00';
let stack: Stack | null = null;
afterEach(async () => {
  await stack?.close();
  stack = null;
});

/** Polls until the card in reader 0 is unpowered (bounded; the grace period is what is being waited for). */
async function untilUnpowered(s: Stack, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (s.readers[0].card!.powered) {
    if (Date.now() > deadline) throw new Error('the card was never powered down');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('idle power-down', () => {
  it('after the grace period: card unpowered, DIRECT connect sees SCARD_PROTOCOL_UNDEFINED, the applet must be selected again', async () => {
    stack = await makeStack({ cardsIn: [0], crypto: true, powerDownDelayMs: 100 });
    const s = stack.rm.openSession('idle');
    const { hContext } = s.establishContext(SCARD_SHARE.SHARED);
    const c = await s.connect(hContext, R0, SCARD_SHARE.SHARED, SCARD_PROTOCOL.ANY);
    expect(c.dwActiveProtocol).toBe(SCARD_PROTOCOL.T1);
    expect(hex((await s.transmit(c.hCard, SCARD_PROTOCOL.T1, SELECT_CRYPTO, 258)).pbRecvBuffer)).toMatch(/9000$/);
    expect(await s.disconnect(c.hCard, SCARD_DISPOSITION.LEAVE_CARD)).toBe(SCARD.S_SUCCESS);

    await untilUnpowered(stack);
    expect(stack.rm.readerStates()[0]).toMatchObject({ protocol: SCARD_PROTOCOL.UNDEFINED, readerState: 0x34 });
    const direct = await s.connect(hContext, R0, SCARD_SHARE.DIRECT, 0);
    expect(direct).toMatchObject({ rv: SCARD.S_SUCCESS, dwActiveProtocol: SCARD_PROTOCOL.UNDEFINED });
    expect(await s.disconnect(direct.hCard, SCARD_DISPOSITION.LEAVE_CARD)).toBe(SCARD.S_SUCCESS);

    // The next session powers up and negotiates afresh; the applet selection did not survive.
    const again = await s.connect(hContext, R0, SCARD_SHARE.SHARED, SCARD_PROTOCOL.ANY);
    expect(again).toMatchObject({ rv: SCARD.S_SUCCESS, dwActiveProtocol: SCARD_PROTOCOL.T1 });
    expect(stack.readers[0].card!.powered).toBe(true);
    const data = new TextEncoder().encode('abc');
    const unselected = hex((await s.transmit(again.hCard, SCARD_PROTOCOL.T1, psoHash(data), 258)).pbRecvBuffer);
    expect(unselected).not.toMatch(/9000$/);
    expect(hex((await s.transmit(again.hCard, SCARD_PROTOCOL.T1, SELECT_CRYPTO, 258)).pbRecvBuffer)).toMatch(/9000$/);
    expect(hex((await s.transmit(again.hCard, SCARD_PROTOCOL.T1, psoHash(data), 258)).pbRecvBuffer)).toBe(createHash('sha256').update(data).digest('hex') + '9000');
    await s.close();
  });

  it('0 means never: the card stays powered and negotiated after the last handle', async () => {
    stack = await makeStack({ cardsIn: [0], powerDownDelayMs: 0 });
    const s = stack.rm.openSession('never');
    const { hContext } = s.establishContext(SCARD_SHARE.SHARED);
    const c = await s.connect(hContext, R0, SCARD_SHARE.SHARED, SCARD_PROTOCOL.ANY);
    expect(await s.disconnect(c.hCard, SCARD_DISPOSITION.LEAVE_CARD)).toBe(SCARD.S_SUCCESS);
    // Nothing is scheduled with 0: the direct connection still sees the negotiated protocol.
    await new Promise((r) => setTimeout(r, 200));
    expect(stack.readers[0].card!.powered).toBe(true);
    expect((await s.connect(hContext, R0, SCARD_SHARE.DIRECT, 0)).dwActiveProtocol).toBe(SCARD_PROTOCOL.T1);
    await s.close();
  });
});
