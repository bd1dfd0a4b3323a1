// Durable card state on disk: read once at creation, written atomically (temp file, fsync, rename, fsync dir)
// so a crash leaves either the old or the new file, never a torn one. A state file has exactly one owner at a
// time: an in-process registry refuses a second live card on the same file, and a lock file next to it
// refuses a second process.

import { mkdir, open, readFile, readdir, rename, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import { CardStateError } from './errors.js';

/** Resolved state-file path → the store that owns it, for every state file open in this process. */
const owners = new Map<string, CardStateStore>();

const TMP_RE = /^(.+\.json)\.(\d+)\.[0-9a-f]+\.tmp$/;

function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Deletes temp files a crashed writer left in `cardsDir` (each is a full copy of a card's state). Only files
 * whose writer process is gone are removed, so another live service on the same directory is left alone.
 * Returns the names removed.
 */
export async function removeStaleTempFiles(cardsDir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(cardsDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = TMP_RE.exec(name);
    if (m === null) continue;
    const pid = Number(m[2]);
    // Our own pid here is a previous incarnation (containers reuse pid 1): nothing of ours is open yet.
    if (pid !== process.pid && processAlive(pid)) continue;
    if (pid === process.pid && owners.has(resolve(cardsDir, m[1]))) continue;
    await unlink(join(cardsDir, name)).catch(() => undefined);
    removed.push(name);
  }
  return removed;
}

export class CardStateStore {
  readonly file: string;
  private readonly key: string;
  private readonly lockFile: string;
  private owned = false;

  constructor(file: string) {
    this.file = file;
    this.key = resolve(file);
    this.lockFile = `${file}.lock`;
  }

  /**
   * Takes ownership of the file, synchronously in this process (so two concurrent claims cannot both pass),
   * then through the lock file against other processes. A CardStateError when another card owns it.
   */
  async claim(): Promise<void> {
    if (this.owned) return;
    const holder = owners.get(this.key);
    if (holder !== undefined) throw new CardStateError(this.file, 'is in use by another live card in this process');
    owners.set(this.key, this);
    try {
      await this.takeLock();
    } catch (err) {
      owners.delete(this.key);
      throw err;
    }
    this.owned = true;
  }

  /** Gives the file up (card removed or closed); writes after this are refused. */
  async release(): Promise<void> {
    if (!this.owned) return;
    this.owned = false;
    owners.delete(this.key);
    await unlink(this.lockFile).catch(() => undefined);
  }

  get isOwned(): boolean {
    return this.owned;
  }

  private async takeLock(): Promise<void> {
    await mkdir(dirname(this.file), { recursive: true });
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const handle = await open(this.lockFile, 'wx', 0o600);
        try {
          await handle.writeFile(`${process.pid}\n`);
        } finally {
          await handle.close();
        }
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
          throw new CardStateError(this.file, `cannot be locked (${(err as Error).message})`, { cause: err });
        }
      }
      const text = await readFile(this.lockFile, 'utf8').catch(() => '');
      const pid = Number.parseInt(text, 10);
      // A lock of our own pid that the registry does not know is left from a previous incarnation.
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && processAlive(pid)) {
        throw new CardStateError(this.file, `is in use by process ${pid} (lock file ${basename(this.lockFile)})`);
      }
      await unlink(this.lockFile).catch(() => undefined);
    }
    throw new CardStateError(this.file, 'cannot be locked (the lock file keeps reappearing)');
  }

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

  /** Replaces the file atomically; resolves only once the data and the rename are on disk. Owner only. */
  async write(text: string): Promise<void> {
    if (!this.owned || owners.get(this.key) !== this) throw new CardStateError(this.file, 'is not owned by this card (released or never claimed)');
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
