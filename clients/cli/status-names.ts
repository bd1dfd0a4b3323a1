// The original console's names for the device State and ErrorCode registers (docs/crypto-device.md "Register file"),
// printed as `State: ReadyState (0)` / `Error: no error (0)` so scripts written for the original still match.

const STATE_NAMES = ['ReadyState', 'ResetState', 'AesCbcState', 'Sha2State'];
const ERROR_NAMES = ['no error', 'dma error', 'reset error', 'write IO error', 'internal error'];

export function formatState(state: number): string {
  return `${STATE_NAMES[state] ?? 'UnknownState'} (${state})`;
}

export function formatError(code: number): string {
  return `${ERROR_NAMES[code] ?? 'unknown error'} (${code})`;
}
