// Which PC/SC context and card handle the command now on a reader came from. The reader's operation mutex lets
// one transmit run at a time, so one entry per reader (by symbolic link) is exact; transcripts read it.

const current = new Map<string, { context: number; handle: number }>();

export function setApduOrigin(symbolicLink: string, context: number, handle: number): void {
  current.set(symbolicLink, { context, handle });
}

export function clearApduOrigin(symbolicLink: string): void {
  current.delete(symbolicLink);
}

export function apduOrigin(symbolicLink: string): { context: number; handle: number } | undefined {
  return current.get(symbolicLink);
}
