// The one table of names for the device's State and ErrorCode values, used by REST and (through REST) the CLI,
// printed as the original console did (`State: ReadyState (0)`, `Error: no error (0)`).

import { DEVICE_ERROR, DEVICE_STATE, type DeviceStatus } from './contract.js';

const STATE_NAMES: Record<number, string> = {
  [DEVICE_STATE.READY]: 'ReadyState',
  [DEVICE_STATE.RESETTING]: 'ResetState', // the original's CryptoDevice_ResetState
  [DEVICE_STATE.AES_CBC]: 'AesCbcState',
  [DEVICE_STATE.SHA2]: 'Sha2State',
};

const ERROR_NAMES: Record<number, string> = {
  [DEVICE_ERROR.NONE]: 'no error',
  [DEVICE_ERROR.DMA]: 'DMA error',
  [DEVICE_ERROR.RESET]: 'reset error',
  [DEVICE_ERROR.WRITE_IO]: 'write I/O error',
  [DEVICE_ERROR.INTERNAL]: 'internal error',
};

export function stateName(state: number): string {
  return STATE_NAMES[state] ?? 'UnknownState';
}

export function errorName(errorCode: number): string {
  return ERROR_NAMES[errorCode] ?? 'unknown error';
}

export function describeStatus(state: number, errorCode: number): DeviceStatus {
  return { state, stateName: stateName(state), errorCode, errorName: errorName(errorCode) };
}

/** The two lines of the original console's `status` command. */
export function formatStatusLines(status: DeviceStatus): [string, string] {
  return [`State: ${status.stateName} (${status.state})`, `Error: ${status.errorName} (${status.errorCode})`];
}
