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
  /** Record that persistent state (EF contents, PIN/PUK values or counters) changed; saved before replying. */
  markDirty(): void;
}
