// §3.8 state transitions of the driver + library, and the card callbacks (power, protocol, transmit) on a real card.

import { describe, expect, it } from 'vitest';
import { NTSTATUS } from '../../../kernel/ntstatus.js';
import { createVirtualCard } from '../../../smcard/card/index.js';
import { IOCTL_SMARTCARD } from '../../../smcard/constants/ioctl.js';
import { SCARD_ATTR } from '../../../smcard/constants/scard-attributes.js';
import { WinScard } from '../../../smcard/constants/scard.js';
import { FixtureCard } from '../../support/fixture-card.js';
import { getAttr, getState, hex, ioctl, power, readDword, setProtocol, transmit } from '../../support/io.js';
import { newReader } from '../../support/reader.js';

const S = NTSTATUS;
const stateOf = async (h: Parameters<typeof getState>[0]) => readDword((await getState(h)).output);

describe('§3.8 state transitions', () => {
  it('start ABSENT → insert PRESENT → cold reset NEGOTIABLE → SET_PROTOCOL SPECIFIC → power down PRESENT → remove ABSENT', async () => {
    const { reader, h } = newReader();
    const card = new FixtureCard();
    expect(await stateOf(h)).toBe(WinScard.ABSENT);
    reader.insertCard(card);
    expect(await stateOf(h)).toBe(WinScard.PRESENT);
    expect((await power(h, WinScard.COLD_RESET)).status).toBe(S.STATUS_SUCCESS);
    expect(await stateOf(h)).toBe(WinScard.NEGOTIABLE);
    expect((await setProtocol(h, WinScard.PROTOCOL_T0)).status).toBe(S.STATUS_SUCCESS);
    expect(await stateOf(h)).toBe(WinScard.SPECIFIC);
    const down = await power(h, WinScard.POWER_DOWN, 0);
    expect([down.status, down.information]).toEqual([S.STATUS_SUCCESS, 0]);
    expect(await stateOf(h)).toBe(WinScard.PRESENT);
    expect(card.powered).toBe(false);
    expect((await getAttr(h, SCARD_ATTR.ATR_STRING)).status).toBe(S.STATUS_INVALID_DEVICE_STATE);
    reader.removeCard();
    expect(await stateOf(h)).toBe(WinScard.ABSENT);
    expect((await power(h, WinScard.COLD_RESET)).status).toBe(S.STATUS_NO_MEDIA);
  });

  it('power-down state is configurable (BIX: SWALLOWED)', async () => {
    const { reader, h } = newReader('correct', { driver: { powerDownState: WinScard.SWALLOWED } });
    reader.insertCard(new FixtureCard());
    await power(h, WinScard.COLD_RESET);
    await power(h, WinScard.POWER_DOWN, 0);
    expect(await stateOf(h)).toBe(WinScard.SWALLOWED);
  });

  it('the inserted state is configurable (BIX: SWALLOWED); a reset from there is cold, and tracking sees the card', async () => {
    const { reader, h } = newReader('correct', { driver: { insertedState: WinScard.SWALLOWED } });
    const card = new FixtureCard();
    reader.insertCard(card);
    expect(await stateOf(h)).toBe(WinScard.SWALLOWED);
    expect((await ioctl(h, IOCTL_SMARTCARD.IS_PRESENT)).status).toBe(S.STATUS_SUCCESS);
    expect((await getAttr(h, SCARD_ATTR.ICC_PRESENCE, 1)).output[0]).toBe(2);
    expect((await power(h, WinScard.WARM_RESET)).status).toBe(S.STATUS_SUCCESS);
    expect(card.calls).toEqual(['coldReset']);
    expect(await stateOf(h)).toBe(WinScard.NEGOTIABLE);
  });

  it('SET_PROTOCOL picks T=1 over T=0 by default and T=0 when preferT1 is off', async () => {
    for (const [preferT1, expected] of [[true, WinScard.PROTOCOL_T1], [false, WinScard.PROTOCOL_T0]] as const) {
      const { reader, h } = newReader('correct', { driver: { preferT1 } });
      reader.insertCard(new FixtureCard());
      await power(h, WinScard.COLD_RESET);
      const r = await setProtocol(h, WinScard.PROTOCOL_T0 | WinScard.PROTOCOL_T1);
      expect([r.status, r.information, readDword(r.output)]).toEqual([S.STATUS_SUCCESS, 4, expected]);
    }
  });

  it('a WARM_RESET on an unpowered card is a cold reset; on a powered card it is warm', async () => {
    const { reader, h } = newReader();
    const card = new FixtureCard();
    reader.insertCard(card);
    await power(h, WinScard.WARM_RESET);
    await power(h, WinScard.WARM_RESET);
    expect(card.calls).toEqual(['coldReset', 'warmReset']);
  });

  it('a TA2 (specific mode) ATR goes straight to SPECIFIC with that protocol', async () => {
    const { reader, h } = newReader();
    reader.insertCard(new FixtureCard({ atr: Uint8Array.of(0x3b, 0x80, 0x90, 0x01, 0x01, 0x10) }));
    await power(h, WinScard.COLD_RESET);
    expect(await stateOf(h)).toBe(WinScard.SPECIFIC);
    expect(readDword((await getAttr(h, SCARD_ATTR.CURRENT_PROTOCOL_TYPE, 4)).output)).toBe(WinScard.PROTOCOL_T1);
  });

  it('an invalid ATR fails the reset with UNRECOGNIZED_MEDIA and leaves the card POWERED', async () => {
    const { reader, h } = newReader();
    reader.insertCard(new FixtureCard({ atr: Uint8Array.of(0x3b, 0x80, 0x01, 0x80) }));
    const r = await power(h, WinScard.COLD_RESET);
    expect([r.status, r.information]).toEqual([S.STATUS_UNRECOGNIZED_MEDIA, 0]);
    expect(await stateOf(h)).toBe(WinScard.POWERED);
  });

  it('removal while SPECIFIC resets the card capabilities; TRANSMIT then fails INVALID_DEVICE_STATE', async () => {
    const { reader, h } = newReader();
    reader.insertCard(new FixtureCard());
    await power(h, WinScard.COLD_RESET);
    await setProtocol(h, WinScard.PROTOCOL_T1);
    reader.removeCard();
    expect((await transmit(h, WinScard.PROTOCOL_T1, [0, 0xa4, 0, 0])).status).toBe(S.STATUS_INVALID_DEVICE_STATE);
    expect((await getAttr(h, SCARD_ATTR.ICC_PRESENCE, 1)).output[0]).toBe(0);
  });

  it('EJECT and SWALLOW are NOT_SUPPORTED by default and work when configured', async () => {
    const plain = newReader();
    plain.reader.insertCard(new FixtureCard());
    expect((await ioctl(plain.h, IOCTL_SMARTCARD.EJECT)).status).toBe(S.STATUS_NOT_SUPPORTED);
    expect((await ioctl(plain.h, IOCTL_SMARTCARD.SWALLOW)).status).toBe(S.STATUS_NOT_SUPPORTED);
    expect((await ioctl(plain.h, IOCTL_SMARTCARD.CONFISCATE)).status).toBe(S.STATUS_NOT_SUPPORTED);
    const mech = newReader('correct', { driver: { eject: true, swallow: true } });
    expect(readDword((await getAttr(mech.h, SCARD_ATTR.CHARACTERISTICS, 4)).output)).toBe(WinScard.READER_SWALLOWS | WinScard.READER_EJECTS);
    expect((await ioctl(mech.h, IOCTL_SMARTCARD.EJECT)).status).toBe(S.STATUS_NO_MEDIA); // empty slot
    expect((await ioctl(mech.h, IOCTL_SMARTCARD.SWALLOW)).status).toBe(S.STATUS_NO_MEDIA);
    mech.reader.insertCard(new FixtureCard());
    expect((await ioctl(mech.h, IOCTL_SMARTCARD.SWALLOW)).status).toBe(S.STATUS_SUCCESS);
    expect(await stateOf(mech.h)).toBe(WinScard.SWALLOWED);
    expect((await ioctl(mech.h, IOCTL_SMARTCARD.EJECT)).status).toBe(S.STATUS_SUCCESS);
    expect(mech.reader.card).toBeNull();
    expect(await stateOf(mech.h)).toBe(WinScard.ABSENT);
  });
});

describe('TRANSMIT to the real virtual card', () => {
  it('T=1: SELECT EF 2F00 and READ BINARY pass through unchanged', async () => {
    const { reader, h } = newReader();
    reader.insertCard(await createVirtualCard({ profile: 'default' }));
    expect(hex((await power(h, WinScard.COLD_RESET)).output)).toBe('3b8c800180318073b001406476736372ce');
    expect(readDword((await setProtocol(h, WinScard.PROTOCOL_T0 | WinScard.PROTOCOL_T1)).output)).toBe(WinScard.PROTOCOL_T1);
    expect(hex((await transmit(h, WinScard.PROTOCOL_T1, [0x00, 0xa4, 0x00, 0x0c, 0x02, 0x2f, 0x00])).output)).toBe('02000000080000009000');
    const read = await transmit(h, WinScard.PROTOCOL_T1, [0x00, 0xb0, 0x00, 0x00, 0x14]);
    expect(read.information).toBe(8 + 20 + 2);
    expect(Buffer.from(read.output.subarray(8, 28)).toString()).toBe('vscr virtual card v1');
    expect(hex(read.output.subarray(28))).toBe('9000');
    expect(hex((await transmit(h, WinScard.PROTOCOL_T1, [0x00, 0xff, 0x00, 0x00])).output)).toBe('02000000080000006d00');
  });

  it('T=0: a case-4 command answers 61xx (no automatic GET RESPONSE in the reader)', async () => {
    const { reader, h } = newReader();
    reader.insertCard(await createVirtualCard({ profile: 'default' }));
    await power(h, WinScard.COLD_RESET);
    expect(readDword((await setProtocol(h, WinScard.PROTOCOL_T0)).output)).toBe(WinScard.PROTOCOL_T0);
    const r = await transmit(h, WinScard.PROTOCOL_T0, [0x00, 0xa4, 0x00, 0x00, 0x02, 0x2f, 0x00, 0x00]);
    expect(hex(r.output.subarray(0, 8))).toBe('0100000008000000');
    expect(r.output[8]).toBe(0x61);
  });

  it('T=1 extended APDU: READ BINARY with Le 0200 returns the whole 512-byte EF in one reply; one byte short is BUFFER_TOO_SMALL', async () => {
    const { reader, h } = newReader();
    reader.insertCard(await createVirtualCard({ profile: 'default' }));
    await power(h, WinScard.COLD_RESET);
    await setProtocol(h, WinScard.PROTOCOL_T1);
    expect(hex((await transmit(h, WinScard.PROTOCOL_T1, [0x00, 0xa4, 0x08, 0x0c, 0x04, 0x50, 0x00, 0x50, 0x03])).output)).toBe('02000000080000009000');
    const read = [0x00, 0xb0, 0x00, 0x00, 0x00, 0x02, 0x00];
    const r = await transmit(h, WinScard.PROTOCOL_T1, read, 8 + 512 + 2);
    expect([r.status, r.information]).toEqual([S.STATUS_SUCCESS, 8 + 512 + 2]);
    expect(hex(r.output.subarray(8, 520))).toBe(Buffer.from(Array.from({ length: 512 }, (_, i) => i & 0xff)).toString('hex'));
    expect(hex(r.output.subarray(520))).toBe('9000');
    const short = await transmit(h, WinScard.PROTOCOL_T1, read, 8 + 512 + 1);
    expect([short.status, short.information]).toEqual([S.STATUS_BUFFER_TOO_SMALL, 0]);
  });

  it('the t1-only card: SET_PROTOCOL(T=0) is NOT_SUPPORTED and stays NEGOTIABLE; T=0|T=1 selects T=1', async () => {
    const { reader, h } = newReader();
    reader.insertCard(await createVirtualCard({ profile: 't1-only' }));
    expect(hex((await power(h, WinScard.COLD_RESET)).output)).toBe('3b8c0180318073b0014064767363724e');
    expect((await setProtocol(h, WinScard.PROTOCOL_T0)).status).toBe(S.STATUS_NOT_SUPPORTED);
    expect(await stateOf(h)).toBe(WinScard.NEGOTIABLE);
    expect(readDword((await getAttr(h, SCARD_ATTR.PROTOCOL_TYPES, 4)).output)).toBe(WinScard.PROTOCOL_T0 | WinScard.PROTOCOL_T1); // the reader's
    const r = await setProtocol(h, WinScard.PROTOCOL_T0 | WinScard.PROTOCOL_T1);
    expect([r.status, readDword(r.output)]).toEqual([S.STATUS_SUCCESS, WinScard.PROTOCOL_T1]);
  });

  it("'tpdu' framing pads a 4-byte T=0 APDU with P3 = 00 before it reaches the card", async () => {
    const { reader, h } = newReader('correct', { driver: { t0Framing: 'tpdu' } });
    const card = new FixtureCard();
    reader.insertCard(card);
    await power(h, WinScard.COLD_RESET);
    await setProtocol(h, WinScard.PROTOCOL_T0);
    expect((await transmit(h, WinScard.PROTOCOL_T0, [0x00, 0xa4, 0x00, 0x00])).status).toBe(S.STATUS_SUCCESS);
    expect(hex(card.transmits[0].apdu)).toBe('00a4000000');
  });
});
