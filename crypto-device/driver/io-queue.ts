// EvtIoDeviceControl (the original Queue.c role): validates METHOD_BUFFERED lengths and dispatches the five controls.

import { NTSTATUS, type NtStatus } from '../../kernel/ntstatus.js';
import type { CryptoDeviceLogic } from './device-logic.js';
import {
  BUFFER_IN_OUT_SIZE,
  DEVICE_STATUS_SIZE,
  IOCTL_CRYPTO_DEVICE_AES_CBC_DECRYPT,
  IOCTL_CRYPTO_DEVICE_AES_CBC_ENCRYPT,
  IOCTL_CRYPTO_DEVICE_GET_STATUS,
  IOCTL_CRYPTO_DEVICE_RESET,
  IOCTL_CRYPTO_DEVICE_SHA256,
  decodeBufferInOut,
} from './ioctl-codes.js';
import { COMMAND, type DeviceCommand } from './registers.js';

/** A completed request: its status, Information (bytes returned) and the returned bytes. */
export interface IoCompletion {
  status: NtStatus;
  information: number;
  output: Uint8Array;
}

const NOTHING = new Uint8Array(0);

const COMMAND_FOR_IOCTL = new Map<number, DeviceCommand>([
  [IOCTL_CRYPTO_DEVICE_AES_CBC_ENCRYPT, COMMAND.AES_CBC_ENCRYPT],
  [IOCTL_CRYPTO_DEVICE_AES_CBC_DECRYPT, COMMAND.AES_CBC_DECRYPT],
  [IOCTL_CRYPTO_DEVICE_SHA256, COMMAND.SHA256],
]);

/**
 * `input` is the system buffer the I/O manager filled from the caller; `outputLength` is the caller's output
 * buffer size. Returns what the I/O manager copies back (`information` bytes).
 */
export async function dispatchDeviceControl(
  logic: CryptoDeviceLogic,
  code: number,
  input: Uint8Array,
  outputLength: number,
): Promise<IoCompletion> {
  const ioctl = code >>> 0;
  if (ioctl === IOCTL_CRYPTO_DEVICE_RESET) {
    return done(await logic.resetRequest());
  }
  if (ioctl === IOCTL_CRYPTO_DEVICE_GET_STATUS) {
    if (outputLength < DEVICE_STATUS_SIZE) return done(NTSTATUS.STATUS_BUFFER_TOO_SMALL);
    const regs = await logic.stateRequest();
    // State first, then ErrorCode: the order of the original CryptoDeviceStatus struct.
    return { status: NTSTATUS.STATUS_SUCCESS, information: DEVICE_STATUS_SIZE, output: Uint8Array.of(regs.state, regs.errorCode) };
  }
  const command = COMMAND_FOR_IOCTL.get(ioctl);
  if (command === undefined) return done(NTSTATUS.STATUS_INVALID_DEVICE_REQUEST);
  if (input.length < BUFFER_IN_OUT_SIZE) return done(NTSTATUS.STATUS_BUFFER_TOO_SMALL);
  const buffers = decodeBufferInOut(input);
  return done(await logic.commandRequest(command, buffers.in, buffers.out));
}

function done(status: NtStatus): IoCompletion {
  return { status, information: 0, output: NOTHING };
}
