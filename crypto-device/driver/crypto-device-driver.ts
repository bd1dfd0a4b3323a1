// The WDF-like driver object for one crypto device (the original Device.c role): prepare/release hardware,
// D0 entry/exit, exclusive file objects, and the I/O control entry point.
//
// No kernel/irp.ts Irp here: the original is a WDF driver with a sequential queue, where the framework owns the
// IRP and the driver sees one request at a time that it completes before the next arrives. Nothing waits on a file
// object for later completion and no cancel routine exists (a reset ends a running request through the device),
// which is what the Irp model adds; so a request is a call that returns its completion (io-queue.ts), and no
// per-IRP object sits on the hot path.

import pino, { type Logger } from 'pino';
import { NTSTATUS, formatNtStatus } from '../../kernel/ntstatus.js';
import { ntError } from '../../kernel/nt-error.js';
import type { InterruptMode, PciCryptoDevice } from '../device/contract.js';
import { CryptoDeviceLogic, RESET_TIMEOUT_MS } from './device-logic.js';
import { DeviceInterrupts } from './interrupt.js';
import { ioctlName } from './ioctl-codes.js';
import { dispatchDeviceControl, type IoCompletion } from './io-queue.js';
import { INTERRUPTS_ALL_DISABLED, INTERRUPTS_ALL_ENABLED, REG } from './registers.js';
import { UserAddressSpace } from '../../kernel/user-address-space.js';

export interface CryptoDeviceDriverOptions {
  /** What the OS grants at prepare-hardware time. Default `msi-multi` (all four vectors). */
  interruptMode?: InterruptMode;
  /** Reset wait before STATUS_DEVICE_BUSY; the original's 1000 ms by default. */
  resetTimeoutMs?: number;
  /** Base wait for a command's interrupt before STATUS_IO_TIMEOUT (default 2000 ms, plus 250 ms per MiB). */
  commandTimeoutMs?: number;
  logger?: Logger;
  /**
   * The calling process's address space. Default: a fresh one over the device's guest memory with
   * physically contiguous user pages (fast path); tests pass one that scatters pages.
   */
  addressSpace?: UserAddressSpace;
}

type PowerState = 'D3' | 'D0';

export class CryptoDeviceDriver {
  readonly addressSpace: UserAddressSpace;
  readonly interrupts: DeviceInterrupts;
  readonly logic: CryptoDeviceLogic;
  private readonly log: Logger;
  private readonly mode: InterruptMode;
  private disconnect: (() => void) | null = null;
  private power: PowerState = 'D3';
  private openHandle: DriverFileHandle | null = null;

  constructor(
    readonly device: PciCryptoDevice,
    options: CryptoDeviceDriverOptions = {},
  ) {
    this.log = (options.logger ?? pino({ level: 'silent' })).child({ component: 'crypto-driver' });
    this.mode = options.interruptMode ?? 'msi-multi';
    this.addressSpace = options.addressSpace ?? new UserAddressSpace(device.memory, { defaultContiguous: true });
    this.interrupts = new DeviceInterrupts(device, () => this.device.interruptMode);
    this.logic = new CryptoDeviceLogic(device, this.interrupts, this.addressSpace, this.log, options.resetTimeoutMs ?? RESET_TIMEOUT_MS, options.commandTimeoutMs);
  }

  get interruptMode(): InterruptMode {
    return this.device.interruptMode;
  }

  get powerState(): PowerState {
    return this.power;
  }

  get isOpen(): boolean {
    return this.openHandle !== null;
  }

  /** EvtDevicePrepareHardware: check the PCI identity, "map" BAR0, take the granted interrupt mode, connect. */
  prepareHardware(): void {
    const { vendorId, deviceId } = this.device.pci;
    if (vendorId !== 0x1111 || deviceId !== 0x2222) {
      throw ntError(NTSTATUS.STATUS_NO_SUCH_DEVICE, `unexpected PCI id ${vendorId.toString(16)}:${deviceId.toString(16)}`);
    }
    this.device.setInterruptMode(this.mode);
    this.disconnect = this.device.connectInterrupt(this.interrupts.isr);
    this.log.debug({ interruptMode: this.mode }, 'hardware prepared');
  }

  /** EvtDeviceD0Entry: enable every interrupt. */
  d0Entry(): void {
    this.device.mmioWrite(REG.INTERRUPT_FLAG, 1, INTERRUPTS_ALL_ENABLED);
    this.power = 'D0';
  }

  /** EvtDeviceD0Exit: disable every interrupt. */
  d0Exit(): void {
    this.device.mmioWrite(REG.INTERRUPT_FLAG, 1, INTERRUPTS_ALL_DISABLED);
    this.power = 'D3';
  }

  /** EvtDeviceReleaseHardware. */
  releaseHardware(): void {
    this.disconnect?.();
    this.disconnect = null;
  }

  /** The PnP start sequence. */
  start(): void {
    this.prepareHardware();
    this.d0Entry();
  }

  /** The PnP stop sequence; teardown mirrors `start`. */
  async stop(): Promise<void> {
    if (this.openHandle) await this.openHandle.close();
    this.d0Exit();
    this.releaseHardware();
  }

  /** EvtDeviceFileCreate: the device is exclusive, so a second open fails with STATUS_SHARING_VIOLATION. */
  open(): DriverFileHandle {
    if (this.power !== 'D0') throw ntError(NTSTATUS.STATUS_DEVICE_POWERED_OFF);
    if (this.openHandle) throw ntError(NTSTATUS.STATUS_SHARING_VIOLATION);
    const handle = new DriverFileHandle(this, () => {
      this.openHandle = null;
    });
    this.openHandle = handle;
    return handle;
  }

  /** EvtIoDeviceControl for a handle that is open. */
  async ioControl(code: number, input: Uint8Array, outputLength: number): Promise<IoCompletion> {
    const completion = await dispatchDeviceControl(this.logic, code, input, outputLength);
    // Guarded: building the fields costs more than a small request's hashing when debug is off.
    if (this.log.isLevelEnabled('debug')) this.log.debug({ ioctl: ioctlName(code), status: formatNtStatus(completion.status) }, 'ioctl');
    return completion;
  }
}

/** A file object on the device (what CreateFile returns). */
export class DriverFileHandle {
  private closed = false;
  private closing: Promise<void> | null = null;

  constructor(
    readonly driver: CryptoDeviceDriver,
    private readonly onClosed: () => void,
  ) {}

  get isClosed(): boolean {
    return this.closed;
  }

  get addressSpace(): UserAddressSpace {
    return this.driver.addressSpace;
  }

  deviceIoControl(code: number, input: Uint8Array, outputLength: number): Promise<IoCompletion> {
    if (this.closed) return Promise.reject(ntError(NTSTATUS.STATUS_INVALID_DEVICE_STATE, 'handle is closed'));
    return this.driver.ioControl(code, input, outputLength);
  }

  /** EvtFileClose: reset the device (cancelling whatever still runs), then release exclusivity. */
  close(): Promise<void> {
    if (!this.closing) {
      this.closed = true;
      this.closing = this.driver.logic.resetRequest().then(
        () => this.onClosed(),
        () => this.onClosed(),
      );
    }
    return this.closing;
  }
}
