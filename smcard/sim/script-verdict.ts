// What a scripted or replayed card reports about its run: rules used, the first unexpected command. Shapes only,
// so clients (the SDK) can import them without the card.

/** The first command no rule answered. */
export interface ScriptMismatch {
  /** 1-based number of the exchange on this card. */
  exchange: number;
  /** What would have matched: rule patterns (with their stage condition), `(end of script)` when none was left. */
  expected: string[];
  actual: string;
  stage: string;
  message: string;
}

export interface ScriptVerdict {
  script: string;
  mode: 'ordered' | 'unordered';
  strict: boolean;
  /** No mismatch in strict mode and every rule used. */
  passed: boolean;
  /** Every rule was used at least once. */
  complete: boolean;
  rules: number;
  consumed: number;
  /** Rules never used, in script order. */
  unconsumed: { index: number; line: number; name?: string; command: string }[];
  exchanges: number;
  /** Commands answered with the default response. */
  unmatched: number;
  stage: string;
  mismatch: ScriptMismatch | null;
}
