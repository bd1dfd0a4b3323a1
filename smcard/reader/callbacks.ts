// The virtual reader driver's RDF_* callbacks over a VirtualCard, and its card-state updates (docs/smclib.md §3.3–§3.6,
// §4): card tracking kept pending with a cancel routine, or — in the `forum-broken` variant — the forum thread's bug (docs/background.md).

import type { Logger } from 'pino';
import type { CancelRoutine, Irp } from '../../kernel/irp.js';
import { NTSTATUS, asNtStatus } from '../../kernel/ntstatus.js';
import { IOCTL_SMARTCARD } from '../constants/ioctl.js';
import { WinScard } from '../constants/scard.js';
import {
  MAXIMUM_ATR_LENGTH,
  RDF_CARD_EJECT,
  RDF_CARD_POWER,
  RDF_CARD_TRACKING,
  RDF_IOCTL_VENDOR,
  RDF_READER_SWALLOW,
  RDF_SET_PROTOCOL,
  RDF_TRANSMIT,
} from '../constants/smclib.js';
import type { VirtualCard } from '../card/contract.js';
import { SmartcardUpdateCardCapabilities } from '../smclib/atr.js';
import { dword } from '../smclib/attributes.js';
import { SmartcardInitializeCardCapabilities, type SmartcardExtension } from '../smclib/extension.js';
import { requestApdu, SmartcardT0Request, writeTransmitReply } from '../smclib/transmit.js';
import type { ReaderDriverVariant } from './contract.js';
import { applyTransmitFault, type ReaderFaults } from './faults/reader-faults.js';
import type { PinpadDriver } from './pinpad/pinpad-driver.js';
import type { ReaderDriverConfig } from './driver-config.js';

/** The driver's private state (ReaderExtension): the slot and how to reach the trace and log. */
export interface ReaderDriverContext {
  /** The card in the slot right now (null when empty). */
  card(): VirtualCard | null;
  /** RDF_CARD_EJECT: take the card out of the slot. */
  ejectCard(): void;
  /** A power failure (fault): the card in the slot loses power, nobody is told. */
  cutCardPower(): Promise<void>;
  readonly variant: ReaderDriverVariant;
  readonly config: ReaderDriverConfig;
  readonly log: Logger;
  /** Records `<name>: Entry` on the IRP's trace entry. */
  note(irp: Irp | null, name: string): void;
  /** The PIN pad of a `pinpad` reader; it answers the PC/SC part 10 IOCTLs. */
  readonly pinpad?: PinpadDriver | null;
  /** Faults armed on this reader (docs/faults.md); consulted on every TRANSMIT. */
  readonly faults?: ReaderFaults;
}

function ctx(ext: SmartcardExtension): ReaderDriverContext {
  return ext.ReaderExtension as ReaderDriverContext;
}

const S = NTSTATUS;

/** RDF_CARD_POWER (§3.4): cold/warm reset returns the ATR; power-down deactivates. */
async function cbCardPower(ext: SmartcardExtension): Promise<number> {
  const c = ctx(ext);
  c.note(ext.OsData.CurrentIrp, 'CBCardPower');
  const card = c.card();
  if (!card) return S.STATUS_NO_MEDIA;
  const io = ext.IoRequest;
  const code = ext.MinorIoControlCode;
  const lock = ext.OsData.SpinLock;
  if (code === WinScard.POWER_DOWN) {
    await card.powerDown();
    return lock.run(() => {
      if (c.card() !== card) return c.config.cardGonePowerStatus;
      ext.CardCapabilities.Protocol.Selected = 0;
      ext.ReaderCapabilities.CurrentState = c.config.powerDownState;
      io.Information.value = 0;
      return S.STATUS_SUCCESS;
    });
  }
  // WARM_RESET on an unpowered card falls through to a cold reset (PSCR CBCardPower).
  const warm = code === WinScard.WARM_RESET && lock.run(() => ext.ReaderCapabilities.CurrentState > WinScard.SWALLOWED);
  let atr: Uint8Array;
  try {
    atr = warm ? await card.warmReset() : await card.coldReset();
  } catch (err) {
    c.log.warn({ err }, 'card reset failed');
    return c.card() === card ? S.STATUS_UNRECOGNIZED_MEDIA : c.config.cardGonePowerStatus;
  }
  return lock.run(() => {
    if (c.card() !== card) return c.config.cardGonePowerStatus; // removed while resetting: tracking reports it
    const cc = ext.CardCapabilities;
    ext.ReaderCapabilities.CurrentState = WinScard.POWERED;
    if (atr.length > MAXIMUM_ATR_LENGTH) return S.STATUS_UNRECOGNIZED_MEDIA;
    cc.ATR.Buffer.fill(0);
    cc.ATR.Buffer.set(atr);
    cc.ATR.Length = atr.length;
    if (SmartcardUpdateCardCapabilities(ext) !== S.STATUS_SUCCESS) return S.STATUS_UNRECOGNIZED_MEDIA;
    if (atr.length > io.ReplyBufferLength) return S.STATUS_BUFFER_TOO_SMALL;
    const specific = c.config.honourSpecificMode && cc.SpecificMode.Present;
    const specificBit = cc.SpecificMode.Protocol === 1 ? WinScard.PROTOCOL_T1 : cc.SpecificMode.Protocol === 0 ? WinScard.PROTOCOL_T0 : 0;
    if (specific && (specificBit & cc.Protocol.Supported) !== 0) {
      cc.Protocol.Selected = specificBit;
      ext.ReaderCapabilities.CurrentState = WinScard.SPECIFIC;
    } else {
      cc.Protocol.Selected = 0;
      ext.ReaderCapabilities.CurrentState = WinScard.NEGOTIABLE;
    }
    io.ReplyBuffer.set(atr);
    io.Information.value = atr.length;
    return S.STATUS_SUCCESS;
  });
}

/** RDF_SET_PROTOCOL (§3.5 step 7): T=1 preferred; the virtual card needs no PTS exchange. */
async function cbSetProtocol(ext: SmartcardExtension): Promise<number> {
  const c = ctx(ext);
  c.note(ext.OsData.CurrentIrp, 'CBSetProtocol');
  const mask = ext.MinorIoControlCode;
  const io = ext.IoRequest;
  return ext.OsData.SpinLock.run(() => {
    if (!c.card()) return S.STATUS_NO_MEDIA;
    const cc = ext.CardCapabilities;
    const allowed = mask & cc.Protocol.Supported & (WinScard.PROTOCOL_T0 | WinScard.PROTOCOL_T1);
    let pick = 0;
    if (c.config.preferT1 && allowed & WinScard.PROTOCOL_T1) pick = WinScard.PROTOCOL_T1;
    else if (allowed & WinScard.PROTOCOL_T0) pick = WinScard.PROTOCOL_T0;
    else if (allowed & WinScard.PROTOCOL_T1) pick = WinScard.PROTOCOL_T1;
    if (cc.SpecificMode.Present && c.config.honourSpecificMode) {
      const forced = cc.SpecificMode.Protocol === 1 ? WinScard.PROTOCOL_T1 : WinScard.PROTOCOL_T0;
      pick = allowed & forced ? forced : 0;
    }
    if (pick === 0) {
      // Supported bits other than T=0/T=1 (RAW): nothing this driver can negotiate.
      cc.Protocol.Selected = 0;
      ext.ReaderCapabilities.CurrentState = WinScard.NEGOTIABLE;
      return (mask & cc.Protocol.Supported) !== 0 ? S.STATUS_INVALID_DEVICE_REQUEST : S.STATUS_NOT_SUPPORTED;
    }
    if (io.ReplyBufferLength < 4) return S.STATUS_BUFFER_TOO_SMALL;
    cc.Protocol.Selected = pick;
    ext.ReaderCapabilities.CurrentState = WinScard.SPECIFIC;
    io.ReplyBuffer.set(dword(pick));
    io.Information.value = 4;
    return S.STATUS_SUCCESS;
  });
}

/** RDF_TRANSMIT (§3.6): no TPDU framing; the APDU goes to the card with the selected protocol. */
async function cbTransmit(ext: SmartcardExtension): Promise<number> {
  const c = ctx(ext);
  c.note(ext.OsData.CurrentIrp, 'CBTransmit');
  const card = c.card();
  if (!card) return S.STATUS_NO_MEDIA;
  const protocol = ext.CardCapabilities.Protocol.Selected;
  let apdu = requestApdu(ext);
  if (c.config.t0Framing === 'tpdu' && protocol === WinScard.PROTOCOL_T0) {
    ext.SmartcardRequest.BufferLength = 0;
    const st = SmartcardT0Request(ext);
    if (st !== S.STATUS_SUCCESS) return st;
    apdu = ext.SmartcardRequest.Buffer.slice(0, ext.SmartcardRequest.BufferLength);
  }
  const fault = c.faults?.onApdu(apdu) ?? null;
  let response: Uint8Array;
  try {
    if (fault) {
      const r = await applyTransmitFault(fault, card, apdu, protocol, { ejectCard: c.ejectCard, cutPower: c.cutCardPower });
      if (typeof r === 'number') return r;
      response = r;
    } else {
      response = await card.transmit(apdu, protocol);
    }
  } catch (err) {
    c.log.warn({ err }, 'card transmit failed');
    return c.card() === card ? S.STATUS_IO_DEVICE_ERROR : S.STATUS_NO_MEDIA;
  }
  if (c.card() !== card) return S.STATUS_NO_MEDIA;
  if (response.length < 2) return S.STATUS_DEVICE_PROTOCOL_ERROR;
  return writeTransmitReply(ext, response);
}

/**
 * RDF_CARD_TRACKING done right (§3.3 "Required driver behaviour"): mark the NotificationIrp pending, make it
 * cancelable, return STATUS_PENDING. updateCardState or the cancel routine completes it and clears the field.
 */
async function cbCardTrackingCorrect(ext: SmartcardExtension): Promise<number> {
  const c = ctx(ext);
  const irp = ext.OsData.SpinLock.run(() => ext.OsData.NotificationIrp);
  c.note(irp, 'CBCardTracking');
  if (!irp) return S.STATUS_INVALID_DEVICE_STATE;
  irp.markPending();
  const cancelRoutine: CancelRoutine = (cancelled) => {
    ext.OsData.SpinLock.run(() => {
      if (ext.OsData.NotificationIrp === cancelled) ext.OsData.NotificationIrp = null;
    });
    cancelled.complete(S.STATUS_CANCELLED, 0);
  };
  irp.setCancelRoutine(cancelRoutine);
  // Cancelled before the routine was set (e.g. CLEANUP while queued): if we can take the routine back, the
  // cancel is ours to finish; if not, IoCancelIrp already claimed it and runs it.
  if (irp.cancelled && irp.setCancelRoutine(null) !== null) cancelRoutine(irp);
  return S.STATUS_PENDING;
}

/** The forum thread's CBCardTracking: returns STATUS_SUCCESS and leaves NotificationIrp set (the bug, §3.3). */
async function cbCardTrackingForumBroken(ext: SmartcardExtension): Promise<number> {
  ctx(ext).note(ext.OsData.NotificationIrp, 'CBCardTracking');
  return S.STATUS_SUCCESS;
}

/**
 * RDF_IOCTL_VENDOR: a PIN-pad reader's pad answers the PC/SC part 10 IOCTLs; otherwise GET_FEATURE_REQUEST
 * answers an empty TLV list and nothing else is known.
 */
async function cbVendor(ext: SmartcardExtension): Promise<number> {
  const c = ctx(ext);
  c.note(ext.OsData.CurrentIrp, 'CBVendorIoctl');
  const io = ext.IoRequest;
  if (c.pinpad?.handles(ext.MajorIoControlCode)) {
    const r = await c.pinpad.control(ext.MajorIoControlCode, io.RequestBuffer.slice(0, io.RequestBufferLength), io.ReplyBufferLength);
    io.ReplyBuffer.set(r.output);
    io.Information.value = r.output.length;
    return r.status;
  }
  switch (ext.MajorIoControlCode) {
    case IOCTL_SMARTCARD.GET_FEATURE_REQUEST:
      ext.IoRequest.Information.value = 0;
      return S.STATUS_SUCCESS;
    case IOCTL_SMARTCARD.GET_ATTRIBUTE:
    case IOCTL_SMARTCARD.SET_ATTRIBUTE:
      return S.STATUS_NOT_SUPPORTED; // no vendor-class attributes
    default:
      return S.STATUS_INVALID_DEVICE_REQUEST;
  }
}

async function cbEject(ext: SmartcardExtension): Promise<number> {
  const c = ctx(ext);
  c.note(ext.OsData.CurrentIrp, 'CBCardEject');
  if (!c.card()) return S.STATUS_NO_MEDIA;
  c.ejectCard();
  return S.STATUS_SUCCESS;
}

async function cbSwallow(ext: SmartcardExtension): Promise<number> {
  const c = ctx(ext);
  c.note(ext.OsData.CurrentIrp, 'CBReaderSwallow');
  return ext.OsData.SpinLock.run(() => {
    if (!c.card()) return S.STATUS_NO_MEDIA;
    if (ext.ReaderCapabilities.CurrentState === WinScard.PRESENT) ext.ReaderCapabilities.CurrentState = WinScard.SWALLOWED;
    return S.STATUS_SUCCESS;
  });
}

/** Installs the variant's callbacks and mechanical properties into the extension. */
export function installReaderCallbacks(ext: SmartcardExtension, context: ReaderDriverContext): void {
  ext.ReaderExtension = context;
  const f = ext.ReaderFunction;
  f[RDF_CARD_POWER] = cbCardPower;
  f[RDF_TRANSMIT] = cbTransmit;
  f[RDF_SET_PROTOCOL] = cbSetProtocol;
  f[RDF_CARD_TRACKING] = context.variant === 'forum-broken' ? cbCardTrackingForumBroken : cbCardTrackingCorrect;
  f[RDF_IOCTL_VENDOR] = cbVendor;
  f[RDF_CARD_EJECT] = context.config.eject ? cbEject : null;
  f[RDF_READER_SWALLOW] = context.config.swallow ? cbSwallow : null;
  ext.ReaderCapabilities.MechProperties = (context.config.eject ? WinScard.READER_EJECTS : 0) | (context.config.swallow ? WinScard.READER_SWALLOWS : 0);
}

/**
 * A card went in or out, or the system woke up (PSCR CBUpdateCardState, §3.3): set config.insertedState or ABSENT
 * under the lock and, in the correct variant, take the NotificationIrp by exchange and complete it with SUCCESS
 * unless its cancel routine already claimed it. The forum's driver has no such code, so its stale NotificationIrp
 * stays as it is.
 */
export function updateCardState(ext: SmartcardExtension, present: boolean, systemWakeUp = false): void {
  const c = ctx(ext);
  const irp = ext.OsData.SpinLock.run(() => {
    const wasPresent = ext.ReaderCapabilities.CurrentState > WinScard.ABSENT;
    // A wake-up re-reads presence: the card lost power with the system (PSCR D0Entry), so it is inserted-unpowered again.
    ext.ReaderCapabilities.CurrentState = present ? c.config.insertedState : WinScard.ABSENT;
    if (!present || systemWakeUp) SmartcardInitializeCardCapabilities(ext);
    if (c.variant === 'forum-broken') return null;
    const pending = ext.OsData.NotificationIrp;
    // PSCR README: after standby/hibernate, complete tracking if a card was present before or after.
    const signal = wasPresent !== present || (systemWakeUp && (wasPresent || present));
    if (pending === null || !signal) return null;
    ext.OsData.NotificationIrp = null;
    return pending;
  });
  if (irp && irp.setCancelRoutine(null) !== null) irp.complete(S.STATUS_SUCCESS, 0);
}

/**
 * Surprise removal: the pending tracking IRP completes with `status` (§3.3 item 5). Returns true if one was
 * completed here.
 */
export function flushTrackingIrp(ext: SmartcardExtension, status: number): boolean {
  const irp = ext.OsData.SpinLock.run(() => {
    const pending = ext.OsData.NotificationIrp;
    if (pending && !pending.completed) ext.OsData.NotificationIrp = null;
    return pending && !pending.completed ? pending : null;
  });
  if (irp && irp.setCancelRoutine(null) !== null) {
    irp.complete(asNtStatus(status), 0);
    return true;
  }
  return false;
}

