// ISO 7816-4 instruction bytes the card and its applet serve (§11 of the standard), named once for both tables.

export const INS = {
  VERIFY: 0x20,
  CHANGE_REFERENCE_DATA: 0x24,
  RESET_RETRY_COUNTER: 0x2c,
  /** PERFORM SECURITY OPERATION (ISO 7816-8 §5.2). */
  PSO: 0x2a,
  GET_CHALLENGE: 0x84,
  INTERNAL_AUTHENTICATE: 0x88,
  SELECT: 0xa4,
  READ_BINARY: 0xb0,
  GET_RESPONSE: 0xc0,
  UPDATE_BINARY: 0xd6,
} as const;
