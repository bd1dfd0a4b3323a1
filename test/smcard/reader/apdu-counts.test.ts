// The reader bus counts the APDUs its readers carry to their cards (what /metrics shows as vscr_apdus_total and
// vscr_apdu_bytes_total): every TRANSMIT that reaches a card, and none that a fault stops before the card.

import { describe, expect, it } from 'vitest';
import { NTSTATUS } from '../../../kernel/ntstatus.js';
import { createVirtualCard } from '../../../smcard/card/index.js';
import { WinScard } from '../../../smcard/constants/scard.js';
import { power, setProtocol, transmit } from '../../support/io.js';
import { newReader } from '../../support/reader.js';

const h = (text: string): number[] => [...Buffer.from(text, 'hex')];

describe('ApduCounts on the reader bus', () => {
  it('counts commands and responses with their bytes, across the readers of one bus', async () => {
    const { bus, reader, h: handle } = newReader();
    expect(bus.apduCounts).toEqual({ commands: 0, commandBytes: 0, responses: 0, responseBytes: 0 });
    reader.insertCard(await createVirtualCard());
    await power(handle, WinScard.COLD_RESET);
    await setProtocol(handle, WinScard.PROTOCOL_T1);
    // GET CHALLENGE for 8 bytes: 5 bytes out, 8 + SW back.
    expect((await transmit(handle, WinScard.PROTOCOL_T1, h('0084000008'))).status).toBe(NTSTATUS.STATUS_SUCCESS);
    expect(bus.apduCounts).toEqual({ commands: 1, commandBytes: 5, responses: 1, responseBytes: 10 });

    const second = bus.addReader() as typeof reader;
    const other = second.device.open();
    second.insertCard(await createVirtualCard({ cardId: 'second' }));
    await power(other, WinScard.COLD_RESET);
    await setProtocol(other, WinScard.PROTOCOL_T1);
    // SELECT MF by FID, no response data expected: 7 bytes out, at least a SW back.
    await transmit(other, WinScard.PROTOCOL_T1, h('00A4000C023F00'));
    expect(bus.apduCounts.commands).toBe(2);
    expect(bus.apduCounts.commandBytes).toBe(12);
    expect(bus.apduCounts.responses).toBe(2);
  });

  it('a fault that passes the command on counts it; one that stops it before the card does not', async () => {
    const { bus, reader, h: handle } = newReader();
    reader.insertCard(await createVirtualCard());
    await power(handle, WinScard.COLD_RESET);
    await setProtocol(handle, WinScard.PROTOCOL_T1);
    reader.faults.arm({ kind: 'sw', sw: '6F00' });
    const altered = await transmit(handle, WinScard.PROTOCOL_T1, h('0084000008'));
    expect(altered.status).toBe(NTSTATUS.STATUS_SUCCESS);
    expect(bus.apduCounts).toMatchObject({ commands: 1, responses: 1 });
    reader.faults.arm({ kind: 'mute', delayMs: 1 });
    expect((await transmit(handle, WinScard.PROTOCOL_T1, h('0084000008'))).status).toBe(NTSTATUS.STATUS_IO_TIMEOUT);
    expect(bus.apduCounts).toMatchObject({ commands: 1, responses: 1 });
  });
});
