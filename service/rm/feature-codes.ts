// PC/SC part 10 feature lists in the client's numbering: the reader advertises Windows control codes
// (SCARD_CTL_CODE(fn) = 0x310000 | fn << 2); a client that asked in pcsc-lite's numbering (0x42000000 + fn) gets
// its features in that numbering, the codes it will send.

import { ctlDeviceType, ctlFunction, FILE_DEVICE_SMARTCARD } from '../../kernel/ctl-code.js';
import { CM_IOCTL_GET_FEATURE_REQUEST, pcscliteCtlCode } from '../contract/pcsclite.js';

/**
 * The GET_FEATURE_REQUEST answer with each smart-card control code renumbered; other codes, a malformed list and
 * the answers of other control codes pass unchanged.
 */
export function toPcscliteFeatures(controlCode: number, reply: Uint8Array): Uint8Array {
  if (controlCode >>> 0 !== CM_IOCTL_GET_FEATURE_REQUEST || reply.length % 6 !== 0) return reply;
  const out = reply.slice();
  const view = new DataView(out.buffer);
  for (let at = 0; at < out.length; at += 6) {
    if (out[at + 1] !== 4) return reply;
    const code = view.getUint32(at + 2, false);
    if (ctlDeviceType(code) === FILE_DEVICE_SMARTCARD && (code & 3) === 0) view.setUint32(at + 2, pcscliteCtlCode(ctlFunction(code)), false);
  }
  return out;
}
