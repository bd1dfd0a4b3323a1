// The driver's view of the BAR0 register file: byte offsets taken from the one register table
// (device/registers.ts), as the original's driver and device shared one header.

import { COMMAND, MAX_PHYS_ADDR, PAGE_SHIFT, PAGE_SIZE, REG as REGISTERS, type RegName } from '../device/registers.js';

/** Byte offsets into BAR0; the width of each field is in device/registers.ts. */
export const REG = Object.fromEntries(Object.entries(REGISTERS).map(([name, reg]) => [name, reg.offset])) as {
  readonly [K in RegName]: (typeof REGISTERS)[K]['offset'];
};

export { COMMAND, PAGE_SHIFT, PAGE_SIZE };
export type DeviceCommand = (typeof COMMAND)[keyof typeof COMMAND];

/** InterruptFlag: D0 entry enables everything, D0 exit disables everything. */
export const INTERRUPTS_ALL_ENABLED = 0xff;
export const INTERRUPTS_ALL_DISABLED = 0x00;

/** The device addresses at most 44 bits of physical memory, so a page frame number fits the u32 registers. */
export const MAX_PHYSICAL_ADDRESS = MAX_PHYS_ADDR;
