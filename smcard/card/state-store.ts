// Durable card state on disk: read once at creation, written atomically (temp file, fsync, rename, fsync dir)
// so a crash leaves either the old or the new file, never a torn one.

import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname } from 'node:path';
import { CardStateError } from './errors.js';

export class CardStateStore {
  constructor(readonly file: string) {}

  /** The parsed JSON, or null when there is no file yet. Unreadable or non-JSON content is a CardStateError. */
  async load(): Promise<unknown> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new CardStateError(this.file, `cannot be read (${(err as Error).message})`, { cause: err });
    }
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      throw new CardStateError(this.file, `is not valid JSON (${(err as Error).message})`, { cause: err });
    }
  }

  /** Replaces the file atomically; resolves only once the data and the rename are on disk. */
  async write(text: string): Promise<void> {
    const dir = dirname(this.file);
    await mkdir(dir, { recursive: true });
    const tmp = `${this.file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      // 0600: the file holds the PIN and PUK.
      const handle = await open(tmp, 'w', 0o600);
      try {
        await handle.writeFile(text, 'utf8');
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(tmp, this.file);
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
    // Make the rename itself durable; some file systems refuse fsync on a directory, which is harmless.
    try {
      const dirHandle = await open(dir, 'r');
      try {
        await dirHandle.sync();
      } finally {
        await dirHandle.close();
      }
    } catch {
      /* directory fsync unsupported: the rename is still atomic */
    }
  }
}
