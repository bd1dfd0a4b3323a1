// The smart-card constant vocabulary in one import: IOCTLs, SCARD states/protocols, SMCLIB values, attributes.

export * from './ioctl.js';
export * from './scard.js';
export * from './smclib.js';
export * from './scard-attributes.js';
