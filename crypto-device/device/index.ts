// Public entry of the device model: create a PCI crypto device (docs/crypto-device.md) and the types around it.

export type {
  CryptoDeviceOptions,
  EngineName,
  GuestMemory,
  InterruptMode,
  InterruptServiceRoutine,
  PciCryptoDevice,
} from './contract.js';
export { IRQ } from './contract.js';
export { createPciCryptoDevice, PciCryptoDeviceModel, type PciCryptoDeviceTestOptions } from './pci-crypto-device.js';
export { DEFAULT_GUEST_MEMORY_BYTES, GuestMemoryExhaustedError, MAX_GUEST_MEMORY_BYTES, PagedGuestMemory } from './guest-memory.js';
export { BAR0_SIZE, COMMAND, ERROR, IRQ_BIT, MAX_PHYS_ADDR, PAGE_SIZE, PCI_ID, REG, STATE } from './registers.js';
export { DEVICE_IV, MAX_CHUNK_BYTES } from './commands.js';
