// Every SCARD_ATTR tag of docs/smclib.md §1.5 through IOCTL_SMARTCARD_GET_ATTRIBUTE: exact bytes for the ones the
// library answers from the extension, exact NTSTATUS for the rest, and the card tags derived from a real ATR.

import { describe, expect, it } from 'vitest';
import { Irp } from '../../../kernel/irp.js';
import { NTSTATUS } from '../../../kernel/ntstatus.js';
import { IOCTL_SMARTCARD } from '../../../smcard/constants/ioctl.js';
import { SCARD_ATTR } from '../../../smcard/constants/scard-attributes.js';
import { WinScard, winScardStateName } from '../../../smcard/constants/scard.js';
import { PTS_TYPE_OPTIMAL } from '../../../smcard/constants/smclib.js';
import { SmartcardUpdateCardCapabilities } from '../../../smcard/smclib/atr.js';
import { SmartcardDeviceControl } from '../../../smcard/smclib/device-control.js';
import { createSmartcardExtension, SmartcardInitialize, type SmartcardExtension } from '../../../smcard/smclib/extension.js';
import { dwordBuf } from '../../support/io.js';

const S = NTSTATUS;

/**
 * TA1 = 96 (Fl 9 → F 512, Dl 6 → D 32), TC1 = 02 (N), TD1 = C0 (TC2, TD2; T=0), TC2 = 14 (WI 20),
 * TD2 = 71 (TA3 TB3 TC3; T=1), TA3 = FE (IFSC 254), TB3 = 45 (BWI 4, CWI 5), TC3 = 01 (CRC), TCK = 5B
 * (XOR of D0..01 computed by hand).
 */
const ATR = Uint8Array.of(0x3b, 0xd0, 0x96, 0x02, 0xc0, 0x14, 0x71, 0xfe, 0x45, 0x01, 0x5b);

function reader(): SmartcardExtension {
  const ext = createSmartcardExtension({
    vendorName: 'vscr',
    ifdType: 'Virtual Reader',
    unitNo: 3,
    ifdVersion: { VersionMajor: 1, VersionMinor: 2, BuildNumber: 0x0304 },
    ifdSerialNo: Uint8Array.from(Buffer.from('SN42')),
    channel: 5,
    clkFrequency: { Default: 4000, Max: 8000 },
    dataRate: { Default: 10752, Max: 20000 },
    mechProperties: WinScard.READER_SWALLOWS | WinScard.READER_EJECTS,
  });
  ext.ReaderCapabilities.PowerMgmtSupport = 1;
  expect(SmartcardInitialize(ext)).toBe(S.STATUS_SUCCESS);
  return ext;
}

/** As the reader driver's POWER + SET_PROTOCOL would leave it: ATR parsed with OPTIMAL PTS, T=1 selected. */
function withResetCard(ext: SmartcardExtension): SmartcardExtension {
  ext.CardCapabilities.ATR.Buffer.set(ATR);
  ext.CardCapabilities.ATR.Length = ATR.length;
  ext.CardCapabilities.PtsData.Type = PTS_TYPE_OPTIMAL;
  expect(SmartcardUpdateCardCapabilities(ext)).toBe(S.STATUS_SUCCESS);
  ext.CardCapabilities.Protocol.Selected = WinScard.PROTOCOL_T1;
  ext.ReaderCapabilities.CurrentState = WinScard.SPECIFIC;
  return ext;
}

async function get(ext: SmartcardExtension, tag: number, out = 64): Promise<{ status: number; info: number; hex: string }> {
  const irp = new Irp({ ioControlCode: IOCTL_SMARTCARD.GET_ATTRIBUTE, input: dwordBuf(tag), outputBufferLength: out });
  await SmartcardDeviceControl(ext, irp);
  expect(irp.completed).toBe(true);
  return { status: irp.ioStatus.Status, info: irp.ioStatus.Information, hex: Buffer.from(irp.output()).toString('hex') };
}

const le = (v: number): string => Buffer.from(dwordBuf(v)).toString('hex');
const str = (s: string): string => Buffer.from(s, 'latin1').toString('hex');

/** [tag, expected value hex, or an NTSTATUS] with no card in the reader. */
const READER_TAGS: [keyof typeof SCARD_ATTR, string | number][] = [
  ['VENDOR_NAME', str('vscr')],
  ['VENDOR_IFD_TYPE', str('Virtual Reader')],
  ['VENDOR_IFD_VERSION', le(0x01020304)],
  ['VENDOR_IFD_SERIAL_NO', str('SN42')],
  ['CHANNEL_ID', le((0xf0 << 16) | 5)],
  ['PROTOCOL_TYPES', le(3)],
  ['DEFAULT_CLK', le(4000)],
  ['MAX_CLK', le(8000)],
  ['DEFAULT_DATA_RATE', le(10752)],
  ['MAX_DATA_RATE', le(20000)],
  ['MAX_IFSD', le(254)],
  ['POWER_MGMT_SUPPORT', le(1)],
  ['USER_TO_CARD_AUTH_DEVICE', S.STATUS_NOT_SUPPORTED],
  ['USER_AUTH_INPUT_DEVICE', S.STATUS_NOT_SUPPORTED],
  ['CHARACTERISTICS', le(3)],
  ['CURRENT_PROTOCOL_TYPE', S.STATUS_INVALID_DEVICE_STATE],
  ['CURRENT_CLK', S.STATUS_INVALID_DEVICE_STATE],
  ['CURRENT_F', S.STATUS_INVALID_DEVICE_STATE],
  ['CURRENT_D', S.STATUS_INVALID_DEVICE_STATE],
  ['CURRENT_N', S.STATUS_INVALID_DEVICE_STATE],
  ['CURRENT_W', S.STATUS_INVALID_DEVICE_STATE],
  ['CURRENT_IFSC', S.STATUS_INVALID_DEVICE_STATE],
  ['CURRENT_IFSD', S.STATUS_INVALID_DEVICE_STATE],
  ['CURRENT_BWT', S.STATUS_INVALID_DEVICE_STATE],
  ['CURRENT_CWT', S.STATUS_INVALID_DEVICE_STATE],
  ['CURRENT_EBC_ENCODING', S.STATUS_INVALID_DEVICE_STATE],
  ['EXTENDED_BWT', S.STATUS_NOT_SUPPORTED],
  ['ICC_PRESENCE', '00'],
  ['ICC_INTERFACE_STATUS', '00'],
  ['CURRENT_IO_STATE', S.STATUS_NOT_SUPPORTED],
  ['ATR_STRING', S.STATUS_INVALID_DEVICE_STATE],
  ['ICC_TYPE_PER_ATR', S.STATUS_INVALID_DEVICE_STATE],
  ['ESC_RESET', S.STATUS_NOT_SUPPORTED],
  ['ESC_CANCEL', S.STATUS_NOT_SUPPORTED],
  ['ESC_AUTHREQUEST', S.STATUS_NOT_SUPPORTED],
  ['MAXINPUT', S.STATUS_NOT_SUPPORTED],
  ['VENDOR_SPECIFIC_INFO', S.STATUS_NOT_SUPPORTED],
  ['DEVICE_UNIT', le(3)],
  ['DEVICE_IN_USE', S.STATUS_NOT_SUPPORTED],
  ['DEVICE_FRIENDLY_NAME_A', S.STATUS_NOT_SUPPORTED],
  ['DEVICE_SYSTEM_NAME_A', S.STATUS_NOT_SUPPORTED],
  ['DEVICE_FRIENDLY_NAME_W', S.STATUS_NOT_SUPPORTED],
  ['DEVICE_SYSTEM_NAME_W', S.STATUS_NOT_SUPPORTED],
  ['SUPRESS_T1_IFS_REQUEST', S.STATUS_NOT_SUPPORTED],
  ['PERF_NUM_TRANSMISSIONS', S.STATUS_NOT_SUPPORTED],
  ['PERF_BYTES_TRANSMITTED', S.STATUS_NOT_SUPPORTED],
  ['PERF_TRANSMISSION_TIME', S.STATUS_NOT_SUPPORTED],
];

/** The tags whose answer changes once a card is reset (values derived from ATR above by hand). */
const CARD_TAGS: [keyof typeof SCARD_ATTR, string][] = [
  ['CURRENT_PROTOCOL_TYPE', le(WinScard.PROTOCOL_T1)],
  ['CURRENT_CLK', le(4000)],
  ['CURRENT_F', le(512)],
  ['CURRENT_D', le(32)],
  ['CURRENT_N', le(2)],
  ['CURRENT_W', le(20)],
  ['CURRENT_IFSC', le(254)],
  ['CURRENT_IFSD', le(254)],
  ['CURRENT_BWT', le(4)],
  ['CURRENT_CWT', le(5)],
  ['CURRENT_EBC_ENCODING', le(1)],
  ['ICC_PRESENCE', '02'],
  ['ICC_INTERFACE_STATUS', 'ff'],
  ['ATR_STRING', Buffer.from(ATR).toString('hex')],
  ['ICC_TYPE_PER_ATR', '00'],
];

describe('GET_ATTRIBUTE for every §1.5 tag', () => {
  it('covers every identifier in SCARD_ATTR', () => {
    expect(READER_TAGS.map(([n]) => n).sort()).toEqual(Object.keys(SCARD_ATTR).sort());
  });

  for (const [name, expected] of READER_TAGS) {
    it(`no card: ${name} → ${typeof expected === 'string' ? expected : `0x${expected.toString(16)}`}`, async () => {
      const r = await get(reader(), SCARD_ATTR[name]);
      if (typeof expected === 'string') expect([r.status, r.hex, r.info]).toEqual([S.STATUS_SUCCESS, expected, expected.length / 2]);
      else expect([r.status, r.info, r.hex]).toEqual([expected, 0, '']);
    });
  }

  for (const [name, expected] of CARD_TAGS) {
    it(`card reset, T=1: ${name} → ${expected}`, async () => {
      const r = await get(withResetCard(reader()), SCARD_ATTR[name]);
      expect([r.status, r.hex, r.info]).toEqual([S.STATUS_SUCCESS, expected, expected.length / 2]);
    });
  }

  it('ICC_PRESENCE follows CurrentState: ABSENT 0, PRESENT 1, SWALLOWED and above 2, UNKNOWN INVALID_DEVICE_STATE', async () => {
    const ext = reader();
    const expected: [number, string | number][] = [
      [WinScard.UNKNOWN, S.STATUS_INVALID_DEVICE_STATE],
      [WinScard.ABSENT, '00'],
      [WinScard.PRESENT, '01'],
      [WinScard.SWALLOWED, '02'],
      [WinScard.POWERED, '02'],
      [WinScard.NEGOTIABLE, '02'],
      [WinScard.SPECIFIC, '02'],
    ];
    for (const [state, want] of expected) {
      ext.ReaderCapabilities.CurrentState = state;
      const r = await get(ext, SCARD_ATTR.ICC_PRESENCE, 1);
      expect(typeof want === 'string' ? r.hex : r.status, winScardStateName(state)).toBe(want);
    }
    // Contacts are active from POWERED on ([I] threshold).
    ext.ReaderCapabilities.CurrentState = WinScard.SWALLOWED;
    expect((await get(ext, SCARD_ATTR.ICC_INTERFACE_STATUS, 1)).hex).toBe('00');
    ext.ReaderCapabilities.CurrentState = WinScard.POWERED;
    expect((await get(ext, SCARD_ATTR.ICC_INTERFACE_STATUS, 1)).hex).toBe('ff');
  });

  it('the card-tag threshold and ICC_TYPE_PER_ATR are configuration points', async () => {
    const strict = createSmartcardExtension({ options: { attributeCardMinState: WinScard.SPECIFIC, iccTypePerAtr: 5 } });
    SmartcardInitialize(strict);
    withResetCard(strict);
    strict.ReaderCapabilities.CurrentState = WinScard.NEGOTIABLE;
    expect((await get(strict, SCARD_ATTR.ATR_STRING)).status).toBe(S.STATUS_INVALID_DEVICE_STATE);
    strict.ReaderCapabilities.CurrentState = WinScard.SPECIFIC;
    expect((await get(strict, SCARD_ATTR.ICC_TYPE_PER_ATR)).hex).toBe('05');
  });

  it('a string is cut at its first NUL unless configured otherwise; an exact-size buffer is enough', async () => {
    const withNul = createSmartcardExtension({ vendorName: 'PSCR\0' });
    SmartcardInitialize(withNul);
    expect(await get(withNul, SCARD_ATTR.VENDOR_NAME, 4)).toEqual({ status: S.STATUS_SUCCESS, info: 4, hex: str('PSCR') });
    const raw = createSmartcardExtension({ vendorName: 'PSCR\0', options: { stripStringNul: false } });
    SmartcardInitialize(raw);
    expect((await get(raw, SCARD_ATTR.VENDOR_NAME, 4)).status).toBe(S.STATUS_BUFFER_TOO_SMALL);
    expect((await get(raw, SCARD_ATTR.VENDOR_NAME, 5)).hex).toBe(str('PSCR') + '00');
  });
});
