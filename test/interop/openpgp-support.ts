// Interop helpers for the OpenPGP card: the service as it starts out of the box (on a data directory the test
// keeps, so a restart finds the same card), and a private GNUPGHOME whose scdaemon uses our socket and whose
// pinentry is a script answering from files (never a terminal).

import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startService, type RunningService } from '../../service/service.js';
import { run, type RunResult } from './support.js';

export const OPENPGP_READER = 'vscr OpenPGP Reader';

/** The service with its default configuration (plain readers, default card, the OpenPGP card's own reader). */
export async function startDefaultService(dataDir: string): Promise<{ service: RunningService; env: NodeJS.ProcessEnv }> {
  const socket = path.join(dataDir, 'pcscd.comm');
  const service = await startService({
    port: 0,
    dataDir,
    pcsc: true,
    pcscSocket: socket,
    logLevel: (process.env.VSCR_TEST_LOG_LEVEL as 'silent' | undefined) ?? 'silent',
    badRequestLogIntervalMs: 0,
  });
  return { service, env: { ...process.env, PCSCLITE_CSOCK_NAME: socket, LC_ALL: 'C' } };
}

/**
 * pinentry speaking just enough Assuan: GETPIN answers the file named by the request's words (new/repeat → pin-new,
 * admin → pin-admin, else pin-user); every request is appended to pinentry.log.
 */
const PINENTRY = `#!/bin/sh
dir=$(dirname "$0")
echo "OK vscr test pinentry"
text=""
while IFS= read -r line; do
  case "$line" in
    SETDESC*|SETPROMPT*|SETTITLE*) text="$text $line"; echo OK ;;
    GETPIN*)
      lower=$(printf '%s' "$text" | tr 'A-Z' 'a-z')
      case "$lower" in
        *new*|*repeat*) file=pin-new ;;
        *admin*) file=pin-admin ;;
        *) file=pin-user ;;
      esac
      printf '%s -> %s\\n' "$text" "$file" >> "$dir/pinentry.log"
      echo "D $(cat "$dir/$file")"; echo OK; text="" ;;
    BYE*) echo OK; exit 0 ;;
    *) echo OK ;;
  esac
done
`;

export class GpgHome {
  private constructor(
    readonly dir: string,
    readonly env: NodeJS.ProcessEnv,
  ) {}

  static async create(serviceEnv: NodeJS.ProcessEnv): Promise<GpgHome> {
    // Short path: gpg-agent's sockets live in GNUPGHOME (UNIX socket paths are limited to 107 bytes).
    const dir = await mkdtemp(path.join(tmpdir(), 'vscr-gpg-'));
    await chmod(dir, 0o700);
    await writeFile(path.join(dir, 'pinentry.sh'), PINENTRY, { mode: 0o700 });
    await writeFile(path.join(dir, 'gpg-agent.conf'), `pinentry-program ${path.join(dir, 'pinentry.sh')}\n`);
    await writeFile(path.join(dir, 'scdaemon.conf'), `disable-ccid\npcsc-shared\nreader-port ${OPENPGP_READER}\n`);
    const home = new GpgHome(dir, { ...serviceEnv, GNUPGHOME: dir });
    await home.setPins({ user: '123456', admin: '12345678', next: '654321' });
    return home;
  }

  /** What the pinentry answers: the PIN, the Admin PIN, and any new PIN (asked twice). */
  async setPins(pins: { user?: string; admin?: string; next?: string }): Promise<void> {
    const write = (name: string, value: string | undefined) => (value === undefined ? Promise.resolve() : writeFile(path.join(this.dir, name), `${value}\n`, { mode: 0o600 }));
    await Promise.all([write('pin-user', pins.user), write('pin-admin', pins.admin), write('pin-new', pins.next)]);
  }

  gpg(args: string[], input?: string, timeoutMs = 60_000): Promise<RunResult> {
    return run('gpg', args, this.env, timeoutMs, input);
  }

  /** `gpg --card-edit` driven by --command-fd: one answer per line. */
  cardEdit(lines: string[]): Promise<RunResult> {
    return this.gpg(['--no-tty', '--command-fd', '0', '--status-fd', '1', '--card-edit'], `${lines.join('\n')}\n`, 120_000);
  }

  async cardStatus(): Promise<string> {
    const r = await this.gpg(['--card-status']);
    if (r.code !== 0) throw new Error(`gpg --card-status failed (${r.code}): ${r.stderr}`);
    return r.stdout;
  }

  /** Stops gpg-agent and scdaemon of this home (they would keep the card and the old environment). */
  async killAgents(): Promise<void> {
    await run('gpgconf', ['--kill', 'all'], this.env, 15_000);
  }

  async dispose(): Promise<void> {
    await this.killAgents();
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** One field of `gpg --card-status` ("Signature key ....: 8BAE 9D82 …" → "8BAE9D82…"), spaces removed for fingerprints. */
export function cardField(status: string, label: string): string {
  const line = status.split('\n').find((l) => l.startsWith(label));
  if (line === undefined) throw new Error(`no "${label}" in card status:\n${status}`);
  return line.slice(line.indexOf(':') + 1).trim();
}

export function cardFingerprints(status: string): string[] {
  return ['Signature key', 'Encryption key', 'Authentication key'].map((l) => cardField(status, l).replace(/\s+/g, ''));
}

/** The first public-key packet of `gpg --export` output: its body (for the fingerprint) and RSA n, e. */
export function firstPublicKeyPacket(data: Buffer): { body: Buffer; n?: Buffer; e?: Buffer } {
  const head = data[0];
  let length: number;
  let offset: number;
  if (head & 0x40) {
    const l = data[1];
    if (l < 192) [length, offset] = [l, 2];
    else if (l < 224) [length, offset] = [((l - 192) << 8) + data[2] + 192, 3];
    else [length, offset] = [data.readUInt32BE(2), 6];
  } else {
    const n = [1, 2, 4][head & 3];
    length = n === 1 ? data[1] : n === 2 ? data.readUInt16BE(1) : data.readUInt32BE(1);
    offset = 1 + n;
  }
  const body = data.subarray(offset, offset + length);
  if (body[5] !== 0x01) return { body };
  const mpi = (at: number): [Buffer, number] => {
    const bytes = Math.ceil(body.readUInt16BE(at) / 8);
    return [body.subarray(at + 2, at + 2 + bytes), at + 2 + bytes];
  };
  const [n, next] = mpi(6);
  const [e] = mpi(next);
  return { body, n, e };
}
