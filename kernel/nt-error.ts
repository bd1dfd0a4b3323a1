// NtStatusError with a message that always starts with the status name, so logs and REST bodies are searchable.

import { NtStatusError, formatNtStatus, type NtStatus } from './ntstatus.js';

export function ntError(status: NtStatus, detail?: string): NtStatusError {
  return new NtStatusError(status, detail ? `${formatNtStatus(status)}: ${detail}` : undefined);
}
