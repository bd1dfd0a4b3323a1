// The driver's request logic (the original CryptoDeviceLogic role): IoLock, ResetLock, the cancel event, the
// reset/status/command requests and the statuses docs/crypto-device.md "The driver" lists.

import type { Logger } from 'pino';
import { NTSTATUS, formatNtStatus, type NtStatus } from '../../kernel/ntstatus.js';
import type { PciCryptoDevice } from '../device/contract.js';
import { ERROR as DEVICE_ERROR, STATE as DEVICE_STATE } from '../device/registers.js';
import { createDmaForUserBuffer, type DmaProgram, type DmaUserMemory } from './dma-user-memory.js';
import type { DeviceInterrupts } from './interrupt.js';
import type { UserBufferDescriptor } from './ioctl-codes.js';
import { KernelEvent, waitForAny } from '../../kernel/kernel-event.js';
import { COMMAND, REG, type DeviceCommand } from './registers.js';
import type { UserAddressSpace } from '../../kernel/user-address-space.js';
import { WaitLock } from '../../kernel/wait-lock.js';
import { CommandDeadline, unwatch, watch } from './command-watchdog.js';

/** How long a reset may take before the request gives up with STATUS_DEVICE_BUSY (the original's 1000 ms). */
export const RESET_TIMEOUT_MS = 1000;
/**
 * How long a data request waits for its ready or error interrupt before the driver gives up with
 * STATUS_IO_TIMEOUT: a base plus an allowance per MiB of input, far above what any working device needs (the
 * original waits forever, so a lost interrupt would hang the request and the handle for good).
 */
export const COMMAND_TIMEOUT_MS = 2000;
export const COMMAND_TIMEOUT_MS_PER_MIB = 250;
/**
 * A command's own "ready" or "error" is raised under the register lock together with State := 0, so it needs no
 * wait. An error interrupt can also come while the command still runs (a stray register write: error 3, the
 * command goes on); the request then keeps its pages locked until State reads 0, so the device never DMAs into
 * freed memory. Bounded so a wedged device cannot hold a request forever.
 */
const SETTLE_LIMIT_MS = 250;

/**
 * One timer, ref'd while any request of any device is pending, instead of a timer per request: creating and
 * clearing an interval per request showed in the host profile of 4 KiB requests; ref()/unref() only flip a count.
 */
let pendingRequests = 0;
let keepAlive: NodeJS.Timeout | undefined;

function holdEventLoop(): void {
  if (pendingRequests++ === 0) (keepAlive ??= setInterval(() => undefined, 1 << 30)).ref();
}

function releaseEventLoop(): void {
  if (--pendingRequests === 0) keepAlive?.unref();
}

export interface DeviceRegisters {
  state: number;
  errorCode: number;
}

export class CryptoDeviceLogic {
  readonly ioLock = new WaitLock('IoLock');
  readonly resetLock = new WaitLock('ResetLock');
  readonly cancelEvent = new KernelEvent('cancel');
  private commandInFlight = false;
  private readonly deadline = new CommandDeadline();

  constructor(
    private readonly device: PciCryptoDevice,
    private readonly interrupts: DeviceInterrupts,
    private readonly space: UserAddressSpace,
    private readonly log: Logger,
    /** Readable so a test can check the production defaults without sleeping through them. */
    readonly resetTimeoutMs = RESET_TIMEOUT_MS,
    readonly commandTimeoutMs = COMMAND_TIMEOUT_MS,
  ) {}

  /** True while a command request owns the device. */
  get busy(): boolean {
    return this.commandInFlight;
  }

  readRegisters(): DeviceRegisters {
    return {
      state: Number(this.device.mmioRead(REG.STATE, 1)),
      errorCode: Number(this.device.mmioRead(REG.ERROR_CODE, 1)),
    };
  }

  /** IOCTL_CRYPTO_DEVICE_GET_STATUS. */
  async stateRequest(): Promise<DeviceRegisters> {
    return this.ioLock.withLock(() => this.readRegisters());
  }

  /**
   * IOCTL_CRYPTO_DEVICE_RESET: serialised by ResetLock; write Command=1, wait for the reset interrupt (timeout
   * → STATUS_DEVICE_BUSY), then signal the cancel event so a waiting command request ends STATUS_CANCELLED.
   */
  async resetRequest(): Promise<NtStatus> {
    await this.resetLock.acquire();
    try {
      const started = await this.ioLock.withLock(() => {
        if (this.readRegisters().state === DEVICE_STATE.RESETTING) return false;
        this.interrupts.resetEvent.clear();
        this.device.mmioWrite(REG.COMMAND, 1, COMMAND.RESET);
        return true;
      });
      if (!started) return NTSTATUS.STATUS_DEVICE_BUSY;
      const signalled = await waitForAny([this.interrupts.resetEvent], this.resetTimeoutMs);
      if (signalled < 0) {
        this.log.warn({ timeoutMs: this.resetTimeoutMs }, 'device did not answer the reset');
        return NTSTATUS.STATUS_DEVICE_BUSY;
      }
      this.cancelEvent.set();
      return NTSTATUS.STATUS_SUCCESS;
    } finally {
      this.resetLock.release();
    }
  }

  /**
   * AES-CBC encrypt/decrypt and SHA-256: probe and lock both buffers before the device is touched, refuse when
   * the device is busy or in error, program IN and OUT, write Command and wait for ready, error or cancel.
   */
  async commandRequest(command: DeviceCommand, input: UserBufferDescriptor, output: UserBufferDescriptor): Promise<NtStatus> {
    const dmaIn = createDmaForUserBuffer(this.space, this.device.memory, input);
    if (!dmaIn.dma) return dmaIn.status;
    const dmaOut = createDmaForUserBuffer(this.space, this.device.memory, output);
    if (!dmaOut.dma) {
      dmaIn.dma.free();
      return dmaOut.status;
    }
    try {
      const timeoutMs = this.commandTimeoutMs + Math.ceil((input.size / 1048576) * COMMAND_TIMEOUT_MS_PER_MIB);
      return await this.runCommand(command, dmaIn.dma, dmaOut.dma, timeoutMs);
    } finally {
      dmaIn.dma.free();
      dmaOut.dma.free();
    }
  }

  private async runCommand(command: DeviceCommand, dmaIn: DmaUserMemory, dmaOut: DmaUserMemory, timeoutMs: number): Promise<NtStatus> {
    const refusal = await this.ioLock.withLock((): NtStatus | null => {
      // A reset in progress or a running command means the device must not see another Command write
      // (it would be a driver logic error, ErrorCode 3).
      if (this.commandInFlight || this.resetLock.isHeld) return NTSTATUS.STATUS_DEVICE_BUSY;
      const regs = this.readRegisters();
      if (regs.errorCode !== DEVICE_ERROR.NONE) return NTSTATUS.STATUS_DEVICE_DATA_ERROR;
      if (regs.state !== DEVICE_STATE.READY) return NTSTATUS.STATUS_DEVICE_BUSY;
      this.programDma(REG.DMA_IN_ADDRESS, dmaIn.program);
      this.programDma(REG.DMA_OUT_ADDRESS, dmaOut.program);
      this.interrupts.readyEvent.clear();
      this.interrupts.errorEvent.clear();
      this.cancelEvent.clear();
      this.commandInFlight = true;
      this.device.mmioWrite(REG.COMMAND, 1, command);
      return null;
    });
    if (refusal !== null) return refusal;
    // A pending request keeps the process alive, as a pending IRP keeps its thread waiting: the device may
    // unreference its idle worker, and the completion interrupt must not be lost to an empty event loop.
    holdEventLoop();
    try {
      watch(this.deadline, timeoutMs);
      const which = await waitForAny([this.interrupts.readyEvent, this.interrupts.errorEvent, this.cancelEvent, this.deadline.expired]);
      unwatch(this.deadline);
      if (which === 3) return await this.timedOut(command, timeoutMs);
      const status =
        which === 0 ? NTSTATUS.STATUS_SUCCESS : which === 1 ? NTSTATUS.STATUS_DEVICE_DATA_ERROR : NTSTATUS.STATUS_CANCELLED;
      if (status !== NTSTATUS.STATUS_SUCCESS) this.log.debug({ command, status: formatNtStatus(status) }, 'command failed');
      if (which === 1) await this.settle();
      return status;
    } finally {
      releaseEventLoop();
      this.commandInFlight = false;
    }
  }

  /**
   * No interrupt in time (lost, or a device that hangs): reset the device before the caller frees the pages it
   * may still DMA into, then complete STATUS_IO_TIMEOUT. A device that does not answer the reset either is
   * left in State 1, so later requests meet STATUS_DEVICE_BUSY until a reset gets through.
   */
  private async timedOut(command: DeviceCommand, timeoutMs: number): Promise<NtStatus> {
    const reset = await this.resetRequest();
    this.log.warn({ command, timeoutMs, reset: formatNtStatus(reset) }, 'device did not complete the command; reset it');
    return NTSTATUS.STATUS_IO_TIMEOUT;
  }

  private programDma(base: number, program: DmaProgram): void {
    this.device.mmioWrite(base, 4, program.listPfn);
    this.device.mmioWrite(base + 4, 4, program.pagesCount);
    this.device.mmioWrite(base + 8, 4, program.sizeBytes);
  }

  /** Waits (bounded) for a command that is still running after an error interrupt to end. */
  private async settle(): Promise<void> {
    const deadline = Date.now() + SETTLE_LIMIT_MS;
    while (this.readRegisters().state !== DEVICE_STATE.READY && !this.resetLock.isHeld && Date.now() < deadline) {
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
}
