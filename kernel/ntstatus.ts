// NTSTATUS values shared by every emulated kernel component (crypto driver, SMCLIB, reader driver).
// Values from ntstatus.h; see docs/smclib.md §1.6 and docs/crypto-device.md "The driver".

const NTSTATUS_VALUES = {
  STATUS_SUCCESS: 0x00000000,
  STATUS_TIMEOUT: 0x00000102,
  STATUS_PENDING: 0x00000103,
  STATUS_BUFFER_OVERFLOW: 0x80000005,
  STATUS_DEVICE_POWERED_OFF: 0x8000000f,
  STATUS_DEVICE_BUSY: 0x80000011,
  STATUS_UNSUCCESSFUL: 0xc0000001,
  STATUS_ACCESS_VIOLATION: 0xc0000005,
  STATUS_INVALID_HANDLE: 0xc0000008,
  STATUS_INVALID_PARAMETER: 0xc000000d,
  STATUS_NO_SUCH_DEVICE: 0xc000000e,
  STATUS_INVALID_DEVICE_REQUEST: 0xc0000010,
  STATUS_UNRECOGNIZED_MEDIA: 0xc0000014,
  STATUS_MORE_PROCESSING_REQUIRED: 0xc0000016,
  STATUS_ACCESS_DENIED: 0xc0000022,
  STATUS_BUFFER_TOO_SMALL: 0xc0000023,
  STATUS_CRC_ERROR: 0xc000003f,
  STATUS_SHARING_VIOLATION: 0xc0000043,
  STATUS_DELETE_PENDING: 0xc0000056,
  STATUS_INSUFFICIENT_RESOURCES: 0xc000009a,
  STATUS_DEVICE_DATA_ERROR: 0xc000009c,
  STATUS_DEVICE_NOT_CONNECTED: 0xc000009d,
  STATUS_IO_TIMEOUT: 0xc00000b5,
  STATUS_NOT_SUPPORTED: 0xc00000bb,
  STATUS_INVALID_USER_BUFFER: 0xc00000e8,
  STATUS_CANCELLED: 0xc0000120,
  STATUS_NO_MEDIA: 0xc0000178,
  STATUS_INVALID_DEVICE_STATE: 0xc0000184,
  STATUS_IO_DEVICE_ERROR: 0xc0000185,
  STATUS_DEVICE_PROTOCOL_ERROR: 0xc0000186,
  STATUS_DEVICE_REMOVED: 0xc00002b6,
} as const;

declare const ntStatusBrand: unique symbol;
/** An NTSTATUS: a number branded so that a SCARD_* return code (or any other number) cannot pass for one. */
export type NtStatus = number & { readonly [ntStatusBrand]: true };

export type NtStatusName = keyof typeof NTSTATUS_VALUES;
/** NTSTATUS values by name (ntstatus.h), typed as NtStatus. */
export const NTSTATUS: { readonly [K in NtStatusName]: NtStatus } = NTSTATUS_VALUES as { readonly [K in NtStatusName]: NtStatus };

/** A number from outside (a register, a wire field, a test) taken as an NTSTATUS. */
export function asNtStatus(value: number): NtStatus {
  return (value >>> 0) as NtStatus;
}

const NAMES = new Map<number, NtStatusName>(
  (Object.entries(NTSTATUS_VALUES) as [NtStatusName, number][]).map(([name, value]) => [value, name]),
);

// The formatters take any number: they name what a register, a trace or a test holds, and never pass it on.

/** `STATUS_DEVICE_BUSY`, or `NTSTATUS_0x…` for a value this table does not know. */
export function ntStatusName(status: number): string {
  return NAMES.get(status >>> 0) ?? `NTSTATUS_0x${hex32(status)}`;
}

/** `STATUS_DEVICE_BUSY (0x80000011)`: the form the trace and error messages use. */
export function formatNtStatus(status: number): string {
  return `${ntStatusName(status)} (0x${hex32(status)})`;
}

/** NT_SUCCESS(): severity success or informational (the top bit clear). */
export function ntSuccess(status: number): boolean {
  return (status >>> 0) < 0x80000000;
}

/** Thrown at API edges where a kernel status must travel as an exception (user-mode libraries). */
export class NtStatusError extends Error {
  readonly status: NtStatus;
  readonly code: string;
  constructor(status: NtStatus, message?: string) {
    super(message ?? formatNtStatus(status));
    this.name = 'NtStatusError';
    this.status = asNtStatus(status);
    this.code = ntStatusName(status);
  }
}

function hex32(value: number): string {
  return (value >>> 0).toString(16).toUpperCase().padStart(8, '0');
}
