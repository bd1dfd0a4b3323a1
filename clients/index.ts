// Package entry for the vscr clients: the REST SDK and the winscard-style PC/SC client.
export * from './sdk/index.js';
export * from './winscard/index.js';
