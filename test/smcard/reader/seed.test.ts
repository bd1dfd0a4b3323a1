// The forum thread's IOCTL sequence (docs/background.md): GET_ATTRIBUTE ×5 with the log's buffer lengths, IS_PRESENT,
// GET_STATE, IS_ABSENT — against the forum's broken driver (reproduces 0x80000011) and the correct one.

import { describe, expect, it } from 'vitest';
import { NTSTATUS } from '../../../kernel/ntstatus.js';
import { createVirtualCard } from '../../../smcard/card/index.js';
import type { VirtualCard } from '../../../smcard/card/contract.js';
import { IOCTL_SMARTCARD } from '../../../smcard/constants/ioctl.js';
import { SCARD_ATTR } from '../../../smcard/constants/scard-attributes.js';
import { WinScard } from '../../../smcard/constants/scard.js';
import type { ReaderFileHandle } from '../../../smcard/reader/contract.js';
import { FixtureCard } from '../../support/fixture-card.js';
import { dwordBuf, ioctl, readDword, settle, watch, within } from '../../support/io.js';
import { newReader } from '../../support/reader.js';

const S = NTSTATUS;
const empty = new Uint8Array(0);

/**
 * The log does not name the attribute tags, only (Output, Input) lengths (4,4) (36,4) (36,4) (4,4) (4,4); these are
 * the RM's arrival queries (§5.1) that fit those lengths.
 */
const SEED_ATTRIBUTES: [number, number][] = [
  [SCARD_ATTR.DEVICE_UNIT, 4],
  [SCARD_ATTR.VENDOR_NAME, 36],
  [SCARD_ATTR.VENDOR_IFD_TYPE, 36],
  [SCARD_ATTR.CHARACTERISTICS, 4],
  [SCARD_ATTR.CHANNEL_ID, 4],
];

async function arrivalQueries(h: ReaderFileHandle): Promise<void> {
  for (const [tag, out] of SEED_ATTRIBUTES) {
    expect((await ioctl(h, IOCTL_SMARTCARD.GET_ATTRIBUTE, dwordBuf(tag), out)).status).toBe(S.STATUS_SUCCESS);
  }
}

const cards: [string, () => Promise<VirtualCard>][] = [
  ['fixture card', async () => new FixtureCard()],
  ['real virtual card (default profile)', () => createVirtualCard({ profile: 'default' })],
];

describe('the seed sequence', () => {
  it('forum-broken: IS_PRESENT "succeeds" with no card, GET_STATE says ABSENT, every IS_ABSENT is STATUS_DEVICE_BUSY', async () => {
    const { h, reader } = newReader('forum-broken');
    await arrivalQueries(h);
    expect((await ioctl(h, IOCTL_SMARTCARD.IS_PRESENT)).status).toBe(S.STATUS_SUCCESS);
    const state = await ioctl(h, IOCTL_SMARTCARD.GET_STATE, empty, 4);
    expect([state.status, readDword(state.output)]).toEqual([S.STATUS_SUCCESS, WinScard.ABSENT]);
    for (let i = 0; i < 3; i++) expect((await ioctl(h, IOCTL_SMARTCARD.IS_ABSENT)).status).toBe(0x80000011);

    const trace = reader.trace();
    expect(trace.map((e) => [e.outputLength, e.inputLength, e.ioControlCode, e.status])).toEqual([
      [4, 4, 3211272, 0],
      [36, 4, 3211272, 0],
      [36, 4, 3211272, 0],
      [4, 4, 3211272, 0],
      [4, 4, 3211272, 0],
      [0, 0, 3211304, 0],
      [4, 0, 3211320, 0],
      [0, 0, 3211308, 0x80000011],
      [0, 0, 3211308, 0x80000011],
      [0, 0, 3211308, 0x80000011],
    ]);
    expect(trace[5].callbacks).toEqual(['CBCardTracking']);
    const text = reader.traceText();
    expect(text).toMatch(/EvtIoDeviceControl Request 0x[0-9A-F]{16} OutputBufferLength 4 InputBufferLength 4 IoControlCode 3211272 \(IOCTL_SMARTCARD_GET_ATTRIBUTE\)/);
    expect(text).toMatch(/IoControlCode 3211304 \(IOCTL_SMARTCARD_IS_PRESENT\)\n.*CBCardTracking: Entry\n.*!LibComplete called: status 0 \(STATUS_SUCCESS\), Context/);
    expect(text.match(/OutputBufferLength 0 InputBufferLength 0 IoControlCode 3211308 \(IOCTL_SMARTCARD_IS_ABSENT\)\n.*!LibComplete called: status 80000011 \(STATUS_DEVICE_BUSY\), Context [0-9A-F]{16} Information 0/g)).toHaveLength(3);
  });

  for (const [label, makeCard] of cards) {
    it(`correct, card already in the reader: the exact sequence answers 0 ×5, 0, PRESENT, then IS_ABSENT pends (${label})`, async () => {
      const { h, reader } = newReader('correct');
      reader.insertCard(await makeCard());
      await arrivalQueries(h);
      expect((await ioctl(h, IOCTL_SMARTCARD.IS_PRESENT)).status).toBe(S.STATUS_SUCCESS);
      const state = await ioctl(h, IOCTL_SMARTCARD.GET_STATE, empty, 4);
      expect([state.status, readDword(state.output)]).toEqual([S.STATUS_SUCCESS, WinScard.PRESENT]);
      const absent = h.deviceIoControl(IOCTL_SMARTCARD.IS_ABSENT, empty, 0);
      const wa = watch(absent);
      await settle();
      expect(wa.done).toBe(false);
      expect(reader.trace().map((e) => [e.outputLength, e.inputLength, e.ioControlCode, e.status ?? 'pending'])).toEqual([
        [4, 4, 3211272, 0],
        [36, 4, 3211272, 0],
        [36, 4, 3211272, 0],
        [4, 4, 3211272, 0],
        [4, 4, 3211272, 0],
        [0, 0, 3211304, 0],
        [4, 0, 3211320, 0],
        [0, 0, 3211308, 'pending'],
      ]);
      reader.removeCard();
      expect((await within(absent.result)).status).toBe(S.STATUS_SUCCESS);
      expect(reader.trace().some((e) => e.status === S.STATUS_DEVICE_BUSY)).toBe(false);
      expect(reader.device.faults).toEqual([]);
    });

    it(`correct: IS_PRESENT stays pending until insertion, then IS_ABSENT pends until removal — never DEVICE_BUSY (${label})`, async () => {
      const { h, reader, ext } = newReader('correct');
      await arrivalQueries(h);
      const present = h.deviceIoControl(IOCTL_SMARTCARD.IS_PRESENT, empty, 0);
      const wp = watch(present);
      await settle();
      const state = await ioctl(h, IOCTL_SMARTCARD.GET_STATE, empty, 4);
      expect([state.status, readDword(state.output)]).toEqual([S.STATUS_SUCCESS, WinScard.ABSENT]);
      expect(wp.done).toBe(false);
      const card = await makeCard();
      reader.insertCard(card);
      expect((await within(present.result)).status).toBe(S.STATUS_SUCCESS);
      expect(ext.OsData.NotificationIrp).toBeNull();
      // The RM now powers the card and re-arms with IS_ABSENT (§5.2), which must pend, not be busy.
      const atr = await ioctl(h, IOCTL_SMARTCARD.POWER, dwordBuf(WinScard.COLD_RESET), 33);
      expect(atr.status).toBe(S.STATUS_SUCCESS);
      expect(Buffer.from(atr.output).equals(Buffer.from(card.atr))).toBe(true);
      const absent = h.deviceIoControl(IOCTL_SMARTCARD.IS_ABSENT, empty, 0);
      const wa = watch(absent);
      await settle();
      expect(wa.done).toBe(false);
      reader.removeCard();
      expect((await within(absent.result)).status).toBe(S.STATUS_SUCCESS);
      const again = h.deviceIoControl(IOCTL_SMARTCARD.IS_PRESENT, empty, 0);
      await settle();
      expect(watch(again).done).toBe(false);
      h.close();
      expect((await within(again.result)).status).toBe(S.STATUS_CANCELLED);
      expect(reader.trace().some((e) => e.status === S.STATUS_DEVICE_BUSY)).toBe(false);
      expect(reader.traceText()).not.toContain('STATUS_DEVICE_BUSY');
      expect(reader.traceText()).toMatch(/IOCTL_SMARTCARD_IS_PRESENT\)\n.*CBCardTracking: Entry\n.*pending: status 103 \(STATUS_PENDING\)\n.*!LibComplete called: status 0 \(STATUS_SUCCESS\), Context [0-9A-F]{16} Information 0 after pending/);
      expect(reader.device.faults).toEqual([]);
    });
  }
});
