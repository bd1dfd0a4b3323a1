// The driver's public interface (the original Public.h role): control codes and the Buffer/BufferInOut layouts.

import { ctlCode, FILE_DEVICE_UNKNOWN, METHOD_BUFFERED, FILE_ANY_ACCESS } from '../../kernel/ctl-code.js';

/** CTL_CODE(FILE_DEVICE_UNKNOWN, 0x320 + n, METHOD_BUFFERED, FILE_ANY_ACCESS), docs/crypto-device.md "The driver". */
export const IOCTL_CRYPTO_DEVICE_RESET = ctlCode(FILE_DEVICE_UNKNOWN, 0x320, METHOD_BUFFERED, FILE_ANY_ACCESS);
export const IOCTL_CRYPTO_DEVICE_GET_STATUS = ctlCode(FILE_DEVICE_UNKNOWN, 0x321, METHOD_BUFFERED, FILE_ANY_ACCESS);
export const IOCTL_CRYPTO_DEVICE_AES_CBC_ENCRYPT = ctlCode(FILE_DEVICE_UNKNOWN, 0x322, METHOD_BUFFERED, FILE_ANY_ACCESS);
export const IOCTL_CRYPTO_DEVICE_AES_CBC_DECRYPT = ctlCode(FILE_DEVICE_UNKNOWN, 0x323, METHOD_BUFFERED, FILE_ANY_ACCESS);
export const IOCTL_CRYPTO_DEVICE_SHA256 = ctlCode(FILE_DEVICE_UNKNOWN, 0x324, METHOD_BUFFERED, FILE_ANY_ACCESS);

const IOCTL_NAMES = new Map<number, string>([
  [IOCTL_CRYPTO_DEVICE_RESET, 'IOCTL_CRYPTO_DEVICE_RESET'],
  [IOCTL_CRYPTO_DEVICE_GET_STATUS, 'IOCTL_CRYPTO_DEVICE_GET_STATUS'],
  [IOCTL_CRYPTO_DEVICE_AES_CBC_ENCRYPT, 'IOCTL_CRYPTO_DEVICE_AES_CBC_ENCRYPT'],
  [IOCTL_CRYPTO_DEVICE_AES_CBC_DECRYPT, 'IOCTL_CRYPTO_DEVICE_AES_CBC_DECRYPT'],
  [IOCTL_CRYPTO_DEVICE_SHA256, 'IOCTL_CRYPTO_DEVICE_SHA256'],
]);

/** `IOCTL_CRYPTO_DEVICE_SHA256`, or `0x…` for a code this driver does not know. */
export function ioctlName(code: number): string {
  return IOCTL_NAMES.get(code >>> 0) ?? `0x${(code >>> 0).toString(16).toUpperCase()}`;
}

/** GET_STATUS output: State then ErrorCode (mind the order: docs/crypto-device.md "The driver (WDF) and its I/O controls"). */
export const DEVICE_STATUS_SIZE = 2;
/** `Buffer {u64 Address; u32 Size}` at natural alignment: 12 bytes of fields padded to 16. */
export const BUFFER_STRUCT_SIZE = 16;
/** `BufferInOut {Buffer In; Buffer Out}`. */
export const BUFFER_IN_OUT_SIZE = 32;

export interface UserBufferDescriptor {
  address: bigint;
  size: number;
}

export interface BufferInOut {
  in: UserBufferDescriptor;
  out: UserBufferDescriptor;
}

/** Encodes a BufferInOut exactly as a 64-bit user-mode caller lays it out (little-endian, 4 padding bytes each). */
export function encodeBufferInOut(value: BufferInOut): Uint8Array {
  const bytes = new Uint8Array(BUFFER_IN_OUT_SIZE);
  const view = new DataView(bytes.buffer);
  writeBuffer(view, 0, value.in);
  writeBuffer(view, BUFFER_STRUCT_SIZE, value.out);
  return bytes;
}

/** Decodes the first 32 bytes of a system buffer; the caller has already checked the length. */
export function decodeBufferInOut(bytes: Uint8Array): BufferInOut {
  const view = new DataView(bytes.buffer, bytes.byteOffset, BUFFER_IN_OUT_SIZE);
  return { in: readBuffer(view, 0), out: readBuffer(view, BUFFER_STRUCT_SIZE) };
}

function writeBuffer(view: DataView, offset: number, value: UserBufferDescriptor): void {
  view.setBigUint64(offset, BigInt.asUintN(64, value.address), true);
  view.setUint32(offset + 8, value.size >>> 0, true);
}

function readBuffer(view: DataView, offset: number): UserBufferDescriptor {
  return { address: view.getBigUint64(offset, true), size: view.getUint32(offset + 8, true) };
}
