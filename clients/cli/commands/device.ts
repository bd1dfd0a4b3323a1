// The original console's commands (docs/crypto-device.md "The original console and autotest"): hash, encrypt,
// decrypt, status, reset, devices — non-interactive, with the original's output lines and --json.

import { createReadStream, createWriteStream } from 'node:fs';
import { open, rename, rm, stat, truncate } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import type { VscrClient } from '../../sdk/client.js';
import type { DeviceInfo, DeviceStatus } from '../../sdk/types.js';
import {
  cancellable, stdio, withClient, withClientOptions, withDeviceOption, type ClientFlags, type Io,
} from '../context.js';
import { LocalError } from '../exit-codes.js';
import { checkEncryptedSize, encryptLayout, readTrailer } from '../file-format.js';
import { createProgress, type Progress } from '../progress.js';

interface DeviceFlags extends ClientFlags {
  device: number;
  progress?: boolean;
}
interface CryptFlags extends DeviceFlags {
  out?: string;
}

export function registerDeviceCommands(program: Command, io: Io = stdio): void {
  withDeviceOption(withClientOptions(program.command('hash')))
    .description('SHA-256 of a file on the crypto device; prints "<file> : <hex>" like the original console')
    .argument('<file>', 'file to hash, or - for standard input')
    .option('--progress', 'show a progress bar even when stderr is not a terminal')
    .action((file: string, flags: DeviceFlags) => withClient(flags, io, (c) => hash(c, file, flags, io)));

  withDeviceOption(withClientOptions(program.command('encrypt')))
    .description('AES-256-CBC encrypt a file in place on the crypto device (the original\'s format: zero padding plus a 16-byte trailer)')
    .argument('<file>', 'file to encrypt')
    .option('--out <file>', 'write the result here and leave <file> unchanged')
    .option('--progress', 'show a progress bar even when stderr is not a terminal')
    .action((file: string, flags: CryptFlags) => withClient(flags, io, (c) => encrypt(c, file, flags, io)));

  withDeviceOption(withClientOptions(program.command('decrypt')))
    .description('AES-256-CBC decrypt a file made by `vscr encrypt` (or the original console), in place')
    .argument('<file>', 'file to decrypt')
    .option('--out <file>', 'write the result here and leave <file> unchanged')
    .option('--progress', 'show a progress bar even when stderr is not a terminal')
    .action((file: string, flags: CryptFlags) => withClient(flags, io, (c) => decrypt(c, file, flags, io)));

  withDeviceOption(withClientOptions(program.command('status')))
    .description('print the device state and error code ("State: ReadyState (0)", "Error: no error (0)")')
    .action((flags: DeviceFlags) => withClient(flags, io, async (c) => printStatus(await c.deviceStatus(flags.device), flags, io)));

  withDeviceOption(withClientOptions(program.command('reset')))
    .description('reset the crypto device (clears a sticky error, cancels a running operation)')
    .action((flags: DeviceFlags) => withClient(flags, io, async (c) => {
      const st = await c.resetDevice(flags.device);
      if (flags.json) io.out(JSON.stringify(st));
      else io.out('Reset done');
    }));

  withClientOptions(program.command('devices'))
    .description('list the crypto devices')
    .action((flags: ClientFlags) => withClient(flags, io, async (c) => {
      const devices = await c.devices();
      if (flags.json) io.out(JSON.stringify({ devices }));
      else for (const d of devices) io.out(describeDevice(d));
    }));
}

/** Ctrl-C during a device operation resets the device, as the original console's key press did. */
function deviceCancellable<T>(c: VscrClient, flags: DeviceFlags, io: Io, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  return cancellable(work, async () => {
    io.err('Cancelled: resetting the device...');
    try {
      await c.resetDevice(flags.device);
      io.err('Reset done');
    } catch (err) {
      io.err(`the reset after cancel failed: ${(err as Error).message}`);
    }
  });
}

async function hash(c: VscrClient, file: string, flags: DeviceFlags, io: Io): Promise<void> {
  const fromStdin = file === '-';
  const size = fromStdin ? 0 : (await statFile(file)).size;
  const progress = createProgress('hash', size, { force: flags.progress });
  try {
    const source = fromStdin ? io.stdin : createReadStream(file);
    const digest = await deviceCancellable(c, flags, io, (signal) => {
      // Said only once Ctrl-C handling is in place, so a script waiting for this line can interrupt safely.
      if (fromStdin && (flags.progress || io.stdin.isTTY)) io.err('hash: reading standard input (end it with Ctrl-D; Ctrl-C cancels and resets the device)');
      return c.sha256(flags.device, counted(source, progress), { signal });
    });
    if (flags.json) io.out(JSON.stringify({ file, digest }));
    else io.out(`${file} : ${digest}`);
  } finally {
    progress.stop();
  }
}

async function encrypt(c: VscrClient, file: string, flags: CryptFlags, io: Io): Promise<void> {
  const { size } = await statFile(file);
  const layout = encryptLayout(size);
  const target = flags.out ?? file;
  const progress = createProgress('encrypt', layout.totalSize, { force: flags.progress });
  const tmp = tempPath(target);
  try {
    async function* body(): AsyncGenerator<Uint8Array> {
      yield* counted(createReadStream(file), progress);
      const tail = new Uint8Array(layout.padBytes + layout.trailer.length);
      tail.set(layout.trailer, layout.padBytes);
      progress.add(tail.length);
      yield tail;
    }
    const written = await deviceCancellable(c, flags, io, async (signal) => {
      const out = await c.encryptStream(flags.device, body(), { signal });
      return writeStream(out, tmp);
    });
    if (written.size !== layout.totalSize) throw new LocalError(`the device returned ${written.size} bytes, expected ${layout.totalSize}; ${target} is unchanged`);
    await rename(tmp, target);
  } finally {
    progress.stop();
    await rm(tmp, { force: true });
  }
  if (flags.json) io.out(JSON.stringify({ file, out: target, plainSize: size, encryptedSize: layout.totalSize, padding: layout.strip }));
  else {
    io.out(`File padding: ${layout.strip} byte(s)`);
    io.out(`File '${target}' encrypted`);
  }
}

async function decrypt(c: VscrClient, file: string, flags: CryptFlags, io: Io): Promise<void> {
  const { size } = await statFile(file);
  const bad = checkEncryptedSize(size);
  if (bad) throw new LocalError(`${file} is not an encrypted file: ${bad}`);
  const target = flags.out ?? file;
  const progress = createProgress('decrypt', size, { force: flags.progress });
  const tmp = tempPath(target);
  let strip: number;
  try {
    const written = await deviceCancellable(c, flags, io, async (signal) => {
      const out = await c.decryptStream(flags.device, counted(createReadStream(file), progress), { signal });
      return writeStream(out, tmp);
    });
    if (written.size !== size) throw new LocalError(`the device returned ${written.size} bytes, expected ${size}; ${target} is unchanged`);
    const trailer = readTrailer(written.tail, written.size);
    if ('error' in trailer) {
      throw new LocalError(`${file} does not decrypt to a vscr file (${trailer.error}); wrong device key, or not made by \`vscr encrypt\`. ${target} is unchanged`);
    }
    strip = trailer.strip;
    await truncate(tmp, size - strip);
    await rename(tmp, target);
  } finally {
    progress.stop();
    await rm(tmp, { force: true });
  }
  if (flags.json) io.out(JSON.stringify({ file, out: target, encryptedSize: size, plainSize: size - strip, padding: strip }));
  else {
    io.out(`File padding: ${strip} byte(s)`);
    io.out(`File '${target}' decrypted`);
  }
}

function printStatus(st: DeviceStatus, flags: DeviceFlags, io: Io): void {
  if (flags.json) {
    io.out(JSON.stringify(st));
    return;
  }
  // The names come from the service's one table (crypto-device/lib/status-names.ts).
  io.out(`State: ${st.stateName} (${st.state})`);
  io.out(`Error: ${st.errorName} (${st.errorCode})`);
}

/** One line per device; the PCI id reads like the original's device interface path (VEN_1111&DEV_2222). */
export function describeDevice(d: DeviceInfo): string {
  const hex4 = (n: number) => n.toString(16).toUpperCase().padStart(4, '0');
  const rev = d.revision.toString(16).toUpperCase().padStart(2, '0');
  const mib = Math.round(d.guestMemoryBytes / (1024 * 1024));
  return `${d.id}: PCI\\VEN_${hex4(d.vendorId)}&DEV_${hex4(d.deviceId)}&REV_${rev}  engine=${d.engine} interrupts=${d.interruptMode} ` +
    `memory=${mib} MiB  State: ${d.stateName} (${d.state})  Error: ${d.errorName} (${d.errorCode})`;
}

async function statFile(file: string) {
  const st = await stat(file);
  if (!st.isFile()) throw new LocalError(`${file} is not a regular file`);
  return st;
}

function tempPath(target: string): string {
  return join(dirname(target), `.${basename(target)}.vscr-${process.pid}.tmp`);
}

async function* counted(source: AsyncIterable<Uint8Array | string>, progress: Progress): AsyncGenerator<Uint8Array> {
  for await (const chunk of source) {
    const bytes = typeof chunk === 'string' ? new TextEncoder().encode(chunk) : chunk;
    progress.add(bytes.length);
    yield bytes;
  }
}

/** Writes a web stream to a new file; returns the size and the last 32 bytes (the decrypt trailer check needs them). */
async function writeStream(stream: ReadableStream<Uint8Array>, path: string): Promise<{ size: number; tail: Uint8Array }> {
  let size = 0;
  let tail: Uint8Array = new Uint8Array(0);
  const keep = 32;
  const file = createWriteStream(path, { flags: 'wx' });
  async function* tap(): AsyncGenerator<Uint8Array> {
    const reader = stream.getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        size += value.length;
        if (value.length >= keep) tail = value.slice(value.length - keep);
        else {
          const joined = new Uint8Array(tail.length + value.length);
          joined.set(tail);
          joined.set(value, tail.length);
          tail = joined.slice(Math.max(0, joined.length - keep));
        }
        yield value;
      }
    } finally {
      reader.releaseLock();
    }
  }
  await pipeline(tap, file as Writable);
  // Flush to disk before the rename replaces the original: an in-place encrypt must not lose the file on a crash.
  const fh = await open(path, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
  return { size, tail };
}
