// `vscr apdu`: send APDUs to a card over the winscard client and print responses with status-word meanings,
// like pcsc-tools' scriptor ("> 00 A4 …", "< 90 00 : Normal processing.").

import type { Command } from 'commander';
import { fromHex, toHex } from '../../sdk/hex.js';
import { connectWinscard } from '../../winscard/client.js';
import { SCARD_DISPOSITION, SCARD_PROTOCOL, SCARD_SCOPE, SCARD_SHARE } from '../../../service/contract/pcsclite.js';
import { makeClient, readerArg, resolveToken, resolveUrl, stdio, withClientOptions, type ClientFlags, type Io } from '../context.js';
import { UsageError } from '../exit-codes.js';
import { statusWordMeaning } from '../status-words.js';
import { spacedHex } from './readers.js';

interface ApduFlags extends ClientFlags {
  protocol?: string;
}

export function registerApduCommand(program: Command, io: Io = stdio): void {
  withClientOptions(program.command('apdu'))
    .description('send APDUs to the card in a reader and print the responses with status-word meanings (like scriptor)')
    .argument('<reader>', 'reader index or exact name')
    .argument('<apdu...>', 'APDUs in hex, one per argument (spaces allowed inside quotes), e.g. "00 A4 04 00 00"')
    .option('--protocol <p>', 'preferred protocol: t0, t1 or any', 'any')
    .action((reader: string, apdus: string[], flags: ApduFlags) => runApdu(reader, apdus, flags, io));
}

async function runApdu(readerText: string, apduTexts: string[], flags: ApduFlags, io: Io): Promise<void> {
  const apdus = apduTexts.map((text) => {
    let bytes: Uint8Array;
    try {
      bytes = fromHex(text);
    } catch (err) {
      throw new UsageError(`${(err as Error).message}; write APDUs as hex bytes, e.g. "00 A4 04 00 00"`);
    }
    if (bytes.length < 4) throw new UsageError(`APDU "${text}" is shorter than the 4-byte header (CLA INS P1 P2)`);
    return bytes;
  });
  const preferred = { t0: SCARD_PROTOCOL.T0, t1: SCARD_PROTOCOL.T1, any: SCARD_PROTOCOL.ANY }[(flags.protocol ?? 'any').toLowerCase()];
  if (preferred === undefined) throw new UsageError(`--protocol must be t0, t1 or any, not "${flags.protocol}"`);

  const readerName = await resolveReaderName(readerArg(readerText), flags, io);
  const pcsc = await connectWinscard({ url: resolveUrl(flags, io.env), token: resolveToken(flags, io.env) });
  const results: { command: string; response: string; sw: string; meaning: string }[] = [];
  try {
    const ctx = await pcsc.establishContext(SCARD_SCOPE.SYSTEM);
    const { hCard, protocol } = await pcsc.connect(ctx, readerName, SCARD_SHARE.SHARED, preferred);
    if (!flags.json) io.out(`Using T=${protocol === SCARD_PROTOCOL.T1 ? 1 : 0} protocol on ${readerName}`);
    for (const apdu of apdus) {
      if (!flags.json) io.out(`> ${spacedHex(toHex(apdu))}`);
      const resp = await pcsc.transmit(hCard, protocol, apdu);
      const sw1 = resp[resp.length - 2] ?? 0;
      const sw2 = resp[resp.length - 1] ?? 0;
      const meaning = resp.length >= 2 ? statusWordMeaning(sw1, sw2) : 'Response shorter than a status word.';
      results.push({ command: toHex(apdu), response: toHex(resp), sw: toHex(resp.subarray(Math.max(0, resp.length - 2))), meaning });
      if (!flags.json) io.out(`< ${spacedHex(toHex(resp))} : ${meaning}`);
    }
    await pcsc.disconnect(hCard, SCARD_DISPOSITION.LEAVE_CARD);
    await pcsc.releaseContext(ctx);
  } finally {
    await pcsc.close();
  }
  if (flags.json) io.out(JSON.stringify({ reader: readerName, results }));
}

/** An index is looked up in `GET /v1/readers`; a name is used as given. */
async function resolveReaderName(reader: number | string, flags: ClientFlags, io: Io): Promise<string> {
  if (typeof reader === 'string') return reader;
  const client = makeClient(flags, io);
  try {
    const found = (await client.readers()).find((r) => r.index === reader);
    if (!found) throw new UsageError(`no reader with index ${reader}; \`vscr readers\` lists them`);
    return found.name;
  } finally {
    await client.close();
  }
}
