// Log format: pretty on a terminal, JSON lines otherwise, forced either way by --log-format or VSCR_LOG_FORMAT.

import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { configFromEnv, ConfigError, resolveConfig } from '../../../service/config/load-config.js';
import { buildCommand, runServiceCli } from '../../../service/main.js';
import { chooseLogFormat, createLogger } from '../../../service/service.js';

describe('log format', () => {
  it('auto follows the terminal; pretty and json ignore it', () => {
    expect(chooseLogFormat('auto', true)).toBe('pretty');
    expect(chooseLogFormat('auto', false)).toBe('json');
    expect(chooseLogFormat('pretty', false)).toBe('pretty');
    expect(chooseLogFormat('json', true)).toBe('json');
  });

  it('defaults to auto; VSCR_LOG_FORMAT sets it; anything else is a config problem', () => {
    expect(resolveConfig({}).logFormat).toBe('auto');
    expect(resolveConfig(configFromEnv({ VSCR_LOG_FORMAT: 'json' })).logFormat).toBe('json');
    expect(resolveConfig(configFromEnv({ VSCR_LOG_FORMAT: 'pretty' })).logFormat).toBe('pretty');
    let problems: string[] = [];
    try {
      resolveConfig(configFromEnv({ VSCR_LOG_FORMAT: 'xml' }));
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      problems = (err as ConfigError).problems;
    }
    expect(problems).toEqual(['logFormat must be one of auto, pretty, json, got "xml"']);
  });

  it('--log-format is a flag with fixed choices', async () => {
    expect(buildCommand().helpInformation()).toContain('--log-format');
    await expect(runServiceCli(['--log-format', 'xml'], {})).rejects.toThrow(/xml/);
  });

  it('a logger on a given stream writes redacted JSON lines whatever the format asks', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    createLogger('info', sink, 'pretty').info({ token: 'secret-token' }, 'hello');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toMatchObject({ msg: 'hello', token: '[Redacted]', service: 'vscr' });
  });
});
