// Card events racing with callbacks (removal mid-reset / mid-transmit), card faults, and standby/resume (§3.4, §4.4).

import { describe, expect, it } from 'vitest';
import { NTSTATUS } from '../../../kernel/ntstatus.js';
import { IOCTL_SMARTCARD } from '../../../smcard/constants/ioctl.js';
import { WinScard } from '../../../smcard/constants/scard.js';
import { FixtureCard } from '../../support/fixture-card.js';
import { dwordBuf, getState, power, readDword, setProtocol, settle, transmit, watch, within } from '../../support/io.js';
import { newReader } from '../../support/reader.js';

const S = NTSTATUS;
const empty = new Uint8Array(0);

/** A fixture card whose next reset or transmit waits until released. */
class GatedCard extends FixtureCard {
  gate: (() => void) | null = null;
  failNext = false;
  private wait(): Promise<void> {
    return new Promise((resolve) => {
      this.gate = resolve;
    });
  }
  override async coldReset(): Promise<Uint8Array> {
    await this.wait();
    if (this.failNext) throw new Error('card fault');
    return super.coldReset();
  }
  override async transmit(apdu: Uint8Array, protocol: number): Promise<Uint8Array> {
    await this.wait();
    if (this.failNext) throw new Error('card fault');
    return super.transmit(apdu, protocol);
  }
}

describe('card removed while a callback waits for it', () => {
  it('POWER: removal mid-reset answers NO_MEDIA (configurable: PSCR answers SUCCESS) and the state stays ABSENT', async () => {
    for (const [config, expected] of [[{}, S.STATUS_NO_MEDIA], [{ cardGonePowerStatus: S.STATUS_SUCCESS }, S.STATUS_SUCCESS]] as const) {
      const { reader, h } = newReader('correct', { driver: config });
      const card = new GatedCard();
      reader.insertCard(card);
      const io = h.deviceIoControl(IOCTL_SMARTCARD.POWER, dwordBuf(WinScard.COLD_RESET), 33);
      await settle();
      reader.removeCard();
      card.gate!();
      const r = await within(io.result);
      expect([r.status, r.information]).toEqual([expected, 0]);
      expect(readDword((await getState(h)).output)).toBe(WinScard.ABSENT);
    }
  });

  it('TRANSMIT: removal mid-command answers NO_MEDIA; a card fault answers IO_DEVICE_ERROR; a reset fault UNRECOGNIZED_MEDIA', async () => {
    const { reader, h } = newReader();
    const card = new GatedCard();
    reader.insertCard(card);
    const pw = power(h, WinScard.COLD_RESET);
    await settle();
    card.gate!();
    await pw;
    await setProtocol(h, WinScard.PROTOCOL_T1);
    card.failNext = true;
    const faulty = h.deviceIoControl(IOCTL_SMARTCARD.TRANSMIT, Uint8Array.of(2, 0, 0, 0, 8, 0, 0, 0, 0, 0xa4, 0, 0), 64);
    await settle();
    card.gate!();
    expect((await within(faulty.result)).status).toBe(S.STATUS_IO_DEVICE_ERROR);
    const reset = h.deviceIoControl(IOCTL_SMARTCARD.POWER, dwordBuf(WinScard.COLD_RESET), 33);
    await settle();
    card.gate!();
    expect((await within(reset.result)).status).toBe(S.STATUS_UNRECOGNIZED_MEDIA);
    card.failNext = false;
    const again = power(h, WinScard.COLD_RESET);
    await settle();
    card.gate!();
    await again;
    await setProtocol(h, WinScard.PROTOCOL_T1);
    const io = transmit(h, WinScard.PROTOCOL_T1, [0x00, 0xa4, 0x00, 0x00]);
    await settle();
    reader.removeCard();
    card.gate!();
    expect((await io).status).toBe(S.STATUS_NO_MEDIA);
    expect(reader.device.faults).toEqual([]);
  });
});

describe('standby and resume', () => {
  it('completes a pending IS_ABSENT with SUCCESS when the card is still there, and the card is PRESENT (unpowered)', async () => {
    const { reader, h } = newReader();
    const card = new FixtureCard();
    reader.insertCard(card);
    await power(h, WinScard.COLD_RESET);
    const absent = h.deviceIoControl(IOCTL_SMARTCARD.IS_ABSENT, empty, 0);
    await settle();
    await reader.suspendAndResume();
    expect((await within(absent.result)).status).toBe(S.STATUS_SUCCESS);
    expect(readDword((await getState(h)).output)).toBe(WinScard.PRESENT);
    expect(card.powered).toBe(false);
  });

  it('leaves a pending IS_PRESENT alone when no card was there before or after', async () => {
    const { reader, h } = newReader();
    const present = h.deviceIoControl(IOCTL_SMARTCARD.IS_PRESENT, empty, 0);
    const w = watch(present);
    await settle();
    await reader.suspendAndResume();
    await settle();
    expect(w.done).toBe(false);
    h.close();
    expect((await within(present.result)).status).toBe(S.STATUS_CANCELLED);
  });
});
