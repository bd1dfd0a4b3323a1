// The package surface: `vscr`, `vscr/sdk` and `vscr/winscard` resolve (after `npm run build`) to the compiled
// clients with their .d.ts types, the `vscr` bin is bin/vscr.js, and each entry exports what docs/cli.md promises.
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as all from '../../clients/index.js';
import * as sdk from '../../clients/sdk/index.js';
import * as winscard from '../../clients/winscard/index.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as {
  bin: Record<string, string>;
  exports: Record<string, { types: string; default: string } | string>;
};

describe('package.json', () => {
  it('maps each entry to the build output of an existing source module, with types beside it', () => {
    expect(pkg.bin).toEqual({ vscr: 'bin/vscr.js' });
    for (const [entry, source] of [['.', 'clients/index.ts'], ['./sdk', 'clients/sdk/index.ts'], ['./winscard', 'clients/winscard/index.ts']]) {
      const target = pkg.exports[entry] as { types: string; default: string };
      const js = source.replace(/\.ts$/, '.js');
      expect(target, entry).toEqual({ types: `./dist/${js.replace(/\.js$/, '.d.ts')}`, default: `./dist/${js}` });
      expect(existsSync(`${root}${source}`), source).toBe(true);
    }
  });
});

describe('entry points', () => {
  it('export the clients, their errors and the pcsc-lite constants', () => {
    for (const name of ['VscrClient', 'VscrHttpError', 'VscrUnreachableError', 'VscrAbortedError', 'VscrClientClosedError', 'VscrProtocolError', 'VscrArgumentError', 'isVscrError', 'FetchTransport', 'DEFAULT_URL']) {
      expect(sdk, name).toHaveProperty(name);
      expect(all, name).toHaveProperty(name);
    }
    for (const name of ['WinscardClient', 'connectWinscard', 'PcscError', 'JsonRpcError', 'WinscardClosedError', 'WinscardSocketError', 'SCARD', 'SCARD_SHARE', 'SCARD_PROTOCOL', 'SCARD_STATE', 'SCARD_ATTR', 'SCARD_SCOPE', 'SCARD_DISPOSITION', 'INFINITE', 'PNP_NOTIFICATION_READER', 'scardName']) {
      expect(winscard, name).toHaveProperty(name);
      expect(all, name).toHaveProperty(name);
    }
    expect(winscard.scardName(winscard.SCARD.E_NO_SMARTCARD)).toBe('SCARD_E_NO_SMARTCARD');
  });
});
