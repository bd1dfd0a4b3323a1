// A PIN-pad reader driven through its IOCTLs with the default card: feature list, secure VERIFY and CHANGE with
// the keypad driven from outside, and the pad's own status words (6400 timeout, 6401 cancel, 6402, 6403).

import { describe, expect, it } from 'vitest';
import { NTSTATUS } from '../../../../kernel/ntstatus.js';
import { createVirtualCard } from '../../../../smcard/card/index.js';
import { IOCTL_SMARTCARD } from '../../../../smcard/constants/ioctl.js';
import { WinScard } from '../../../../smcard/constants/scard.js';
import { buildPinModify, buildPinVerify, FEATURE, featureCode, featureList } from '../../../../smcard/reader/pinpad/part10.js';
import type { Keypad } from '../../../../smcard/reader/pinpad/keypad.js';
import { hex, ioctl, power, setProtocol, transmit, within } from '../../../support/io.js';
import { newReader } from '../../../support/reader.js';

const S = NTSTATUS;
const VERIFY = featureCode(FEATURE.VERIFY_PIN_DIRECT);
const MODIFY = featureCode(FEATURE.MODIFY_PIN_DIRECT);
const verifyTemplate = Uint8Array.from(Buffer.from('0020008108FFFFFFFFFFFFFFFF', 'hex'));

function verifyStructure(timeoutSeconds = 0): Uint8Array {
  return buildPinVerify({ timeoutSeconds, firstKeyTimeoutSeconds: 0, formatString: 0x82, blockString: 0x08, lengthFormat: 0, minDigits: 4, maxDigits: 8, apdu: verifyTemplate });
}

async function pinpadReader(options: { plain?: boolean } = {}) {
  const r = newReader('correct', options.plain ? {} : { pinpad: true });
  r.reader.insertCard(await createVirtualCard({ profile: 'default' }));
  expect((await power(r.h, WinScard.COLD_RESET)).status).toBe(S.STATUS_SUCCESS);
  expect((await setProtocol(r.h, WinScard.PROTOCOL_T1)).status).toBe(S.STATUS_SUCCESS);
  return { ...r, keypad: r.reader.keypad as Keypad };
}

/** Issues a pad IOCTL and waits until the keypad asks for a PIN (or the IOCTL completes without asking). */
async function prompted(keypad: Keypad, io: Promise<unknown>): Promise<void> {
  for (let i = 0; i < 200 && !keypad.status().prompting; i++) {
    const done = await Promise.race([io.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 5))]);
    if (done) return;
  }
}

const sw = (r: { status: number; output: Uint8Array; information: number }) => [r.status, hex(r.output.subarray(0, r.information))];

describe('PIN-pad reader', () => {
  it('GET_FEATURE_REQUEST lists the four features on a pinpad reader and nothing on a plain one', async () => {
    const { h } = await pinpadReader();
    const r = await ioctl(h, IOCTL_SMARTCARD.GET_FEATURE_REQUEST, new Uint8Array(0), 256);
    expect(sw(r)).toEqual([S.STATUS_SUCCESS, hex(featureList())]);
    const plain = await pinpadReader({ plain: true });
    expect(sw(await ioctl(plain.h, IOCTL_SMARTCARD.GET_FEATURE_REQUEST, new Uint8Array(0), 256))).toEqual([S.STATUS_SUCCESS, '']);
    expect((await ioctl(plain.h, VERIFY, verifyStructure(), 2)).status).toBe(S.STATUS_INVALID_DEVICE_REQUEST);
  });

  it('VERIFY through the pad: the typed PIN reaches the card (9000), a wrong one spends a try (63C2)', async () => {
    const { h, keypad } = await pinpadReader();
    const io = ioctl(h, VERIFY, verifyStructure(), 2);
    await prompted(keypad, io);
    expect(keypad.status()).toMatchObject({ prompting: true, stage: 'pin', digitsEntered: 0, maxDigits: 8 });
    keypad.type('12');
    keypad.type('34');
    expect(keypad.status().digitsEntered).toBe(4);
    keypad.ok();
    expect(sw(await io)).toEqual([S.STATUS_SUCCESS, '9000']);
    // The card now counts the PIN as verified: a VERIFY without data is a status query answering 9000.
    expect(hex((await transmit(h, WinScard.PROTOCOL_T1, [0x00, 0x20, 0x00, 0x81])).output.subarray(8))).toBe('9000');

    const wrong = ioctl(h, VERIFY, verifyStructure(), 2);
    await prompted(keypad, wrong);
    keypad.type('9999');
    keypad.ok();
    expect(sw(await wrong)).toEqual([S.STATUS_SUCCESS, '63c2']);
  });

  it('Cancel answers 6401, a timeout 6400, a too-short PIN 6403; none of them reaches the card', async () => {
    const { h, keypad } = await pinpadReader();
    const cancelled = ioctl(h, VERIFY, verifyStructure(), 2);
    await prompted(keypad, cancelled);
    keypad.type('12');
    keypad.cancel();
    expect(sw(await cancelled)).toEqual([S.STATUS_SUCCESS, '6401']);

    const timedOut = within(h.deviceIoControl(VERIFY, verifyStructure(1), 2).result, 5000);
    expect(sw(await timedOut)).toEqual([S.STATUS_SUCCESS, '6400']);

    keypad.enqueue({ digits: '123', key: 'ok' });
    expect(sw(await ioctl(h, VERIFY, verifyStructure(), 2))).toEqual([S.STATUS_SUCCESS, '6403']);
    // The tries are untouched: status query still says 3 left.
    expect(hex((await transmit(h, WinScard.PROTOCOL_T1, [0x00, 0x20, 0x00, 0x81])).output.subarray(8))).toBe('63c3');
  });

  it('queued entries answer the next prompts in order, OK or Cancel', async () => {
    const { h, keypad } = await pinpadReader();
    keypad.enqueue({ digits: '1234', key: 'ok' });
    keypad.enqueue({ digits: '', key: 'cancel' });
    expect(keypad.status().queued).toBe(2);
    expect(sw(await ioctl(h, VERIFY, verifyStructure(), 2))).toEqual([S.STATUS_SUCCESS, '9000']);
    expect(sw(await ioctl(h, VERIFY, verifyStructure(), 2))).toEqual([S.STATUS_SUCCESS, '6401']);
    expect(keypad.status()).toMatchObject({ queued: 0, entries: 2, prompting: false });
    expect(() => keypad.type('1')).toThrow(/not asking/);
  });

  it('MODIFY with current PIN and confirmation: a mismatch answers 6402, a match changes the PIN', async () => {
    const { h, keypad } = await pinpadReader();
    const modify = buildPinModify({
      timeoutSeconds: 0, firstKeyTimeoutSeconds: 0, formatString: 0x82, blockString: 0x08, lengthFormat: 0,
      insertionOffsetOld: 0, insertionOffsetNew: 8, minDigits: 4, maxDigits: 8, confirmPin: 0x03,
      apdu: Uint8Array.from(Buffer.from('0024008110' + 'FF'.repeat(16), 'hex')),
    });
    for (const e of ['1234', '5678', '5679']) keypad.enqueue({ digits: e, key: 'ok' });
    expect(sw(await ioctl(h, MODIFY, modify, 2))).toEqual([S.STATUS_SUCCESS, '6402']);

    const io = ioctl(h, MODIFY, modify, 2);
    const stages: string[] = [];
    for (const digits of ['1234', '5678', '5678']) {
      await prompted(keypad, io);
      stages.push(String(keypad.status().stage));
      keypad.type(digits);
      keypad.ok();
    }
    expect(stages).toEqual(['current', 'new', 'confirm']);
    expect(sw(await io)).toEqual([S.STATUS_SUCCESS, '9000']);
    keypad.enqueue({ digits: '5678', key: 'ok' });
    expect(sw(await ioctl(h, VERIFY, verifyStructure(), 2))).toEqual([S.STATUS_SUCCESS, '9000']);
  });

  it('a card pulled during entry ends it with NO_MEDIA; before power-up the pad refuses with INVALID_DEVICE_STATE', async () => {
    const { reader, h, keypad } = await pinpadReader();
    const io = ioctl(h, VERIFY, verifyStructure(), 2);
    await prompted(keypad, io);
    reader.removeCard();
    expect((await io).status).toBe(S.STATUS_NO_MEDIA);
    expect(keypad.status().prompting).toBe(false);

    reader.insertCard(await createVirtualCard({ profile: 'default' }));
    expect((await ioctl(h, VERIFY, verifyStructure(), 2)).status).toBe(S.STATUS_INVALID_DEVICE_STATE);
    expect((await ioctl(h, VERIFY, verifyStructure().subarray(0, 10), 2)).status).toBe(S.STATUS_INVALID_PARAMETER);
  });

  it('"max size reached" completes the entry on the last digit without OK', async () => {
    const { h, keypad } = await pinpadReader();
    const s = buildPinVerify({ timeoutSeconds: 0, firstKeyTimeoutSeconds: 0, formatString: 0x82, blockString: 0x08, lengthFormat: 0, minDigits: 4, maxDigits: 4, validation: 0x01, apdu: verifyTemplate });
    const io = ioctl(h, VERIFY, s, 2);
    await prompted(keypad, io);
    keypad.type('123456'); // the last two digits find the entry already complete and are dropped
    expect(sw(await io)).toEqual([S.STATUS_SUCCESS, '9000']);
  });
});
