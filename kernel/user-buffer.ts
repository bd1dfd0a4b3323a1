// A buffer in the simulated user address space, as callers of the driver's I/O controls hold one.

/** Large bodies are written into it in place, chunk by chunk, and handed to the driver by address. */
export interface UserBuffer {
  /** User virtual address (never 0). */
  readonly address: bigint;
  readonly length: number;
  write(offset: number, chunk: Uint8Array): void;
  read(offset?: number, length?: number): Uint8Array;
  /** Unmap and give the pages back. Idempotent. */
  release(): void;
}
