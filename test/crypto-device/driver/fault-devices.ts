// Fault-injection wrappers around a real device, for driver paths a healthy device never takes.

import type { PciCryptoDevice } from '../../../crypto-device/device/contract.js';

const COMMAND_OFFSET = 0x02;
const STATE_OFFSET = 0x01;
const RESET_COMMAND = 1;

/** A device whose reset never happens (as if its worker had stopped): writes of Command=1 are dropped. */
export function deafToReset(device: PciCryptoDevice): PciCryptoDevice {
  return delegate(device, {
    mmioWrite(offset, size, value) {
      if (offset === COMMAND_OFFSET && size === 1 && Number(value) === RESET_COMMAND) return;
      device.mmioWrite(offset, size, value);
    },
  });
}

/** A device whose State register reads `state` while `active()` says so (e.g. stuck in "resetting"). */
export function stateOverride(device: PciCryptoDevice, state: number, active: () => boolean): PciCryptoDevice {
  return delegate(device, {
    mmioRead(offset, size) {
      if (active() && offset === STATE_OFFSET && size === 1) return state;
      return device.mmioRead(offset, size);
    },
  });
}

function delegate(device: PciCryptoDevice, overrides: Partial<Pick<PciCryptoDevice, 'mmioRead' | 'mmioWrite'>>): PciCryptoDevice {
  return {
    get pci() {
      return device.pci;
    },
    get engine() {
      return device.engine;
    },
    get memory() {
      return device.memory;
    },
    get interruptMode() {
      return device.interruptMode;
    },
    get intxAsserted() {
      return device.intxAsserted;
    },
    mmioRead: overrides.mmioRead ?? ((offset, size) => device.mmioRead(offset, size)),
    mmioWrite: overrides.mmioWrite ?? ((offset, size, value) => device.mmioWrite(offset, size, value)),
    setInterruptMode: (mode) => device.setInterruptMode(mode),
    connectInterrupt: (isr) => device.connectInterrupt(isr),
    busReset: () => device.busReset(),
    destroy: () => device.destroy(),
  };
}
