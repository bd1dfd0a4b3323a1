// GET_ATTRIBUTE values served from the extension (docs/smclib.md §1.5, §3.7) and the SET_ATTRIBUTE rules.

import { NTSTATUS } from '../../kernel/ntstatus.js';
import { SCARD_ATTR } from '../constants/scard-attributes.js';
import { WinScard } from '../constants/scard.js';
import { BIT_RATE_ADJUSTMENT, CLOCK_RATE_CONVERSION } from '../constants/smclib.js';
import { currentAtr, type SmartcardExtension } from './extension.js';

export type AttributeValue = { status: typeof NTSTATUS.STATUS_SUCCESS; value: Uint8Array } | { status: number; value?: undefined };

export function dword(value: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value >>> 0, true);
  return out;
}

function ok(value: Uint8Array): AttributeValue {
  return { status: NTSTATUS.STATUS_SUCCESS, value };
}
function fail(status: number): AttributeValue {
  return { status };
}

/** A driver string attribute, cut at the first NUL when configured (drivers often count the terminator, §5.1). */
function stringAttr(ext: SmartcardExtension, bytes: Uint8Array): Uint8Array {
  if (!ext.Options.stripStringNul) return bytes.slice();
  const nul = bytes.indexOf(0);
  return bytes.slice(0, nul < 0 ? bytes.length : nul);
}

/**
 * The value of a library-served attribute, read under the caller's SpinLock. Card-dependent tags need
 * CurrentState ≥ Options.attributeCardMinState, else STATUS_INVALID_DEVICE_STATE [I]; tags the library cannot
 * answer are STATUS_NOT_SUPPORTED.
 */
export function readAttribute(ext: SmartcardExtension, tag: number): AttributeValue {
  const rc = ext.ReaderCapabilities;
  const cc = ext.CardCapabilities;
  const state = rc.CurrentState;
  const cardReady = state >= ext.Options.attributeCardMinState;
  const cardDword = (value: number): AttributeValue => (cardReady ? ok(dword(value)) : fail(NTSTATUS.STATUS_INVALID_DEVICE_STATE));
  switch (tag >>> 0) {
    case SCARD_ATTR.VENDOR_NAME:
      return ok(stringAttr(ext, ext.VendorAttr.VendorName));
    case SCARD_ATTR.VENDOR_IFD_TYPE:
      return ok(stringAttr(ext, ext.VendorAttr.IfdType));
    case SCARD_ATTR.VENDOR_IFD_VERSION: {
      const v = ext.VendorAttr.IfdVersion;
      return ok(dword(((v.VersionMajor & 0xff) << 24) | ((v.VersionMinor & 0xff) << 16) | (v.BuildNumber & 0xffff)));
    }
    case SCARD_ATTR.VENDOR_IFD_SERIAL_NO:
      return ext.VendorAttr.IfdSerialNo.length === 0 ? fail(NTSTATUS.STATUS_NOT_SUPPORTED) : ok(stringAttr(ext, ext.VendorAttr.IfdSerialNo));
    case SCARD_ATTR.CHANNEL_ID:
      return ok(dword(((rc.ReaderType & 0xffff) << 16) | (rc.Channel & 0xffff)));
    case SCARD_ATTR.PROTOCOL_TYPES:
      return ok(dword(rc.SupportedProtocols));
    case SCARD_ATTR.DEFAULT_CLK:
      return ok(dword(rc.CLKFrequency.Default));
    case SCARD_ATTR.MAX_CLK:
      return ok(dword(rc.CLKFrequency.Max));
    case SCARD_ATTR.DEFAULT_DATA_RATE:
      return ok(dword(rc.DataRate.Default));
    case SCARD_ATTR.MAX_DATA_RATE:
      return ok(dword(rc.DataRate.Max));
    case SCARD_ATTR.MAX_IFSD:
      return ok(dword(rc.MaxIFSD));
    case SCARD_ATTR.POWER_MGMT_SUPPORT:
      return ok(dword(rc.PowerMgmtSupport));
    case SCARD_ATTR.CHARACTERISTICS:
      return ok(dword(rc.MechProperties));
    case SCARD_ATTR.DEVICE_UNIT:
      return ok(dword(ext.VendorAttr.UnitNo));
    case SCARD_ATTR.CURRENT_PROTOCOL_TYPE:
      return cardDword(cc.Protocol.Selected);
    case SCARD_ATTR.CURRENT_CLK:
      return cardDword(cc.PtsData.CLKFrequency || rc.CLKFrequency.Default);
    case SCARD_ATTR.CURRENT_F:
      return cardDword(CLOCK_RATE_CONVERSION[cc.Fl & 0x0f].F);
    case SCARD_ATTR.CURRENT_D:
      return cardDword(BIT_RATE_ADJUSTMENT[cc.Dl & 0x0f]);
    case SCARD_ATTR.CURRENT_N:
      return cardDword(cc.N);
    case SCARD_ATTR.CURRENT_W:
      return cardDword(cc.T0.WI);
    case SCARD_ATTR.CURRENT_IFSC:
      return cardDword(ext.T1.IFSC || cc.T1.IFSC);
    case SCARD_ATTR.CURRENT_IFSD:
      return cardDword(ext.T1.IFSD || rc.MaxIFSD);
    case SCARD_ATTR.CURRENT_BWT:
      return cardDword(cc.T1.BWI);
    case SCARD_ATTR.CURRENT_CWT:
      return cardDword(cc.T1.CWI);
    case SCARD_ATTR.CURRENT_EBC_ENCODING:
      return cardDword(cc.T1.EDC);
    case SCARD_ATTR.ICC_PRESENCE:
      if (state === WinScard.UNKNOWN) return fail(NTSTATUS.STATUS_INVALID_DEVICE_STATE);
      return ok(Uint8Array.of(state === WinScard.ABSENT ? 0 : state === WinScard.PRESENT ? 1 : 2));
    case SCARD_ATTR.ICC_INTERFACE_STATUS:
      return ok(Uint8Array.of(state >= WinScard.POWERED ? 0xff : 0));
    case SCARD_ATTR.ATR_STRING:
      return cardReady && cc.ATR.Length > 0 ? ok(currentAtr(ext)) : fail(NTSTATUS.STATUS_INVALID_DEVICE_STATE);
    case SCARD_ATTR.ICC_TYPE_PER_ATR:
      return cardReady ? ok(Uint8Array.of(ext.Options.iccTypePerAtr & 0xff)) : fail(NTSTATUS.STATUS_INVALID_DEVICE_STATE);
    default:
      // USER_*_DEVICE, EXTENDED_BWT, CURRENT_IO_STATE, DEVICE_*_NAME (the RM's), PERF_* (debug builds only).
      return fail(NTSTATUS.STATUS_NOT_SUPPORTED);
  }
}

/** SET_ATTRIBUTE for library tags (§3.7): DEVICE_IN_USE and SUPRESS_T1_IFS_REQUEST succeed when configured. */
export function writeAttribute(ext: SmartcardExtension, tag: number, value: Uint8Array): number {
  switch (tag >>> 0) {
    case SCARD_ATTR.DEVICE_IN_USE:
      return ext.Options.setDeviceInUseSucceeds ? NTSTATUS.STATUS_SUCCESS : NTSTATUS.STATUS_NOT_SUPPORTED;
    case SCARD_ATTR.SUPRESS_T1_IFS_REQUEST:
      if (!ext.Options.setSuppressT1IfsSucceeds) return NTSTATUS.STATUS_NOT_SUPPORTED;
      ext.T1.SuppressIfsRequest = value.length === 0 || value.some((b) => b !== 0);
      return NTSTATUS.STATUS_SUCCESS;
    default:
      return NTSTATUS.STATUS_NOT_SUPPORTED;
  }
}
