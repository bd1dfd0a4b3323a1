// The driver's view of the BAR0 register file (docs/crypto-device.md "Register file"), like the original's common header.

/** Byte offsets into BAR0 with the width the driver uses for each field. */
export const REG = {
  ERROR_CODE: 0x00,
  STATE: 0x01,
  COMMAND: 0x02,
  INTERRUPT_FLAG: 0x03,
  DMA_IN_ADDRESS: 0x04,
  DMA_IN_PAGES_COUNT: 0x08,
  DMA_IN_SIZE: 0x0c,
  DMA_OUT_ADDRESS: 0x10,
  DMA_OUT_PAGES_COUNT: 0x14,
  DMA_OUT_SIZE: 0x18,
  MSI_ERROR_FLAG: 0x1c,
  MSI_READY_FLAG: 0x1d,
  MSI_RESET_FLAG: 0x1e,
} as const;

/** Command register values. */
export const COMMAND = { IDLE: 0, RESET: 1, AES_CBC_ENCRYPT: 2, AES_CBC_DECRYPT: 3, SHA256: 4 } as const;
export type DeviceCommand = (typeof COMMAND)[keyof typeof COMMAND];

/** InterruptFlag: D0 entry enables everything, D0 exit disables everything. */
export const INTERRUPTS_ALL_ENABLED = 0xff;
export const INTERRUPTS_ALL_DISABLED = 0x00;

export const PAGE_SIZE = 4096;
export const PAGE_SHIFT = 12;
/** The device addresses at most 44 bits of physical memory, so a page frame number fits the u32 registers. */
export const MAX_PHYSICAL_ADDRESS = 0xfff_ffff_ffff;
