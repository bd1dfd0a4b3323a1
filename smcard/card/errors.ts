// Typed host-side errors of the virtual card (bad profiles, bad options, unreadable state files).
// Card-level mistakes never become these: they are status words (status-words.ts).

/** A card profile is unknown or breaks a rule; `problems` lists every rule it breaks. */
export class CardProfileError extends Error {
  readonly code = 'VSCR_ERR_CARD_PROFILE';
  readonly profile: string;
  readonly problems: readonly string[];
  constructor(profile: string, problems: readonly string[]) {
    super(`card profile "${profile}" is invalid: ${problems.join('; ')}`);
    this.name = 'CardProfileError';
    this.profile = profile;
    this.problems = problems;
  }
}

/**
 * A card state file exists but cannot be used (not JSON, wrong format, does not fit the profile). The file is
 * left untouched: the operator decides whether to repair or delete it.
 */
export class CardStateError extends Error {
  readonly code = 'VSCR_ERR_CARD_STATE';
  readonly file: string;
  readonly reason: string;
  constructor(file: string, reason: string, options?: { cause?: unknown }) {
    super(`card state file ${file} is unusable: ${reason} (fix or delete the file; it is never replaced automatically)`, options);
    this.name = 'CardStateError';
    this.file = file;
    this.reason = reason;
  }
}

/** createVirtualCard was called with an option it cannot use (e.g. a cardId that is not a safe file name). */
export class CardOptionsError extends Error {
  readonly code = 'VSCR_ERR_CARD_OPTIONS';
  constructor(message: string) {
    super(message);
    this.name = 'CardOptionsError';
  }
}
