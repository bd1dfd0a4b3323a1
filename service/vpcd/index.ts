// Public entry of the optional vpcd bridge: attach a vscr virtual card to a system pcscd through vsmartcard's vpcd.

export { startVpcdBridge, type VpcdBridge, type VpcdBridgeOptions } from './bridge.js';
export { encodeVpcdMessage, VpcdDecoder, VPCD_CTRL, VPCD_MAX_PAYLOAD } from './codec.js';
