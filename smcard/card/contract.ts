// The contract between the virtual reader driver and a virtual card: the contacts of a card in a slot.
// Implemented by smcard/card/virtual-card.ts; consumed by smcard/reader/.

export interface VirtualCard {
  /** The ATR the card answers a reset with (valid TS, T0, TCK per ISO 7816-3). */
  readonly atr: Uint8Array;
  /** SCARD_PROTOCOL_T0 (1) | SCARD_PROTOCOL_T1 (2) bits offered by the ATR. */
  readonly supportedProtocols: number;
  /** Profile name the card was made from (for listings). */
  readonly profile: string;
  readonly powered: boolean;
  /** Cold reset: power up, clear volatile state (selected files, PIN-verified flags), return the ATR. */
  coldReset(): Promise<Uint8Array>;
  /** Warm reset: same volatile-state rule as cold, keeps power; returns the ATR. */
  warmReset(): Promise<Uint8Array>;
  powerDown(): Promise<void>;
  /**
   * One command APDU in, one response APDU (data + SW1 SW2) out. `protocol` is the negotiated one
   * (1 = T=0: case 4 answered with 61xx and GET RESPONSE; 2 = T=1). Card errors are status words, never throws.
   */
  transmit(apdu: Uint8Array, protocol: number): Promise<Uint8Array>;
  /** Persist counters/files now (called on removal and shutdown). */
  flush(): Promise<void>;
  /**
   * Flush, then give up the card's state file so another card may own it. The card is unusable afterwards.
   * Optional: cards without a state file have nothing to give up.
   */
  close?(): Promise<void>;
}
