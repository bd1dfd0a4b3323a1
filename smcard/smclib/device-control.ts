// SmartcardDeviceControl: the generic rules of docs/smclib.md §3.1 and the per-IOCTL contract of §3.2–§3.7.
// The library answers what needs no hardware and calls the driver's RDF_* callbacks for the rest.

import { IrpLifecycleError, type Irp } from '../../kernel/irp.js';
import { NTSTATUS, ntSuccess, asNtStatus, type NtStatus } from '../../kernel/ntstatus.js';
import { ctlDeviceType, FILE_DEVICE_SMARTCARD } from '../../kernel/ctl-code.js';
import { IOCTL_SMARTCARD } from '../constants/ioctl.js';
import { SCARD_CLASS_VENDOR_DEFINED, scardAttrClass } from '../constants/scard-attributes.js';
import { WinScard } from '../constants/scard.js';
import {
  RDF_ATR_PARSE,
  RDF_CARD_CONFISCATE,
  RDF_CARD_EJECT,
  RDF_CARD_POWER,
  RDF_CARD_TRACKING,
  RDF_IOCTL_VENDOR,
  RDF_READER_SWALLOW,
  RDF_SET_PROTOCOL,
  RDF_TRANSMIT,
  PTS_TYPE_DEFAULT,
  PTS_TYPE_OPTIMAL,
  SCARD_ATR_LENGTH,
  SMCLIB_VERSION_REQUIRED,
} from '../constants/smclib.js';
import { SmartcardUpdateCardCapabilities } from './atr.js';
import { dword, readAttribute, writeAttribute } from './attributes.js';
import { SmartcardInitializeCardCapabilities, type SmartcardExtension } from './extension.js';
import { transmitCheckStatus } from './transmit.js';

const S = NTSTATUS;

/** Completes the IRP (§3.1.7): error statuses carry no data, so Information is forced to 0 for them. */
function finish(irp: Irp, status: number, information = 0): NtStatus {
  const isError = (status >>> 0) >= 0xc0000000;
  irp.complete(asNtStatus(status), isError ? 0 : information);
  return asNtStatus(status);
}

/** §3.1.3: the set-up every callback (except tracking) relies on. */
function setUp(ext: SmartcardExtension, irp: Irp, minor: number): void {
  ext.IoRequest.RequestBuffer = irp.systemBuffer.subarray(0, irp.inputBufferLength);
  ext.IoRequest.RequestBufferLength = irp.inputBufferLength;
  ext.IoRequest.ReplyBuffer = irp.systemBuffer.subarray(0, irp.outputBufferLength);
  ext.IoRequest.ReplyBufferLength = irp.outputBufferLength;
  ext.IoRequest.Information = { value: 0 };
  ext.MajorIoControlCode = irp.ioControlCode;
  ext.MinorIoControlCode = minor >>> 0;
  ext.OsData.CurrentIrp = irp;
}

/**
 * Calls ReaderFunction[index] with the IRP set up, and completes it with the callback's status and
 * IoRequest.Information. STATUS_PENDING from a non-tracking callback blocks the library (§3.1.6) until the
 * driver completes CurrentIrp.
 */
async function callDriver(ext: SmartcardExtension, irp: Irp, index: number, minor: number): Promise<number> {
  const callback = ext.ReaderFunction[index];
  if (!callback) return finish(irp, S.STATUS_NOT_SUPPORTED);
  setUp(ext, irp, minor);
  irp.onCompletion(() => {
    if (ext.OsData.BlockedByPending === irp) ext.OsData.BlockedByPending = null;
    if (ext.OsData.CurrentIrp === irp) ext.OsData.CurrentIrp = null;
  });
  const status = (await invoke(ext, irp, callback)) >>> 0;
  if (status === S.STATUS_PENDING) {
    if (!irp.completed) {
      irp.markPending();
      ext.OsData.BlockedByPending = irp;
    }
    return S.STATUS_PENDING;
  }
  ext.OsData.CurrentIrp = null;
  return finish(irp, status, ext.IoRequest.Information.value);
}

/** A throwing callback is a driver fault: the IRP fails with STATUS_UNSUCCESSFUL; IRP life-cycle bugs stay loud. */
function invoke(ext: SmartcardExtension, irp: Irp, callback: (e: SmartcardExtension) => Promise<number>): Promise<number> {
  // Promise chaining rather than an async wrapper: this runs for every callback IRP.
  let pending: Promise<number>;
  try {
    pending = Promise.resolve(callback(ext));
  } catch (err) {
    return Promise.resolve(callbackFailed(ext, irp, err));
  }
  return pending.catch((err: unknown) => callbackFailed(ext, irp, err));
}

function callbackFailed(ext: SmartcardExtension, irp: Irp, err: unknown): number {
  if (err instanceof IrpLifecycleError) throw err;
  if (irp.completed) return S.STATUS_PENDING; // the driver completed it itself before throwing
  ext.IoRequest.Information.value = 0;
  return S.STATUS_UNSUCCESSFUL;
}

/**
 * §1.1: function 2048..4095 is bit 11 of the function field, bit 13 (0x2000) of the code. docs/smclib.md's literal test
 * ignores the device type; the stricter one (configurable) also requires FILE_DEVICE_SMARTCARD.
 */
function isVendor(ext: SmartcardExtension, code: number): boolean {
  const bit11 = (code & 0x2000) !== 0;
  return ext.Options.vendorRangeByBit11 ? bit11 : bit11 && ctlDeviceType(code) === FILE_DEVICE_SMARTCARD;
}

/**
 * SmartcardDeviceControl(ext, irp). Returns the status it completed the IRP with, STATUS_PENDING when the IRP
 * is pending, or — without completing the IRP — an error for driver-parameter mistakes (§3.1.2), which the
 * driver must complete itself.
 */
export function SmartcardDeviceControl(ext: SmartcardExtension, irp: Irp): Promise<number> {
  // Not async: the TRANSMIT path hands back the mutex's promise itself instead of wrapping it in another one
  // (an async function returning a promise costs an extra promise and two turns per IRP). A throw still
  // becomes a rejection, as it would from an async function.
  try {
    return Promise.resolve(route(ext, irp));
  } catch (err) {
    return Promise.reject(err);
  }
}

function route(ext: SmartcardExtension, irp: Irp): Promise<number> | number {
  if (!(ext.Version >= SMCLIB_VERSION_REQUIRED)) return ext.Options.driverParameterErrorStatus >>> 0;
  if (irp.completed) throw new IrpLifecycleError(`IRP ${irp.id} handed to SmartcardDeviceControl after completion`);
  if (ext.OsData.BlockedByPending) return finish(irp, S.STATUS_DEVICE_BUSY);
  const code = irp.ioControlCode;
  switch (code) {
    case IOCTL_SMARTCARD.GET_STATE:
      return getState(ext, irp);
    case IOCTL_SMARTCARD.GET_ATTRIBUTE:
      return getAttribute(ext, irp);
    case IOCTL_SMARTCARD.SET_ATTRIBUTE:
      return setAttribute(ext, irp);
    case IOCTL_SMARTCARD.GET_LAST_ERROR:
      if (irp.outputBufferLength < 4) return finish(irp, S.STATUS_BUFFER_TOO_SMALL);
      irp.systemBuffer.set(dword(ext.Options.getLastError === 'zero' ? 0 : ext.LastError));
      return finish(irp, S.STATUS_SUCCESS, 4);
    case IOCTL_SMARTCARD.GET_PERF_CNTR:
      return finish(irp, ext.Options.perfCounterStatus);
    case IOCTL_SMARTCARD.IS_PRESENT:
      return tracking(ext, irp, true);
    case IOCTL_SMARTCARD.IS_ABSENT:
      return tracking(ext, irp, false);
    case IOCTL_SMARTCARD.POWER:
      return power(ext, irp);
    case IOCTL_SMARTCARD.SET_PROTOCOL:
      return serialised(ext, irp, () => setProtocol(ext, irp));
    case IOCTL_SMARTCARD.TRANSMIT:
      return serialised(ext, irp, () => transmit(ext, irp));
    case IOCTL_SMARTCARD.EJECT:
      return serialised(ext, irp, () => callDriver(ext, irp, RDF_CARD_EJECT, 0));
    case IOCTL_SMARTCARD.SWALLOW:
      return serialised(ext, irp, () => callDriver(ext, irp, RDF_READER_SWALLOW, 0));
    case IOCTL_SMARTCARD.CONFISCATE:
      return serialised(ext, irp, () => callDriver(ext, irp, RDF_CARD_CONFISCATE, 0));
    default:
      if (isVendor(ext, code) && ext.ReaderFunction[RDF_IOCTL_VENDOR]) {
        return serialised(ext, irp, () => callDriver(ext, irp, RDF_IOCTL_VENDOR, irp.inputDword() ?? 0));
      }
      return finish(irp, ext.Options.unknownIoctlStatus);
  }
}

/**
 * Runs a callback-bearing IOCTL under OsData.Mutex. The blocked and cancelled checks are repeated inside,
 * because the IRP may have waited behind a callback that pended, or been cancelled by CLEANUP meanwhile.
 */
function serialised(ext: SmartcardExtension, irp: Irp, body: () => Promise<number> | number): Promise<number> {
  // Not an async arrow: the mutex calls it inside a then(), which already turns a throw into a rejection, and
  // returning body()'s promise directly saves the extra turns an async wrapper costs on every TRANSMIT.
  return ext.OsData.Mutex.run(() => {
    if (ext.OsData.BlockedByPending) return finish(irp, S.STATUS_DEVICE_BUSY);
    if (irp.cancelled) return finish(irp, S.STATUS_CANCELLED);
    return body();
  });
}

function getState(ext: SmartcardExtension, irp: Irp): number {
  if (irp.outputBufferLength < 4) return finish(irp, S.STATUS_BUFFER_TOO_SMALL);
  const state = ext.OsData.SpinLock.run(() => ext.ReaderCapabilities.CurrentState);
  irp.systemBuffer.set(dword(state));
  return finish(irp, S.STATUS_SUCCESS, 4);
}

/**
 * §3.7 [I]: a vendor-class tag (class 7) is the driver's to answer when it has RDF_IOCTL_VENDOR; without one (or
 * with the routing switched off) the library's table answers, which knows no class-7 tag: NOT_SUPPORTED.
 */
function toVendor(ext: SmartcardExtension, tag: number): boolean {
  return ext.Options.vendorClassAttributesToVendor && scardAttrClass(tag) === SCARD_CLASS_VENDOR_DEFINED && Boolean(ext.ReaderFunction[RDF_IOCTL_VENDOR]);
}

async function getAttribute(ext: SmartcardExtension, irp: Irp): Promise<number> {
  const tag = irp.inputDword();
  if (tag === undefined || (ext.Options.attributeInputExact && irp.inputBufferLength !== 4)) return finish(irp, S.STATUS_INVALID_PARAMETER);
  if (toVendor(ext, tag)) return serialised(ext, irp, () => callDriver(ext, irp, RDF_IOCTL_VENDOR, tag));
  const attr = ext.OsData.SpinLock.run(() => readAttribute(ext, tag));
  if (attr.value === undefined) return finish(irp, attr.status);
  if (attr.value.length > irp.outputBufferLength) return finish(irp, S.STATUS_BUFFER_TOO_SMALL);
  irp.systemBuffer.set(attr.value);
  return finish(irp, S.STATUS_SUCCESS, attr.value.length);
}

async function setAttribute(ext: SmartcardExtension, irp: Irp): Promise<number> {
  const tag = irp.inputDword();
  if (tag === undefined) return finish(irp, S.STATUS_INVALID_PARAMETER);
  if (toVendor(ext, tag)) return serialised(ext, irp, () => callDriver(ext, irp, RDF_IOCTL_VENDOR, tag));
  const value = irp.systemBuffer.slice(4, irp.inputBufferLength);
  return finish(irp, ext.OsData.SpinLock.run(() => writeAttribute(ext, tag, value)));
}

/** §3.3 library algorithm for IS_PRESENT (wantPresent) / IS_ABSENT. */
function tracking(ext: SmartcardExtension, irp: Irp, wantPresent: boolean): Promise<number> {
  const o = ext.Options;
  if (o.trackingRequireZeroLengths && (irp.inputBufferLength !== 0 || irp.outputBufferLength !== 0)) {
    return Promise.resolve(finish(irp, S.STATUS_INVALID_PARAMETER));
  }
  return serialised(ext, irp, async () => {
    const decision = ext.OsData.SpinLock.run(() => {
      const os = ext.OsData;
      // (a) busy check FIRST [I]: the order that reproduces the forum thread's IS_ABSENT -> DEVICE_BUSY (docs/background.md).
      if (o.trackingBusyCheckFirst && os.NotificationIrp !== null) return 'busy';
      // (b) already satisfied [D]
      const present = ext.ReaderCapabilities.CurrentState > o.presenceThreshold;
      if (present === wantPresent) return 'satisfied';
      if (!o.trackingBusyCheckFirst && os.NotificationIrp !== null) return 'busy';
      if (!ext.ReaderFunction[RDF_CARD_TRACKING]) return 'unsupported';
      os.NotificationIrp = irp;
      return 'call';
    });
    if (decision === 'busy') return finish(irp, S.STATUS_DEVICE_BUSY);
    if (decision === 'satisfied') return finish(irp, S.STATUS_SUCCESS);
    if (decision === 'unsupported') return finish(irp, S.STATUS_NOT_SUPPORTED);
    ext.MajorIoControlCode = irp.ioControlCode;
    ext.MinorIoControlCode = 0;
    const callback = ext.ReaderFunction[RDF_CARD_TRACKING]!;
    const status = (await invoke(ext, irp, callback)) >>> 0;
    if (status === S.STATUS_PENDING) {
      if (!irp.completed) irp.markPending();
      return S.STATUS_PENDING;
    }
    // (d) non-PENDING: the library completes the IRP; only the driver clears NotificationIrp [I].
    if (o.clearNotificationOnNonPending) {
      ext.OsData.SpinLock.run(() => {
        if (ext.OsData.NotificationIrp === irp) ext.OsData.NotificationIrp = null;
      });
    }
    return finish(irp, status);
  });
}

/** §3.4 POWER. */
function power(ext: SmartcardExtension, irp: Irp): Promise<number> | number {
  const code = irp.inputDword();
  if (code === undefined) return finish(irp, S.STATUS_INVALID_PARAMETER);
  if (code !== WinScard.POWER_DOWN && code !== WinScard.COLD_RESET && code !== WinScard.WARM_RESET) return finish(irp, ext.Options.badPowerCodeStatus);
  if (code !== WinScard.POWER_DOWN && irp.outputBufferLength < SCARD_ATR_LENGTH) return finish(irp, S.STATUS_BUFFER_TOO_SMALL);
  return serialised(ext, irp, () => {
    const present = ext.OsData.SpinLock.run(() => ext.ReaderCapabilities.CurrentState > WinScard.ABSENT);
    if (!present) return Promise.resolve(finish(irp, S.STATUS_NO_MEDIA));
    if (!ext.ReaderFunction[RDF_CARD_POWER]) return Promise.resolve(finish(irp, S.STATUS_NOT_SUPPORTED));
    if (ext.Options.initializeCardCapabilitiesOnPower) ext.OsData.SpinLock.run(() => SmartcardInitializeCardCapabilities(ext));
    return callDriver(ext, irp, RDF_CARD_POWER, code);
  });
}

/** §3.5 SET_PROTOCOL, steps 1–7 in order. */
async function setProtocol(ext: SmartcardExtension, irp: Irp): Promise<number> {
  const mask = irp.inputDword();
  if (mask === undefined) return finish(irp, S.STATUS_INVALID_PARAMETER);
  if (irp.outputBufferLength < 4) return finish(irp, S.STATUS_BUFFER_TOO_SMALL);
  if (!ext.ReaderFunction[RDF_SET_PROTOCOL]) return finish(irp, S.STATUS_NOT_SUPPORTED);
  const cc = ext.CardCapabilities;
  const state = ext.OsData.SpinLock.run(() => ext.ReaderCapabilities.CurrentState);
  if (state === WinScard.SPECIFIC && (cc.Protocol.Selected & mask) !== 0) {
    irp.systemBuffer.set(dword(cc.Protocol.Selected));
    return finish(irp, S.STATUS_SUCCESS, 4);
  }
  if (state <= WinScard.ABSENT) return finish(irp, ext.Options.setProtocolNoCardStatus);
  // Step 4 needs an ATR; before the first reset there is none, and step 5 reports that case.
  if ((mask & (WinScard.PROTOCOL_T0 | WinScard.PROTOCOL_T1)) !== 0 && cc.ATR.Length > 0) {
    cc.PtsData.Type = (mask & WinScard.PROTOCOL_DEFAULT) !== 0 ? PTS_TYPE_DEFAULT : PTS_TYPE_OPTIMAL;
    let parsed = SmartcardUpdateCardCapabilities(ext);
    const atrParse = ext.ReaderFunction[RDF_ATR_PARSE];
    if (parsed === S.STATUS_UNRECOGNIZED_MEDIA && atrParse) parsed = (await invoke(ext, irp, atrParse)) >>> 0;
    if (!ntSuccess(parsed)) return finish(irp, parsed);
  }
  if (state < WinScard.NEGOTIABLE) return finish(irp, S.STATUS_INVALID_DEVICE_STATE);
  if ((cc.Protocol.Supported & mask) === 0) return finish(irp, S.STATUS_NOT_SUPPORTED);
  return callDriver(ext, irp, RDF_SET_PROTOCOL, mask);
}

/** §3.6 TRANSMIT: library checks, then RDF_TRANSMIT (which writes the header via writeTransmitReply). */
function transmit(ext: SmartcardExtension, irp: Irp): Promise<number> | number {
  const status = transmitCheckStatus(ext, irp.systemBuffer, irp.inputBufferLength, irp.outputBufferLength);
  if (status !== S.STATUS_SUCCESS) return finish(irp, status);
  return callDriver(ext, irp, RDF_TRANSMIT, 0);
}
