// The SMARTCARD_EXTENSION state object shared by SMCLIB and the reader driver (docs/smclib.md §2), plus
// SmartcardInitialize and SmartcardInitializeCardCapabilities.

import type { Irp } from '../../kernel/irp.js';
import { NTSTATUS, type NtStatus } from '../../kernel/ntstatus.js';
import { WinScard } from '../constants/scard.js';
import {
  ATR_BUFFER_SIZE,
  HISTORICAL_CHARS_BUFFER_SIZE,
  MAXIMUM_ATTR_STRING_LENGTH,
  MIN_BUFFER_SIZE,
  PTS_TYPE_DEFAULT,
  RDF_SLOTS,
  SMCLIB_VERSION,
  SMCLIB_VERSION_REQUIRED,
  T1_BWI_DEFAULT,
  T1_CWI_DEFAULT,
  T1_IFSD,
  T1_IFSD_DEFAULT,
} from '../constants/smclib.js';
import { resolveSmclibOptions, type SmclibOptions } from './options.js';
import { AsyncMutex, SpinLock } from './sync.js';

/** A reader driver callback (RDF_*): returns an NTSTATUS; STATUS_PENDING keeps the IRP. */
export type ReaderCallback = (ext: SmartcardExtension) => Promise<number>;

export interface CardCapabilities {
  InversConvention: boolean;
  etu: number;
  ATR: { Buffer: Uint8Array; Length: number };
  HistoricalChars: { Buffer: Uint8Array; Length: number };
  Fl: number;
  Dl: number;
  II: number;
  P: number;
  N: number;
  GT: number;
  Protocol: { Supported: number; Selected: number };
  T0: { WI: number; WT: number };
  T1: { IFSC: number; CWI: number; BWI: number; EDC: number; CWT: number; BWT: number; BGT: number };
  PtsData: { Type: number; Fl: number; Dl: number; CLKFrequency: number; DataRate: number; StopBits: number };
  /** Set by SmartcardUpdateCardCapabilities when TA2 puts the card in specific mode (ISO 7816-3). */
  SpecificMode: { Present: boolean; Protocol: number };
}

export interface ReaderCapabilities {
  SupportedProtocols: number;
  ReaderType: number;
  MechProperties: number;
  CurrentState: number;
  Channel: number;
  CLKFrequency: { Default: number; Max: number };
  DataRate: { Default: number; Max: number };
  MaxIFSD: number;
  PowerMgmtSupport: number;
  CardConfiscated: number;
  DataRatesSupported: { List: number[] };
  CLKFrequenciesSupported: { List: number[] };
}

export interface VendorAttributes {
  VendorName: Uint8Array;
  IfdType: Uint8Array;
  UnitNo: number;
  IfdVersion: { VersionMajor: number; VersionMinor: number; BuildNumber: number };
  IfdSerialNo: Uint8Array;
}

export interface IoRequest {
  Information: { value: number };
  RequestBuffer: Uint8Array;
  RequestBufferLength: number;
  ReplyBuffer: Uint8Array;
  ReplyBufferLength: number;
}

export interface OsData {
  DeviceObject: unknown;
  CurrentIrp: Irp | null;
  NotificationIrp: Irp | null;
  Mutex: AsyncMutex;
  SpinLock: SpinLock;
  /** Set while a non-tracking callback's IRP is pending: the library answers DEVICE_BUSY (§3.1.6). */
  BlockedByPending: Irp | null;
}

export interface SmartcardBuffer {
  Buffer: Uint8Array;
  BufferSize: number;
  BufferLength: number;
}

export interface T1State {
  IFSC: number;
  IFSD: number;
  NAD: number;
  Wtx: number;
  /** Set by SET_ATTRIBUTE SCARD_ATTR_SUPRESS_T1_IFS_REQUEST (§3.7). */
  SuppressIfsRequest: boolean;
}

export interface SmartcardExtension {
  Version: number;
  VendorAttr: VendorAttributes;
  ReaderFunction: (ReaderCallback | null)[];
  CardCapabilities: CardCapabilities;
  LastError: number;
  IoRequest: IoRequest;
  MajorIoControlCode: number;
  MinorIoControlCode: number;
  OsData: OsData;
  ReaderCapabilities: ReaderCapabilities;
  ReaderExtension: unknown;
  SmartcardRequest: SmartcardBuffer;
  SmartcardReply: SmartcardBuffer;
  T0: { Lc: number; Le: number };
  T1: T1State;
  /** The library's [I] configuration points (not part of the C struct). */
  Options: SmclibOptions;
}

export interface SmartcardExtensionInit {
  vendorName?: string;
  ifdType?: string;
  unitNo?: number;
  ifdVersion?: { VersionMajor: number; VersionMinor: number; BuildNumber: number };
  ifdSerialNo?: Uint8Array;
  supportedProtocols?: number;
  readerType?: number;
  mechProperties?: number;
  channel?: number;
  clkFrequency?: { Default: number; Max: number };
  dataRate?: { Default: number; Max: number };
  maxIfsd?: number;
  options?: Partial<SmclibOptions>;
}

function ansi(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'latin1')).subarray(0, MAXIMUM_ATTR_STRING_LENGTH);
}

function emptyCardCapabilities(): CardCapabilities {
  return {
    InversConvention: false,
    etu: 0,
    ATR: { Buffer: new Uint8Array(ATR_BUFFER_SIZE), Length: 0 },
    HistoricalChars: { Buffer: new Uint8Array(HISTORICAL_CHARS_BUFFER_SIZE), Length: 0 },
    Fl: 1,
    Dl: 1,
    II: 0,
    P: 0,
    N: 0,
    GT: 0,
    Protocol: { Supported: 0, Selected: 0 },
    T0: { WI: 10, WT: 0 },
    T1: { IFSC: T1_IFSD_DEFAULT, CWI: T1_CWI_DEFAULT, BWI: T1_BWI_DEFAULT, EDC: 0, CWT: 0, BWT: 0, BGT: 0 },
    PtsData: { Type: PTS_TYPE_DEFAULT, Fl: 1, Dl: 1, CLKFrequency: 0, DataRate: 0, StopBits: 0 },
    SpecificMode: { Present: false, Protocol: 0 },
  };
}

/**
 * A driver-filled extension before SmartcardInitialize, with the virtual defaults NFCCX uses (docs/smclib.md §4.2):
 * CLK 13560 kHz is NFC's; a contact reader's 4 MHz / 9600 bps are used here as the forum thread's driver does (docs/background.md).
 */
export function createSmartcardExtension(init: SmartcardExtensionInit = {}): SmartcardExtension {
  return {
    Version: SMCLIB_VERSION,
    VendorAttr: {
      VendorName: ansi(init.vendorName ?? 'vscr'),
      IfdType: ansi(init.ifdType ?? 'Virtual Reader'),
      UnitNo: init.unitNo ?? 0,
      IfdVersion: init.ifdVersion ?? { VersionMajor: 0, VersionMinor: 1, BuildNumber: 0 },
      IfdSerialNo: init.ifdSerialNo ?? new Uint8Array(0),
    },
    ReaderFunction: new Array<ReaderCallback | null>(RDF_SLOTS).fill(null),
    CardCapabilities: emptyCardCapabilities(),
    LastError: 0,
    IoRequest: { Information: { value: 0 }, RequestBuffer: new Uint8Array(0), RequestBufferLength: 0, ReplyBuffer: new Uint8Array(0), ReplyBufferLength: 0 },
    MajorIoControlCode: 0,
    MinorIoControlCode: 0,
    OsData: { DeviceObject: null, CurrentIrp: null, NotificationIrp: null, Mutex: new AsyncMutex(), SpinLock: new SpinLock(), BlockedByPending: null },
    ReaderCapabilities: {
      SupportedProtocols: init.supportedProtocols ?? WinScard.PROTOCOL_T0 | WinScard.PROTOCOL_T1,
      ReaderType: init.readerType ?? WinScard.READER_TYPE_VENDOR,
      MechProperties: init.mechProperties ?? 0,
      CurrentState: WinScard.ABSENT,
      Channel: init.channel ?? 0,
      CLKFrequency: init.clkFrequency ?? { Default: 4000, Max: 4000 },
      DataRate: init.dataRate ?? { Default: 10752, Max: 10752 },
      MaxIFSD: init.maxIfsd ?? T1_IFSD,
      PowerMgmtSupport: 0,
      CardConfiscated: 0,
      DataRatesSupported: { List: [] },
      CLKFrequenciesSupported: { List: [] },
    },
    ReaderExtension: null,
    SmartcardRequest: { Buffer: new Uint8Array(0), BufferSize: MIN_BUFFER_SIZE, BufferLength: 0 },
    SmartcardReply: { Buffer: new Uint8Array(0), BufferSize: MIN_BUFFER_SIZE, BufferLength: 0 },
    T0: { Lc: 0, Le: 0 },
    T1: { IFSC: T1_IFSD_DEFAULT, IFSD: T1_IFSD, NAD: 0, Wtx: 0, SuppressIfsRequest: false },
    Options: resolveSmclibOptions(init.options),
  };
}

/**
 * SmartcardInitialize: checks the driver-provided fields and allocates the request/reply buffers. Drivers must
 * log and fail AddDevice on an error (docs/smclib.md §4.1).
 */
export function SmartcardInitialize(ext: SmartcardExtension): NtStatus {
  if (!(ext.Version >= SMCLIB_VERSION_REQUIRED)) return NTSTATUS.STATUS_INVALID_PARAMETER;
  if (ext.SmartcardRequest.BufferSize < MIN_BUFFER_SIZE || ext.SmartcardReply.BufferSize < MIN_BUFFER_SIZE) {
    return NTSTATUS.STATUS_INVALID_PARAMETER;
  }
  if (ext.VendorAttr.VendorName.length > MAXIMUM_ATTR_STRING_LENGTH || ext.VendorAttr.IfdType.length > MAXIMUM_ATTR_STRING_LENGTH) {
    return NTSTATUS.STATUS_INVALID_PARAMETER;
  }
  ext.SmartcardRequest.Buffer = new Uint8Array(ext.SmartcardRequest.BufferSize);
  ext.SmartcardReply.Buffer = new Uint8Array(ext.SmartcardReply.BufferSize);
  return NTSTATUS.STATUS_SUCCESS;
}

/** SmartcardInitializeCardCapabilities: forget everything learnt from the previous ATR (before a reset, §3.4). */
export function SmartcardInitializeCardCapabilities(ext: SmartcardExtension): void {
  ext.CardCapabilities = emptyCardCapabilities();
  ext.T1.IFSC = T1_IFSD_DEFAULT;
  ext.T1.Wtx = 0;
}

/** The current ATR bytes (a copy). */
export function currentAtr(ext: SmartcardExtension): Uint8Array {
  return ext.CardCapabilities.ATR.Buffer.slice(0, ext.CardCapabilities.ATR.Length);
}
