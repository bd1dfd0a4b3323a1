// The IOCTL trace: the exact text for the forum thread's sequence (docs/background.md, debugger log shape), pending IRPs, entry
// fields, and the ring buffer's bound at its default capacity.

import { describe, expect, it } from 'vitest';
import { NTSTATUS } from '../../../kernel/ntstatus.js';
import { IOCTL_SMARTCARD } from '../../../smcard/constants/ioctl.js';
import { SCARD_ATTR } from '../../../smcard/constants/scard-attributes.js';
import { FixtureCard } from '../../support/fixture-card.js';
import { dwordBuf, getState, ioctl, settle, within } from '../../support/io.js';
import { newReader } from '../../support/reader.js';

const empty = new Uint8Array(0);

/** Request ids become #1, #2… in order of appearance (Request 0x<id> and Context <id> alike); durations become D. */
function normalise(text: string): string {
  const ids = new Map<string, string>();
  const id = (hex: string): string => {
    if (!ids.has(hex)) ids.set(hex, `#${ids.size + 1}`);
    return ids.get(hex)!;
  };
  return text
    .replace(/Request 0x([0-9A-F]{16})/g, (_m, hex: string) => `Request ${id(hex)}`)
    .replace(/Context ([0-9A-F]{16})/g, (_m, hex: string) => `Context ${id(hex)}`)
    .replace(/\(\d+(\.\d+)? ms\)/g, '(D ms)');
}

describe('trace text', () => {
  it('the forum sequence on the forum-broken driver reads like the forum debugger log, line for line', async () => {
    const { h, reader } = newReader('forum-broken');
    for (const [tag, out] of [
      [SCARD_ATTR.DEVICE_UNIT, 4],
      [SCARD_ATTR.VENDOR_NAME, 36],
      [SCARD_ATTR.VENDOR_IFD_TYPE, 36],
      [SCARD_ATTR.CHARACTERISTICS, 4],
      [SCARD_ATTR.CHANNEL_ID, 4],
    ]) {
      await ioctl(h, IOCTL_SMARTCARD.GET_ATTRIBUTE, dwordBuf(tag), out);
    }
    await ioctl(h, IOCTL_SMARTCARD.IS_PRESENT);
    await getState(h);
    for (let i = 0; i < 3; i++) await ioctl(h, IOCTL_SMARTCARD.IS_ABSENT);
    const attr = (n: number, out: number, minor: string, info: number) => [
      `VscrReader!EvtIoDeviceControl Request #${n} OutputBufferLength ${out} InputBufferLength 4 IoControlCode 3211272 (IOCTL_SMARTCARD_GET_ATTRIBUTE) ${minor}`,
      `VscrReader!LibComplete called: status 0 (STATUS_SUCCESS), Context #${n} Information ${info} (D ms)`,
    ];
    const absent = (n: number) => [
      `VscrReader!EvtIoDeviceControl Request #${n} OutputBufferLength 0 InputBufferLength 0 IoControlCode 3211308 (IOCTL_SMARTCARD_IS_ABSENT)`,
      `VscrReader!LibComplete called: status 80000011 (STATUS_DEVICE_BUSY), Context #${n} Information 0 (D ms)`,
    ];
    const expected = [
      ...attr(1, 4, 'Minor 0x7FFF0001 (SCARD_ATTR_DEVICE_UNIT)', 4),
      ...attr(2, 36, 'Minor 0x00010100 (SCARD_ATTR_VENDOR_NAME)', 4),
      ...attr(3, 36, 'Minor 0x00010101 (SCARD_ATTR_VENDOR_IFD_TYPE)', 14),
      ...attr(4, 4, 'Minor 0x00060150 (SCARD_ATTR_CHARACTERISTICS)', 4),
      ...attr(5, 4, 'Minor 0x00020110 (SCARD_ATTR_CHANNEL_ID)', 4),
      'VscrReader!EvtIoDeviceControl Request #6 OutputBufferLength 0 InputBufferLength 0 IoControlCode 3211304 (IOCTL_SMARTCARD_IS_PRESENT)',
      'VscrReader!CBCardTracking: Entry',
      'VscrReader!LibComplete called: status 0 (STATUS_SUCCESS), Context #6 Information 0 (D ms)',
      'VscrReader!EvtIoDeviceControl Request #7 OutputBufferLength 4 InputBufferLength 0 IoControlCode 3211320 (IOCTL_SMARTCARD_GET_STATE)',
      'VscrReader!LibComplete called: status 0 (STATUS_SUCCESS), Context #7 Information 4 (D ms)',
      ...absent(8),
      ...absent(9),
      ...absent(10),
    ];
    expect(normalise(reader.traceText())).toBe(`${expected.join('\n')}\n`);
  });

  it('a pending IRP shows its pending line and no LibComplete line until it completes', async () => {
    const { h, reader } = newReader('correct');
    const io = h.deviceIoControl(IOCTL_SMARTCARD.IS_PRESENT, empty, 0);
    await settle();
    expect(normalise(reader.traceText())).toBe(
      [
        'VscrReader!EvtIoDeviceControl Request #1 OutputBufferLength 0 InputBufferLength 0 IoControlCode 3211304 (IOCTL_SMARTCARD_IS_PRESENT)',
        'VscrReader!CBCardTracking: Entry',
        'VscrReader!EvtIoDeviceControl Request #1 pending: status 103 (STATUS_PENDING)',
        '',
      ].join('\n'),
    );
    expect(reader.trace()[0]).toMatchObject({ pending: true, pendedAtSomePoint: true, callbacks: ['CBCardTracking'] });
    expect(reader.trace()[0].status).toBeUndefined();
    reader.insertCard(new FixtureCard());
    await within(io.result);
    expect(normalise(reader.traceText()).split('\n')[3]).toBe(
      'VscrReader!LibComplete called: status 0 (STATUS_SUCCESS), Context #1 Information 0 after pending (D ms)',
    );
    expect(reader.trace()[0]).toMatchObject({ pending: false, status: NTSTATUS.STATUS_SUCCESS, statusName: 'STATUS_SUCCESS', information: 0 });
  });

  it('the default ring buffer keeps the newest 1024 IRPs, and the text is bounded with it', async () => {
    const { h, reader } = newReader();
    for (let i = 0; i < 1100; i++) await getState(h);
    const t = reader.trace();
    expect(t).toHaveLength(1024);
    expect([t[0].seq, t[1023].seq]).toEqual([77, 1100]);
    expect(reader.traceText().split('\n')).toHaveLength(2 * 1024 + 1);
  });
});
