// The transport-agnostic contract of the resource manager (the SCardSvr/pcscd role): winscard calls with
// pcsc-lite's numeric SCARD_* results. Implemented under service/rm/; consumed by the REST, JSON-RPC and
// pcsc-lite transports. Calls never throw for PC/SC outcomes: they return `rv`.

export interface ReaderSnapshot {
  /** pcsc-lite style `<vendor> <ifdType> NN SS`, e.g. `vscr Virtual Reader 00 00`. */
  name: string;
  /** Slot order (the order clients list readers in). */
  slot: number;
  unitNo: number;
  symbolicLink: string;
  /** Card insert/remove counter, 0..0xFFFF, wraps. */
  eventCounter: number;
  /** READER_STATE bits: 0x0002 absent, 0x0034 present+powered+negotiable, 0x000C mute, 0x0004 unpowered, 0x0001 error. */
  readerState: number;
  /** -1 exclusive, 0 no handle, N shared/direct handles. */
  sharing: number;
  /** Empty when no card. */
  atr: Uint8Array;
  /** Negotiated SCARD_PROTOCOL_*; 0 when none. */
  protocol: number;
}

/** A reader the RM saw arrive, whether or not it was published; explains why one does not appear. */
export interface ReaderDiagnosis {
  symbolicLink: string;
  name: string | null;
  published: boolean;
  /** e.g. `IOCTL_SMARTCARD_IS_ABSENT returned STATUS_DEVICE_BUSY (0x80000011): reader considered failed` */
  failure: string | null;
}

export interface ReaderStateIn {
  szReader: string;
  dwCurrentState: number;
  /** Optional ATR mask data from the caller; unused by the RM except to echo. */
  pvUserData?: unknown;
}
export interface ReaderStateOut {
  szReader: string;
  dwCurrentState: number;
  dwEventState: number;
  cbAtr: number;
  rgbAtr: Uint8Array;
  pvUserData?: unknown;
}

export interface RmSession {
  readonly id: string;
  establishContext(dwScope: number): { rv: number; hContext: number };
  releaseContext(hContext: number): Promise<number>;
  isValidContext(hContext: number): number;
  ownsContext(hContext: number): boolean;
  ownsCard(hCard: number): boolean;
  listReaders(hContext: number, groups?: string[] | null): { rv: number; readers: string[] };
  listReaderGroups(hContext: number): { rv: number; groups: string[] };
  /** Blocks without blocking anything else. `dwTimeout` 0xFFFFFFFF = infinite. `signal` aborts like Cancel. */
  getStatusChange(hContext: number, dwTimeout: number, readerStates: ReaderStateIn[], signal?: AbortSignal): Promise<{ rv: number; readerStates: ReaderStateOut[] }>;
  /** Ends this context's GetStatusChange with SCARD_E_CANCELLED. */
  cancel(hContext: number): number;
  connect(hContext: number, szReader: string, dwShareMode: number, dwPreferredProtocols: number): Promise<{ rv: number; hCard: number; dwActiveProtocol: number }>;
  reconnect(hCard: number, dwShareMode: number, dwPreferredProtocols: number, dwInitialization: number): Promise<{ rv: number; dwActiveProtocol: number }>;
  disconnect(hCard: number, dwDisposition: number): Promise<number>;
  /** Waits while another handle holds the transaction; resolves when this handle holds it (or with an error rv). */
  beginTransaction(hCard: number): Promise<number>;
  endTransaction(hCard: number, dwDisposition: number): Promise<number>;
  /** `cbRecvLength` is the caller's buffer size; a longer response gives SCARD_E_INSUFFICIENT_BUFFER. */
  transmit(hCard: number, ioSendPciProtocol: number, pbSendBuffer: Uint8Array, cbRecvLength: number): Promise<{ rv: number; ioRecvPciProtocol: number; pbRecvBuffer: Uint8Array }>;
  /** `dwControlCode` in Windows form (SCARD_CTL_CODE = 0x310000|fn<<2) or pcsc-lite form (0x42000000+fn). */
  control(hCard: number, dwControlCode: number, pbSendBuffer: Uint8Array, cbRecvLength: number): Promise<{ rv: number; pbRecvBuffer: Uint8Array }>;
  getAttrib(hCard: number, dwAttrId: number, cbAttrLen: number): Promise<{ rv: number; pbAttr: Uint8Array }>;
  setAttrib(hCard: number, dwAttrId: number, pbAttr: Uint8Array): Promise<number>;
  status(hCard: number): Promise<{ rv: number; szReaderName: string; dwState: number; dwProtocol: number; pbAtr: Uint8Array }>;
  /** The client went away: release every context, handle, exclusive connection and transaction at once. */
  close(): Promise<void>;
}

export interface ResourceManagerApi {
  openSession(label: string): RmSession;
  /** Published readers in slot order (at most 16). */
  readerStates(): ReaderSnapshot[];
  /** Every reader interface seen, published or not, with the reason for a failure. */
  diagnose(): ReaderDiagnosis[];
  /** What clients hold right now: open sessions, contexts and card handles (metrics; a leak shows here). */
  usage?(): { sessions: number; contexts: number; cardHandles: number };
  /** Fires after any change a client could observe: reader list, state, counter, ATR, sharing, protocol. */
  onChange(listener: () => void): () => void;
  /** Resolves once every reader present at start-up is published or failed. */
  ready(): Promise<void>;
  /** Completes or cancels pending IRPs, closes reader handles. */
  shutdown(): Promise<void>;
}
