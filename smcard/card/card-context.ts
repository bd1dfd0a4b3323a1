// What a command handler sees: the card's file system, PIN state, selection, applets and crypto device.
// Handlers follow vicc's shape, `(context, apdu) → (sw, data)`, and fail by throwing SwError.

import type { Logger } from 'pino';
import type { CryptoDeviceControl } from '../../crypto-device/lib/contract.js';
import type { CommandApdu } from './apdu.js';
import type { CardFileSystem, DfNode, EfNode } from './file-system.js';
import type { PinState } from './pin.js';
import type { CardResponse } from './status-words.js';

/** The part of the crypto device's control library the card uses (docs/architecture.md "Three flows to keep straight", flow 3). */
export type CardCrypto = Pick<CryptoDeviceControl, 'sha256' | 'aesCbcEncrypt' | 'aesCbcDecrypt'>;

export type CommandHandler = (ctx: CardContext, apdu: CommandApdu) => CardResponse | Promise<CardResponse>;

/** INS → handler. */
export type InsTable = Readonly<Partial<Record<number, CommandHandler>>>;

/** An application selected by AID; its INS table is consulted before the card's own while it is selected. */
export interface Applet {
  readonly aid: Uint8Array;
  readonly label: string;
  /** Control parameters returned by SELECT (a '62' FCP template), P2 chooses the wrapper. */
  readonly fcpContent: Uint8Array;
  readonly commands: InsTable;
  /** SELECT by DF name also accepts a leading part of the AID of at least this many bytes (the RID is 5). */
  readonly minSelectPrefix?: number;
  /** The answer to SELECT (P2 other than 0C) when the applet defines its own, instead of FCI/FCP/FMD. */
  selectResponse?(): Uint8Array;
  /** The status word of a successful SELECT when it is not 9000 (e.g. 6285, an application in its termination state). */
  selectStatus?(): number;
  /** CLA 10 command chaining is accepted while selected: the processor joins the blocks into one command. */
  readonly chaining?: boolean;
  /** A command without Le may still answer data (up to 256 bytes, 65536 extended), as hosts of this applet expect. */
  readonly missingLeMeansMax?: boolean;
  /** The card's serial number, when this applet keeps one. */
  serialNumber?(): number;
  /** Forget volatile state (verified PINs, authentications): card reset, power-down, and another selection. */
  reset?(): void;
  /** Present when the applet keeps state of its own in the card's state file. */
  readonly persistence?: AppletPersistence;
}

/**
 * An applet's section of the card state file (`applets.<AID hex>`). Secrets in it are sealed through the crypto
 * device (key-store.ts), so snapshot may call the device; restore refuses a section it cannot use.
 */
export interface AppletPersistence {
  /** The applet holds secrets that are only ever stored sealed: a persisted card needs a crypto device. */
  readonly sealsSecrets: boolean;
  /** Factory state, on the first insert (no state file, or no section for this applet yet). */
  initialize(ctx: CardContext): Promise<void>;
  /** Loads a section written by snapshot; throws CardStateError(file, …) and changes nothing useful if it cannot. */
  restore(ctx: CardContext, section: unknown, file: string): Promise<void>;
  /** The JSON-serialisable section describing the current persistent state. */
  snapshot(ctx: CardContext): Promise<unknown>;
}

export interface CardContext {
  readonly fs: CardFileSystem;
  readonly pins: PinState;
  readonly applets: readonly Applet[];
  /** null when the card was created without a crypto device: applet crypto commands answer 6A81. */
  readonly crypto: CardCrypto | null;
  readonly random: (length: number) => Uint8Array;
  readonly logger: Logger;
  currentDf: DfNode;
  currentEf: EfNode | null;
  selectedApplet: Applet | null;
  /** Record that persistent state (EF contents, PIN/PUK values or counters, applet state) changed; saved before replying. */
  markDirty(): void;
}
