// Public entry of the virtual card: create cards, list and load profiles, and the types callers need.

export { createVirtualCard, type CreateVirtualCardOptions } from './virtual-card.js';
export { removeStaleTempFiles } from './state-store.js';
export { listProfiles, loadProfile, DEFAULT_PROFILE } from './profile-registry.js';
export { validateProfile, type CardProfile, type ProfileFile, type ProfileDf, type ProfileEf, type ProfileApplet, type ProfileSecret, type AccessRule } from './profile.js';
export type { CardCrypto } from './card-context.js';
export type { VirtualCard } from './contract.js';
export { CardProfileError, CardStateError, CardOptionsError } from './errors.js';
export { parseAtr, buildAtr, atrProtocolMask, AtrError, PROTOCOL_T0, PROTOCOL_T1, MAX_ATR_LENGTH, type ParsedAtr } from './atr.js';
export { parseCommandApdu, buildCommandApdu, type CommandApdu } from './apdu.js';
export { SW, formatSw, type StatusWordName } from './status-words.js';
export { CRYPTO_APPLET_AID, PSO } from './crypto-applet.js';
export { INS } from './ins.js';
export { PIN_REFERENCE } from './security-commands.js';
