// Test helpers for driving reader handles: DWORD buffers, IOCTL shortcuts and bounded waits.

import { IOCTL_SMARTCARD } from '../../smcard/constants/ioctl.js';
import type { IoResult, PendingIo, ReaderFileHandle } from '../../smcard/reader/contract.js';

export function dwordBuf(...values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setUint32(i * 4, v >>> 0, true));
  return out;
}

export function readDword(bytes: Uint8Array, offset = 0): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.length).getUint32(offset, true);
}

/** Lets every queued microtask and I/O callback run (the library's async steps). */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Resolves with the result, or rejects after `ms` so a bug fails the test instead of hanging it. */
export function within<T>(promise: Promise<T>, ms = 2000, label = 'operation'): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${label} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Tracks whether a PendingIo has completed, and how many times its promise settled. */
export function watch(io: PendingIo): { readonly done: boolean; readonly result: IoResult | undefined } {
  const state: { done: boolean; result: IoResult | undefined } = { done: false, result: undefined };
  void io.result.then((r) => {
    state.done = true;
    state.result = r;
  });
  return state;
}

export function ioctl(h: ReaderFileHandle, code: number, input: Uint8Array = new Uint8Array(0), outLen = 0): Promise<IoResult> {
  return within(h.deviceIoControl(code, input, outLen).result, 2000, `IOCTL 0x${code.toString(16)}`);
}

export const getAttr = (h: ReaderFileHandle, tag: number, outLen = 36) => ioctl(h, IOCTL_SMARTCARD.GET_ATTRIBUTE, dwordBuf(tag), outLen);
export const getState = (h: ReaderFileHandle) => ioctl(h, IOCTL_SMARTCARD.GET_STATE, new Uint8Array(0), 4);
export const power = (h: ReaderFileHandle, code: number, outLen = 33) => ioctl(h, IOCTL_SMARTCARD.POWER, dwordBuf(code), outLen);
export const setProtocol = (h: ReaderFileHandle, mask: number, outLen = 4) => ioctl(h, IOCTL_SMARTCARD.SET_PROTOCOL, dwordBuf(mask), outLen);

export function transmitInput(protocol: number, apdu: Uint8Array | number[]): Uint8Array {
  const a = Uint8Array.from(apdu);
  const out = new Uint8Array(8 + a.length);
  out.set(dwordBuf(protocol, 8));
  out.set(a, 8);
  return out;
}

export const transmit = (h: ReaderFileHandle, protocol: number, apdu: Uint8Array | number[], outLen = 8 + 258) =>
  ioctl(h, IOCTL_SMARTCARD.TRANSMIT, transmitInput(protocol, apdu), outLen);

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}
