// Pure helpers of the CLI: status-word meanings, the original's status names, scan's event arithmetic, exit codes.
import { describe, expect, it } from 'vitest';
import { statusWordMeaning } from '../../../clients/cli/status-words.js';
import { describeDevice } from '../../../clients/cli/commands/device.js';
import { describeStatus, formatStatusLines } from '../../../crypto-device/lib/status-names.js';
import { cardEvents } from '../../../clients/cli/commands/scan.js';
import { EXIT, describeError, exitCodeFor, UsageError, CancelledError, LocalError } from '../../../clients/cli/exit-codes.js';
import { VscrHttpError, VscrUnreachableError } from '../../../clients/sdk/errors.js';
import { PcscError, WinscardSocketError } from '../../../clients/winscard/errors.js';
import { SCARD, SCARD_STATE } from '../../../service/contract/pcsclite.js';

describe('status words', () => {
  it('names the common ISO 7816-4 status words', () => {
    expect(statusWordMeaning(0x90, 0x00)).toBe('Normal processing.');
    expect(statusWordMeaning(0x6a, 0x82)).toMatch(/file or application not found/);
    expect(statusWordMeaning(0x61, 0x10)).toMatch(/16 response bytes/);
    expect(statusWordMeaning(0x6c, 0x20)).toMatch(/32 bytes available/);
    expect(statusWordMeaning(0x63, 0xc2)).toMatch(/counter 2/);
    expect(statusWordMeaning(0x6d, 0x00)).toMatch(/instruction code not supported/);
    expect(statusWordMeaning(0x12, 0x34)).toBe('Unknown status word.');
  });
});

describe('status names', () => {
  it('prints the names the service sends, from the one table, as the original console lines', () => {
    const device = {
      id: 0, vendorId: 0x1111, deviceId: 0x2222, revision: 0, engine: 'native' as const, interruptMode: 'msi-multi' as const, guestMemoryBytes: 1 << 30,
    };
    expect(describeDevice({ ...device, ...describeStatus(1, 1) })).toBe(
      '0: PCI\\VEN_1111&DEV_2222&REV_00  engine=native interrupts=msi-multi memory=1024 MiB  State: ResetState (1)  Error: DMA error (1)',
    );
    expect(formatStatusLines(describeStatus(3, 9))).toEqual(['State: Sha2State (3)', 'Error: unknown error (9)']);
  });
});

describe('scan cardEvents', () => {
  const P = SCARD_STATE.PRESENT;
  const E = SCARD_STATE.EMPTY;
  const at = (counter: number, bits: number) => ((counter << 16) | bits) >>> 0;
  it('reports one event per counter step, ending in the new state', () => {
    expect(cardEvents(at(0, E), at(1, P))).toEqual(['inserted']);
    expect(cardEvents(at(1, P), at(2, E))).toEqual(['removed']);
    expect(cardEvents(at(1, P), at(3, P))).toEqual(['removed', 'inserted']);
    expect(cardEvents(at(0xffff, E), at(0, P))).toEqual(['inserted']); // the counter wraps at 16 bits
    expect(cardEvents(at(4, P), at(4, P | SCARD_STATE.INUSE))).toEqual([]);
  });
  it('still reports a presence change from a server without the counter', () => {
    expect(cardEvents(E, P)).toEqual(['inserted']);
  });
  it('reports no card events for a removed or failed reader, and only a presence change when it comes back', () => {
    const gone = SCARD_STATE.UNKNOWN | SCARD_STATE.UNAVAILABLE;
    expect(cardEvents(at(7, P), gone)).toEqual([]);
    expect(cardEvents(at(7, P), SCARD_STATE.UNAVAILABLE)).toEqual([]);
    // back from UNAVAILABLE (no counter in the old state): one event, not one per counter step
    expect(cardEvents(SCARD_STATE.UNAVAILABLE, at(9, P))).toEqual(['inserted']);
    expect(cardEvents(SCARD_STATE.UNAVAILABLE, at(9, E))).toEqual([]);
  });
});

describe('exit codes', () => {
  it('maps each error family to its documented code', () => {
    expect(exitCodeFor(new UsageError('x'))).toBe(EXIT.USAGE);
    expect(exitCodeFor(new CancelledError())).toBe(130);
    expect(exitCodeFor(new LocalError('x'))).toBe(1);
    expect(exitCodeFor(new VscrUnreachableError('http://x', new Error('ECONNREFUSED')))).toBe(3);
    expect(exitCodeFor(new WinscardSocketError('closed'))).toBe(3);
    expect(exitCodeFor(new VscrHttpError(404, { error: 'Not Found', code: 'VSCR_ERR_UNKNOWN_DEVICE', message: 'm' }))).toBe(4);
    expect(exitCodeFor(new PcscError('SCardConnect', SCARD.E_NO_SMARTCARD))).toBe(4);
    expect(exitCodeFor(Object.assign(new Error('no'), { code: 'ENOENT' }))).toBe(1);
    // The SDK's own codes for a dropped socket, an abort and a bad argument are not "device error" (4).
    expect(exitCodeFor(new VscrHttpError(400, { error: 'Bad Request', code: 'VSCR_ERR_ARGUMENT', message: 'm' }))).toBe(EXIT.USAGE);
  });

  it('says what a local file error was about, naming the path', () => {
    const missing = Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT', path: '/tmp/none.bin' });
    expect(describeError(missing)).toBe('error: no such file: /tmp/none.bin');
    const denied = Object.assign(new Error('EACCES'), { code: 'EACCES', path: '/root/x' });
    expect(describeError(denied)).toBe('error: permission denied: /root/x');
    expect(describeError(new VscrHttpError(401, { error: 'Unauthorized', code: 'VSCR_ERR_UNAUTHORIZED', message: 'token required' })))
      .toBe('error: token required [VSCR_ERR_UNAUTHORIZED, HTTP 401]\nhint: pass the service token with --token or VSCR_TOKEN');
  });
});
