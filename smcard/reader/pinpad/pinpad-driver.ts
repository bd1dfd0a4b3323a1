// The PIN-pad half of the reader driver's vendor IOCTLs: the PC/SC part 10 features, and secure PIN entry —
// the keypad's PIN goes into the VERIFY/CHANGE APDU inside the reader and only the card's answer comes back.

import { NTSTATUS } from '../../../kernel/ntstatus.js';
import { IOCTL_SMARTCARD } from '../../constants/ioctl.js';
import type { VirtualCard } from '../../card/contract.js';
import { type EntryRequest, type EntryStage, Keypad } from './keypad.js';
import {
  DEFAULT_PINPAD_PROPERTIES,
  FEATURE,
  featureCode,
  featureList,
  parsePinModify,
  parsePinVerify,
  type PinFormat,
  type PinpadProperties,
  pinProperties,
  tlvProperties,
} from './part10.js';
import { insertPin } from './pin-format.js';
import type { ApduCounter } from '../apdu-counts.js';

const S = NTSTATUS;

/** The status words a PIN pad answers for itself (PC/SC part 10 §2.6.x), instead of the card's. */
export const PINPAD_SW = {
  TIMEOUT: Uint8Array.of(0x64, 0x00),
  CANCELLED: Uint8Array.of(0x64, 0x01),
  MISMATCH: Uint8Array.of(0x64, 0x02),
  LENGTH: Uint8Array.of(0x64, 0x03),
} as const;

/** What the pad needs from the reader around it. */
export interface PinpadHost {
  card(): VirtualCard | null;
  /** The protocol SET_PROTOCOL selected (SCARD_PROTOCOL_T0/T1), 0 before one is. */
  protocol(): number;
  /** Counts the APDUs the pad sends to the card, as every other path to it does. */
  readonly apduCounts?: ApduCounter;
}

export interface PinpadIoResult {
  status: number;
  output: Uint8Array;
}

const EMPTY = new Uint8Array(0);

export class PinpadDriver {
  readonly keypad = new Keypad();
  readonly properties: PinpadProperties;

  constructor(
    private readonly host: PinpadHost,
    properties: Partial<PinpadProperties> = {},
  ) {
    this.properties = { ...DEFAULT_PINPAD_PROPERTIES, ...properties };
  }

  /** True for the control codes this pad answers. */
  handles(code: number): boolean {
    return (
      code === IOCTL_SMARTCARD.GET_FEATURE_REQUEST ||
      code === featureCode(FEATURE.VERIFY_PIN_DIRECT) ||
      code === featureCode(FEATURE.MODIFY_PIN_DIRECT) ||
      code === featureCode(FEATURE.IFD_PIN_PROPERTIES) ||
      code === featureCode(FEATURE.GET_TLV_PROPERTIES)
    );
  }

  /** One vendor IOCTL; `replyLength` is the caller's output buffer size. */
  async control(code: number, input: Uint8Array, replyLength: number): Promise<PinpadIoResult> {
    switch (code) {
      case IOCTL_SMARTCARD.GET_FEATURE_REQUEST:
        return this.reply(featureList(), replyLength);
      case featureCode(FEATURE.IFD_PIN_PROPERTIES):
        return this.reply(pinProperties(), replyLength);
      case featureCode(FEATURE.GET_TLV_PROPERTIES):
        return this.reply(tlvProperties(this.properties), replyLength);
      case featureCode(FEATURE.VERIFY_PIN_DIRECT):
        return this.verify(input, replyLength);
      case featureCode(FEATURE.MODIFY_PIN_DIRECT):
        return this.modify(input, replyLength);
      default:
        return { status: S.STATUS_INVALID_DEVICE_REQUEST, output: EMPTY };
    }
  }

  private reply(data: Uint8Array, replyLength: number): PinpadIoResult {
    if (data.length > replyLength) return { status: S.STATUS_BUFFER_TOO_SMALL, output: EMPTY };
    return { status: S.STATUS_SUCCESS, output: data };
  }

  /** The card must be in and its protocol chosen: the pad sends an APDU like TRANSMIT would. */
  private ready(): number {
    if (!this.host.card()) return S.STATUS_NO_MEDIA;
    return this.host.protocol() === 0 ? S.STATUS_INVALID_DEVICE_STATE : S.STATUS_SUCCESS;
  }

  private async verify(input: Uint8Array, replyLength: number): Promise<PinpadIoResult> {
    const s = parsePinVerify(input);
    if (s === null || insertPin(s.apdu, s, '') === null) return { status: S.STATUS_INVALID_PARAMETER, output: EMPTY };
    if (replyLength < 2) return { status: S.STATUS_BUFFER_TOO_SMALL, output: EMPTY };
    const ready = this.ready();
    if (ready !== S.STATUS_SUCCESS) return { status: ready, output: EMPTY };
    const entry = await this.entry('pin', s);
    if (typeof entry !== 'string') return entry;
    const apdu = insertPin(s.apdu, s, entry);
    if (apdu === null) return this.reply(PINPAD_SW.LENGTH, replyLength);
    return this.send(apdu, replyLength);
  }

  private async modify(input: Uint8Array, replyLength: number): Promise<PinpadIoResult> {
    const s = parsePinModify(input);
    if (s === null || insertPin(s.apdu, s, '', s.insertionOffsetNew) === null) return { status: S.STATUS_INVALID_PARAMETER, output: EMPTY };
    if (replyLength < 2) return { status: S.STATUS_BUFFER_TOO_SMALL, output: EMPTY };
    const ready = this.ready();
    if (ready !== S.STATUS_SUCCESS) return { status: ready, output: EMPTY };
    let apdu: Uint8Array | null = s.apdu;
    if ((s.confirmPin & 0x02) !== 0) {
      const current = await this.entry('current', s);
      if (typeof current !== 'string') return current;
      apdu = insertPin(apdu, s, current, s.insertionOffsetOld);
      if (apdu === null) return this.reply(PINPAD_SW.LENGTH, replyLength);
    }
    const fresh = await this.entry('new', s);
    if (typeof fresh !== 'string') return fresh;
    if ((s.confirmPin & 0x01) !== 0) {
      const again = await this.entry('confirm', s);
      if (typeof again !== 'string') return again;
      if (again !== fresh) return this.reply(PINPAD_SW.MISMATCH, replyLength);
    }
    apdu = insertPin(apdu, s, fresh, s.insertionOffsetNew);
    if (apdu === null) return this.reply(PINPAD_SW.LENGTH, replyLength);
    return this.send(apdu, replyLength);
  }

  /** One keypad entry: the digits, or the pad's own answer (6400/6401/6403) or a failure status. */
  private async entry(stage: EntryStage, s: PinFormat): Promise<string | PinpadIoResult> {
    const p = this.properties;
    const min = Math.max(s.minDigits, p.minPinSize);
    const max = Math.min(s.maxDigits === 0 ? p.maxPinSize : s.maxDigits, p.maxPinSize);
    const request: EntryRequest = {
      stage,
      timeoutMs: (s.timeoutSeconds || p.defaultTimeoutSeconds) * 1000,
      firstKeyTimeoutMs: s.firstKeyTimeoutSeconds * 1000,
      maxDigits: max,
      validation: s.validation,
    };
    const result = await this.keypad.enter(request);
    switch (result.end) {
      case 'ok':
        return result.digits.length < min || result.digits.length > max ? { status: S.STATUS_SUCCESS, output: PINPAD_SW.LENGTH } : result.digits;
      case 'cancel':
        return { status: S.STATUS_SUCCESS, output: PINPAD_SW.CANCELLED };
      case 'timeout':
        return { status: S.STATUS_SUCCESS, output: PINPAD_SW.TIMEOUT };
      case 'aborted':
        return { status: this.host.card() ? S.STATUS_CANCELLED : S.STATUS_NO_MEDIA, output: EMPTY };
    }
  }

  private async send(apdu: Uint8Array, replyLength: number): Promise<PinpadIoResult> {
    const card = this.host.card();
    if (!card) return { status: S.STATUS_NO_MEDIA, output: EMPTY };
    let response: Uint8Array;
    try {
      this.host.apduCounts?.command(apdu);
      response = await card.transmit(apdu, this.host.protocol());
      this.host.apduCounts?.response(response);
    } catch {
      return { status: this.host.card() === card ? S.STATUS_IO_DEVICE_ERROR : S.STATUS_NO_MEDIA, output: EMPTY };
    } finally {
      apdu.fill(0); // the PIN lived in this buffer
    }
    if (this.host.card() !== card) return { status: S.STATUS_NO_MEDIA, output: EMPTY };
    return this.reply(response, replyLength);
  }
}
