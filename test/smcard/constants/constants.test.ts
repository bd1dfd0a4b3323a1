// Constant values against the tables of docs/smclib.md §1.1–§1.5: the numbers must be Windows' numbers; their
// display names must read like the forum thread's debugger log (docs/background.md).

import { describe, expect, it } from 'vitest';
import { IOCTL_SMARTCARD, formatIoctl, ioctlName, isVendorIoctl, scardCtlCode } from '../../../smcard/constants/ioctl.js';
import { SCARD_ATTR, scardAttrName } from '../../../smcard/constants/scard-attributes.js';
import { WinScard, winScardStateName } from '../../../smcard/constants/scard.js';
import * as smc from '../../../smcard/constants/smclib.js';
import { GUID_DEVINTERFACE_SMARTCARD_READER } from '../../../smcard/reader/contract.js';
import { NTSTATUS, formatNtStatus, ntStatusName, ntSuccess } from '../../../kernel/ntstatus.js';

describe('IOCTL codes (§1.1)', () => {
  it('match the hex and decimal columns', () => {
    const table: [keyof typeof IOCTL_SMARTCARD, number, number][] = [
      ['POWER', 0x00310004, 3211268],
      ['GET_ATTRIBUTE', 0x00310008, 3211272],
      ['SET_ATTRIBUTE', 0x0031000c, 3211276],
      ['CONFISCATE', 0x00310010, 3211280],
      ['TRANSMIT', 0x00310014, 3211284],
      ['EJECT', 0x00310018, 3211288],
      ['SWALLOW', 0x0031001c, 3211292],
      ['IS_PRESENT', 0x00310028, 3211304],
      ['IS_ABSENT', 0x0031002c, 3211308],
      ['SET_PROTOCOL', 0x00310030, 3211312],
      ['GET_STATE', 0x00310038, 3211320],
      ['GET_LAST_ERROR', 0x0031003c, 3211324],
      ['GET_PERF_CNTR', 0x00310040, 3211328],
      ['GET_FEATURE_REQUEST', 0x00313520, 3224864],
    ];
    for (const [name, hexValue, dec] of table) {
      expect(IOCTL_SMARTCARD[name]).toBe(hexValue);
      expect(IOCTL_SMARTCARD[name]).toBe(dec);
    }
  });

  it('display as the forum needs them', () => {
    expect(formatIoctl(IOCTL_SMARTCARD.IS_ABSENT)).toBe('IOCTL_SMARTCARD_IS_ABSENT (0x31002C)');
    expect(ioctlName(scardCtlCode(2049))).toBe('SCARD_CTL_CODE(2049)');
    expect(ioctlName(0x00220004)).toBe('IOCTL_0x00220004');
  });

  it('detect the vendor range by bit 11 of the function', () => {
    expect(isVendorIoctl(scardCtlCode(2048))).toBe(true);
    expect(isVendorIoctl(scardCtlCode(4095))).toBe(true);
    expect(isVendorIoctl(scardCtlCode(2047))).toBe(false);
    expect(isVendorIoctl(IOCTL_SMARTCARD.GET_FEATURE_REQUEST)).toBe(true);
  });
});

describe('states, protocols, SMCLIB values (§1.2–§1.4)', () => {
  it('have the Windows values', () => {
    expect([WinScard.UNKNOWN, WinScard.ABSENT, WinScard.PRESENT, WinScard.SWALLOWED, WinScard.POWERED, WinScard.NEGOTIABLE, WinScard.SPECIFIC]).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(winScardStateName(5)).toBe('SCARD_NEGOTIABLE');
    expect([WinScard.PROTOCOL_T0, WinScard.PROTOCOL_T1, WinScard.PROTOCOL_Tx, WinScard.PROTOCOL_RAW, WinScard.PROTOCOL_DEFAULT]).toEqual([1, 2, 3, 0x10000, 0x80000000]);
    expect([WinScard.POWER_DOWN, WinScard.COLD_RESET, WinScard.WARM_RESET]).toEqual([0, 1, 2]);
    expect(WinScard.READER_TYPE_VENDOR).toBe(0xf0);
    expect(WinScard.READER_TYPE_EMBEDDEDSE).toBe(0x800);
    expect([WinScard.READER_SWALLOWS, WinScard.READER_EJECTS, WinScard.READER_CONFISCATES, WinScard.READER_CONTACTLESS]).toEqual([1, 2, 4, 8]);
    expect([smc.SMCLIB_VERSION, smc.SMCLIB_VERSION_REQUIRED, smc.MIN_BUFFER_SIZE, smc.MAXIMUM_ATR_LENGTH]).toEqual([0x150, 0x100, 288, 33]);
    expect([smc.RDF_CARD_POWER, smc.RDF_TRANSMIT, smc.RDF_CARD_TRACKING, smc.RDF_SET_PROTOCOL, smc.RDF_IOCTL_VENDOR, smc.RDF_ATR_PARSE]).toEqual([0, 1, 4, 5, 8, 9]);
    expect(smc.CLOCK_RATE_CONVERSION.map((e) => e.F)).toEqual([372, 372, 558, 744, 1116, 1488, 1860, 0, 0, 512, 768, 1024, 1536, 2048, 0, 0]);
    expect(smc.BIT_RATE_ADJUSTMENT.slice(0, 10)).toEqual([0, 1, 2, 4, 8, 16, 32, 64, 12, 20]);
    expect(smc.SMARTCARD_READER_GUID).toBe(GUID_DEVINTERFACE_SMARTCARD_READER);
  });

  it('attribute identifiers follow SCARD_ATTR_VALUE(class, tag) and have names', () => {
    expect(SCARD_ATTR.VENDOR_NAME).toBe(65792);
    expect(SCARD_ATTR.CHANNEL_ID).toBe(131344);
    expect(SCARD_ATTR.USER_TO_CARD_AUTH_DEVICE).toBe(328000);
    expect(SCARD_ATTR.EXTENDED_BWT).toBe(524812);
    expect(SCARD_ATTR.ESC_RESET).toBe(499712);
    expect(SCARD_ATTR.DEVICE_UNIT).toBe(2147418113);
    expect(SCARD_ATTR.PERF_TRANSMISSION_TIME).toBe(0x7ffe0003);
    expect(scardAttrName(0x00010100)).toBe('SCARD_ATTR_VENDOR_NAME');
    expect(scardAttrName(0x12345678)).toBe('SCARD_ATTR_0x12345678');
  });
});

describe('NTSTATUS values the smart-card stack answers with (§1.6)', () => {
  it('match ntstatus.h', () => {
    const table: [keyof typeof NTSTATUS, number][] = [
      ['STATUS_SUCCESS', 0x00000000],
      ['STATUS_TIMEOUT', 0x00000102],
      ['STATUS_PENDING', 0x00000103],
      ['STATUS_BUFFER_OVERFLOW', 0x80000005],
      ['STATUS_DEVICE_POWERED_OFF', 0x8000000f],
      ['STATUS_DEVICE_BUSY', 0x80000011],
      ['STATUS_UNSUCCESSFUL', 0xc0000001],
      ['STATUS_INVALID_PARAMETER', 0xc000000d],
      ['STATUS_INVALID_DEVICE_REQUEST', 0xc0000010],
      ['STATUS_UNRECOGNIZED_MEDIA', 0xc0000014],
      ['STATUS_MORE_PROCESSING_REQUIRED', 0xc0000016],
      ['STATUS_ACCESS_DENIED', 0xc0000022],
      ['STATUS_BUFFER_TOO_SMALL', 0xc0000023],
      ['STATUS_CRC_ERROR', 0xc000003f],
      ['STATUS_INSUFFICIENT_RESOURCES', 0xc000009a],
      ['STATUS_IO_TIMEOUT', 0xc00000b5],
      ['STATUS_NOT_SUPPORTED', 0xc00000bb],
      ['STATUS_CANCELLED', 0xc0000120],
      ['STATUS_NO_MEDIA', 0xc0000178],
      ['STATUS_INVALID_DEVICE_STATE', 0xc0000184],
      ['STATUS_IO_DEVICE_ERROR', 0xc0000185],
      ['STATUS_DEVICE_PROTOCOL_ERROR', 0xc0000186],
      ['STATUS_DEVICE_REMOVED', 0xc00002b6],
    ];
    for (const [name, value] of table) {
      expect(NTSTATUS[name], name).toBe(value);
      expect(ntStatusName(value)).toBe(name);
    }
    expect(formatNtStatus(0x80000011)).toBe('STATUS_DEVICE_BUSY (0x80000011)');
    // DEVICE_BUSY is a warning, not an error: NT_SUCCESS is false but Information is kept by the library.
    expect([ntSuccess(NTSTATUS.STATUS_PENDING), ntSuccess(NTSTATUS.STATUS_DEVICE_BUSY), ntSuccess(NTSTATUS.STATUS_CANCELLED)]).toEqual([true, false, false]);
  });
});
