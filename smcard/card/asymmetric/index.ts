// Asymmetric crypto for the card applets (PIV, OpenPGP): one import point.

export * from './keys.js';
export * from './rsa.js';
export * from './ec.js';
