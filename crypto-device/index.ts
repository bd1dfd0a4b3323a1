// Public entry of the crypto device stack: the host (host.ts) and the types and tables its users need.

export { CryptoDeviceHost, type AddDeviceOptions } from './host.js';
export type { CryptoDeviceOptions, EngineName, InterruptMode, PciCryptoDevice } from './device/contract.js';
export type { CryptoDeviceControl, CryptoDeviceInfo, DeviceStatus, UserBuffer } from './lib/contract.js';
export { DEVICE_ERROR, DEVICE_STATE, aesOutputSize } from './lib/contract.js';
export { CryptoDeviceCtrl, SHA256_SIZE, AES_BLOCK_SIZE, DEFAULT_MAX_REQUEST_BYTES } from './lib/crypto-device-ctrl.js';
export { describeStatus, errorName, formatStatusLines, stateName } from './lib/status-names.js';
export { CryptoDeviceDriver } from './driver/crypto-device-driver.js';
export * from './driver/ioctl-codes.js';
export { NtStatusError } from '../kernel/ntstatus.js';
export {
  DEVICE_FAULT_COMMANDS,
  DEVICE_FAULT_KINDS,
  DEFAULT_NEVER_READY_HOLD_MS,
  DeviceFaultSpecError,
  MAX_ARMED_DEVICE_FAULTS,
  MAX_DEVICE_FAULT_DELAY_MS,
  type ArmedDeviceFault,
  type DeviceFaultSpec,
  type DeviceFaultTrigger,
} from './device/fault-injector.js';
export { DEVICE_FAULT_REQUEST_SCHEMA, DEVICE_FAULT_TRIGGER_SCHEMA, parseDeviceFaultRequest, type DeviceFaultRequest } from './device/fault-request.js';
export { FieldError } from '../kernel/field-table.js';
