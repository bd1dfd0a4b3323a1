// Configuration: defaults, precedence (flags > env > file > defaults), validation and the loopback/token rule.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configFromEnv, ConfigError, isLoopbackHost, pcscSocketPath, readConfigFile, resolveConfig } from '../../../service/config/load-config.js';
import { buildCommand, runServiceCli } from '../../../service/main.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'vscr-cfg-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('defaults', () => {
  it('are the embedded defaults docs/configuration.md lists', () => {
    const c = resolveConfig();
    expect(c).toMatchObject({ host: '127.0.0.1', port: 8790, dataDir: './.vscr-data', pcsc: true, pcscBusyPollMicros: 500, token: null, logLevel: 'info', readers: 2, defaultCard: 'default', cardReaders: ['piv', 'openpgp'] });
    expect(c.devices).toEqual([{ keyString: 'secret', engine: 'native', guestMemoryMiB: 1024, interruptMode: 'msi-multi' }]);
    expect(pcscSocketPath(c)).toBe(path.resolve('.vscr-data/pcscd.comm'));
  });
});

describe('precedence', () => {
  it('flags > env > file > defaults, device settings apply to every device', async () => {
    const file = path.join(dir, 'c.json');
    await writeFile(file, JSON.stringify({ port: 1111, host: '127.0.0.2', readers: 3, devices: [{ engine: 'noble' }, { guestMemoryMiB: 64 }] }));
    const env = configFromEnv({ VSCR_PORT: '2222', VSCR_LOG_LEVEL: 'warn', VSCR_DEVICE_KEY: 'k1', VSCR_PCSC: 'false' });
    const c = resolveConfig(await readConfigFile(file), env, { port: 3333, device: { interruptMode: 'intx' } });
    expect(c.port).toBe(3333);
    expect(c.host).toBe('127.0.0.2');
    expect(c.logLevel).toBe('warn');
    expect(c.readers).toBe(3);
    expect(c.pcsc).toBe(false);
    expect(c.devices).toEqual([
      { keyString: 'k1', engine: 'noble', guestMemoryMiB: 1024, interruptMode: 'intx' },
      { keyString: 'k1', engine: 'native', guestMemoryMiB: 64, interruptMode: 'intx' },
    ]);
  });

  it('deviceCount clones the first device', () => {
    const c = resolveConfig({ deviceCount: 3, device: { engine: 'noble' } });
    expect(c.devices).toHaveLength(3);
    expect(c.devices.every((d) => d.engine === 'noble')).toBe(true);
  });

  it('the pcsc-lite busy-poll window comes from the file, VSCR_PCSC_BUSY_POLL_US or --pcsc-busy-poll, and is bounded', async () => {
    expect(resolveConfig({ pcscBusyPollMicros: 0 }).pcscBusyPollMicros).toBe(0);
    expect(resolveConfig(configFromEnv({ VSCR_PCSC_BUSY_POLL_US: '1200' })).pcscBusyPollMicros).toBe(1200);
    expect(() => resolveConfig({ pcscBusyPollMicros: 10_001 })).toThrow(/pcscBusyPollMicros must be an integer from 0 to 10000, got 10001/);
    await expect(runServiceCli(['--pcsc-busy-poll', '-1'], {})).rejects.toThrow(/--pcsc-busy-poll/);
    expect(buildCommand().helpInformation()).toContain('--pcsc-busy-poll');
  });

  it('VSCR_CARD=none means no default card', () => {
    expect(resolveConfig(configFromEnv({ VSCR_CARD: 'none' })).defaultCard).toBeNull();
  });
});

describe('validation', () => {
  const problems = (f: () => unknown): string[] => {
    try {
      f();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return (err as ConfigError).problems;
    }
    throw new Error('expected a ConfigError');
  };

  it('lists every problem at once, with the offending value', () => {
    const p = problems(() => resolveConfig({ port: 70000, logLevel: 'loud' as never, readers: -1, device: { engine: 'fast' as never, guestMemoryMiB: 0 } }));
    expect(p.join('\n')).toMatch(/port must be an integer from 0 to 65535, got 70000/);
    expect(p.join('\n')).toMatch(/logLevel must be one of/);
    expect(p.join('\n')).toMatch(/readers must be an integer/);
    expect(p.join('\n')).toMatch(/devices\[0\]\.engine must be one of native, noble, got "fast"/);
    expect(p.join('\n')).toMatch(/guestMemoryMiB/);
  });

  it('refuses a non-loopback host without a token, accepts it with one', () => {
    expect(problems(() => resolveConfig({ host: '0.0.0.0' })).join()).toMatch(/refusing to bind to non-loopback host 0\.0\.0\.0 without a token/);
    expect(resolveConfig({ host: '0.0.0.0', token: 'a-long-token' }).host).toBe('0.0.0.0');
  });

  it('never echoes the key string in errors', () => {
    const p = problems(() => resolveConfig({ device: { keyString: 'TOPSECRET', engine: 'bad' as never } }));
    expect(p.join('\n')).not.toContain('TOPSECRET');
  });

  it('rejects bad env values and unknown file keys', async () => {
    expect(problems(() => configFromEnv({ VSCR_PORT: '80x' })).join()).toMatch(/VSCR_PORT must be an integer, got "80x"/);
    const file = path.join(dir, 'bad.json');
    await writeFile(file, JSON.stringify({ prot: 1, device: { key: 'x' } }));
    await expect(readConfigFile(file)).rejects.toThrow(/unknown key "prot"[\s\S]*unknown device key "key"/);
    await writeFile(file, '{not json');
    await expect(readConfigFile(file)).rejects.toThrow(/not valid JSON/);
  });

  it('a syntax error names the place, never the text around it (it may hold part of a token)', async () => {
    const file = path.join(dir, 'secret.json');
    const secretTail = 'S3cr3tT0kenTail';
    await writeFile(file, `{\n  "token": "abcdef${secretTail}",\n  "port": 8790 x\n}`);
    const err = (await readConfigFile(file).then(() => new Error('parsed'), (e: unknown) => e)) as Error;
    expect(err.message).toMatch(/not valid JSON \(syntax error at line 3 column 16\)/);
    expect(err.message).not.toContain(secretTail);
    expect(err.message).not.toContain('8790');
    // V8 quotes the text around an unexpected token ("...abcdefS3cr3t..." is not valid JSON): never passed on.
    await writeFile(file, `{\n  "port": 8790,\n  "token": x${secretTail}\n}`);
    const quoted = (await readConfigFile(file).then(() => new Error('parsed'), (e: unknown) => e)) as Error;
    expect(quoted.message).toMatch(/not valid JSON \(syntax error\)/);
    expect(quoted.message).not.toContain(secretTail);
    expect(quoted.message).not.toContain('8790');
    await writeFile(file, `{"token": "${secretTail}`);
    const truncated = (await readConfigFile(file).then(() => new Error('parsed'), (e: unknown) => e)) as Error;
    expect(truncated.message).toMatch(/not valid JSON/);
    expect(truncated.message).not.toContain(secretTail);
  });

  it('pcsc socket group, connection cap and power-down delay: file, env and flags, bounded', async () => {
    expect(resolveConfig()).toMatchObject({ pcscSocketGroup: null, pcscMaxConnections: 200, powerDownDelayMs: 5000 });
    expect(resolveConfig(configFromEnv({ VSCR_PCSC_SOCKET_GROUP: 'scard', VSCR_PCSC_MAX_CONNECTIONS: '50', VSCR_POWER_DOWN_DELAY_MS: '0' })))
      .toMatchObject({ pcscSocketGroup: 'scard', pcscMaxConnections: 50, powerDownDelayMs: 0 });
    expect(() => resolveConfig({ pcscSocketGroup: 'a b' })).toThrow(/pcscSocketGroup must be a group name/);
    expect(() => resolveConfig({ pcscMaxConnections: 0 })).toThrow(/pcscMaxConnections must be an integer from 1/);
    await expect(runServiceCli(['--power-down-delay', '-5'], {})).rejects.toThrow(/--power-down-delay/);
    const help = buildCommand().helpInformation();
    for (const flag of ['--pcsc-socket-group', '--pcsc-max-connections', '--power-down-delay']) expect(help).toContain(flag);
  });

  it('knows loopback hosts', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]']) expect(isLoopbackHost(h)).toBe(true);
    for (const h of ['0.0.0.0', '::', '192.168.1.1', 'example.com']) expect(isLoopbackHost(h)).toBe(false);
  });
});

describe('CLI', () => {
  it('has help text naming every flag', () => {
    const help = buildCommand().helpInformation();
    for (const flag of ['--port', '--host', '--data-dir', '--token', '--log-level', '--pcsc-socket', '--no-pcsc', '--readers', '--config', '--device-key', '--engine', '--guest-memory', '--interrupt-mode']) {
      expect(help).toContain(flag);
    }
  });

  it('refuses non-loopback without a token before starting anything', async () => {
    await expect(runServiceCli(['--host', '0.0.0.0', '--port', '0', '--data-dir', dir], {})).rejects.toThrow(/without a token/);
  });

  it('rejects bad flag values', async () => {
    await expect(runServiceCli(['--port', 'abc'], {})).rejects.toThrow(/--port must be an integer/);
    await expect(runServiceCli(['--engine', 'turbo'], {})).rejects.toThrow(/turbo/);
  });
});

describe('runServiceCli in-process', () => {
  it('file < env < flags, and close() unhooks the signal handlers', async () => {
    const file = path.join(dir, 'svc.json');
    await writeFile(file, JSON.stringify({ port: 1, readers: 1, logLevel: 'silent', defaultCard: null, cardReaders: ['openpgp'], device: { guestMemoryMiB: 64, engine: 'noble' } }));
    const before = process.listenerCount('SIGTERM');
    const svc = await runServiceCli(['--config', file, '--port', '0', '--data-dir', path.join(dir, 'data'), '--no-pcsc', '--interrupt-mode', 'intx'], { VSCR_READERS: '3' });
    try {
      expect(svc.config).toMatchObject({ port: 0, readers: 3, pcsc: false, defaultCard: null, logLevel: 'silent' });
      expect(svc.config.devices[0]).toMatchObject({ guestMemoryMiB: 64, engine: 'noble', interruptMode: 'intx' });
      expect(svc.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(svc.pcscSocketPath).toBeNull();
      // The three plain readers, then the OpenPGP card's reader of its own (cardReaders from the file).
      expect(svc.bus.readers()).toHaveLength(4);
      expect(svc.readers.list().map((r) => [r.name, r.profile])).toContainEqual(['vscr OpenPGP Reader 03 00', 'openpgp']);
      expect(svc.cryptoHost.list()[0]).toMatchObject({ engine: 'noble', interruptMode: 'intx' });
      expect(process.listenerCount('SIGTERM')).toBe(before + 1);
    } finally {
      await svc.close();
    }
    expect(process.listenerCount('SIGTERM')).toBe(before);
  });
});
