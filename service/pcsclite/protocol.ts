// The pcsc-lite 1.9.9 wire contract: protocol version, command numbers and fixed body sizes (docs/pcsclite-protocol.md §2–§3).

import { MAX_ATR_SIZE, PCSCLITE_MAX_READERS_CONTEXTS } from '../contract/pcsclite.js';

// The sizes are pcsc-lite's constants, defined once in the contract the clients share.
export { MAX_ATR_SIZE, MAX_BUFFER_SIZE, MAX_BUFFER_SIZE_EXTENDED, MAX_READERNAME, PCSCLITE_MAX_READERS_CONTEXTS } from '../contract/pcsclite.js';

/** libpcsclite 1.9.9 speaks 4.4 and pcscd requires exact equality (§4 version_struct). */
export const PROTOCOL_VERSION_MAJOR = 4;
export const PROTOCOL_VERSION_MINOR = 4;

/** `enum pcsc_msg_commands` with its explicit values. Gaps (0x03, 0x0C, 0x0E) are unused by 1.9.9 clients. */
export enum Command {
  SCARD_ESTABLISH_CONTEXT = 0x01,
  SCARD_RELEASE_CONTEXT = 0x02,
  SCARD_CONNECT = 0x04,
  SCARD_RECONNECT = 0x05,
  SCARD_DISCONNECT = 0x06,
  SCARD_BEGIN_TRANSACTION = 0x07,
  SCARD_END_TRANSACTION = 0x08,
  SCARD_TRANSMIT = 0x09,
  SCARD_CONTROL = 0x0a,
  SCARD_STATUS = 0x0b,
  SCARD_CANCEL = 0x0d,
  SCARD_GET_ATTRIB = 0x0f,
  SCARD_SET_ATTRIB = 0x10,
  CMD_VERSION = 0x11,
  CMD_GET_READERS_STATE = 0x12,
  CMD_WAIT_READER_STATE_CHANGE = 0x13,
  CMD_STOP_WAITING_READER_STATE_CHANGE = 0x14,
}

/**
 * Command numbers pcsc-lite defines but 1.9.9 clients never send; pcscd closes the connection on them
 * exactly as on unknown numbers (§1.4), so they are listed only for logs.
 */
export const UNUSED_COMMANDS: Readonly<Record<number, string>> = {
  0x03: 'SCARD_LIST_READERS',
  0x0c: 'SCARD_GET_STATUS_CHANGE',
  0x0e: 'SCARD_CANCEL_TRANSACTION',
};

/** `header.size` each command must declare: its fixed struct (TRANSMIT/CONTROL payloads are not counted), §10. */
export const BODY_SIZE: Readonly<Record<Command, number>> = {
  [Command.SCARD_ESTABLISH_CONTEXT]: 12,
  [Command.SCARD_RELEASE_CONTEXT]: 8,
  [Command.SCARD_CONNECT]: 152,
  [Command.SCARD_RECONNECT]: 24,
  [Command.SCARD_DISCONNECT]: 12,
  [Command.SCARD_BEGIN_TRANSACTION]: 8,
  [Command.SCARD_END_TRANSACTION]: 12,
  [Command.SCARD_TRANSMIT]: 32,
  [Command.SCARD_CONTROL]: 24,
  [Command.SCARD_STATUS]: 8,
  [Command.SCARD_CANCEL]: 8,
  [Command.SCARD_GET_ATTRIB]: 280,
  [Command.SCARD_SET_ATTRIB]: 280,
  [Command.CMD_VERSION]: 12,
  [Command.CMD_GET_READERS_STATE]: 0,
  [Command.CMD_WAIT_READER_STATE_CHANGE]: 0,
  [Command.CMD_STOP_WAITING_READER_STATE_CHANGE]: 0,
};

/** Offset of `cbSendLength` inside the body of the two commands whose input buffer follows the struct (§4). */
export const SEND_LENGTH_OFFSET: Readonly<Partial<Record<Command, number>>> = {
  [Command.SCARD_TRANSMIT]: 12,
  [Command.SCARD_CONTROL]: 8,
};

export const HEADER_SIZE = 8;
export const READER_STATE_SIZE = 184;
export const READER_STATES_SIZE = READER_STATE_SIZE * PCSCLITE_MAX_READERS_CONTEXTS; // 2944
/** pcscd leaves MAX_ATR_SIZE+1 in `cardAtrLength` of unused slots (§2). */
export const READER_NOT_INITIALIZED = MAX_ATR_SIZE + 1;
/** Size of the asynchronous event / cancel signal and of the STOP reply (§4 wait_reader_state_change). */
export const WAIT_READER_STATE_CHANGE_SIZE = 8;
/** The client's default socket path in Debian's build (§1.1); overridable with PCSCLITE_CSOCK_NAME. */
export const PCSCLITE_CSOCK_NAME = '/run/pcscd/pcscd.comm';

export function isCommand(value: number): value is Command {
  return Object.prototype.hasOwnProperty.call(BODY_SIZE, value);
}

/** `SCARD_TRANSMIT`, `unused 0x03 (SCARD_LIST_READERS)` or `unknown 0x99`, for logs. */
export function commandName(value: number): string {
  if (isCommand(value)) return Command[value];
  const hex = `0x${value.toString(16).padStart(2, '0')}`;
  const unused = UNUSED_COMMANDS[value];
  return unused ? `unused ${hex} (${unused})` : `unknown ${hex}`;
}
