import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger, usePrettyLogs } from '../src/logger.js';

/**
 * Logs: JSON lines in production (and whenever stdout is not a terminal),
 * readable lines on a development terminal. The process cases run under a
 * real pseudo-terminal (util-linux `script`).
 */
const ROOT = fileURLToPath(new URL('../', import.meta.url));
const run = promisify(execFile);
const dataDir = mkdtempSync(join(tmpdir(), 'scoreboard-logs-'));
const ENV = {
  PATH: process.env.PATH ?? '',
  HOME: process.env.HOME ?? '',
  DATA_DIR: dataDir,
  JWT_SECRET: 'j'.repeat(32),
  ACTION_TOKEN_SECRET: 'a'.repeat(32),
};
const PRODUCTION = { ...ENV, NODE_ENV: 'production', DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/unused' };
const LOG_LINE = `${process.execPath} --import tsx test/fixtures/log-line.ts`;

/** Runs the fixture with its stdout on a terminal (`script` allocates a pty), or on a pipe. */
async function logLine(env: Record<string, string>, terminal: boolean): Promise<string> {
  const { stdout } = terminal
    ? await run('script', ['-qec', LOG_LINE, '/dev/null'], { cwd: ROOT, env })
    : await run(process.execPath, ['--import', 'tsx', 'test/fixtures/log-line.ts'], { cwd: ROOT, env });
  return stdout.replace(/\r/g, '').trim();
}

// eslint-disable-next-line no-control-regex -- ANSI colour sequences start with ESC; matching it is the point
const stripColours = (text: string) => text.replace(/\x1b\[[0-9;]*m/g, '');

afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('logs', () => {
  it('pretty only on a terminal outside production', () => {
    expect(usePrettyLogs(false, { isTTY: true })).toBe(true);
    expect(usePrettyLogs(true, { isTTY: true })).toBe(false);
    expect(usePrettyLogs(false, { isTTY: false })).toBe(false);
    expect(usePrettyLogs(false, {})).toBe(false);
  });

  it('a pretty line has the level, the message and the fields, secrets still redacted', () => {
    let out = '';
    const sink = new Writable({
      write(chunk, _enc, done) {
        out += chunk.toString();
        done();
      },
    });
    const logger = createLogger('info', sink, { pretty: true });
    logger.info({ player: 'ada', authorization: 'Bearer secret-token' }, 'hello');
    expect(out).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: hello\n/);
    expect(out).toContain('player: "ada"');
    expect(out).toContain('authorization: "[redacted]"');
    expect(out).not.toContain('secret-token');
  });

  it('the server process on a development terminal: readable, coloured lines', async () => {
    const out = await logLine(ENV, true);
    expect(out).toContain('\x1b['); // colours
    const plain = stripColours(out);
    expect(plain).toMatch(/\] INFO: hello from the server/);
    expect(plain).not.toContain('secret-token');
    expect(() => JSON.parse(plain)).toThrow();
  });

  it('the server process in production, even on a terminal: JSON lines, unchanged', async () => {
    const line = JSON.parse(await logLine(PRODUCTION, true));
    expect(line).toMatchObject({ level: 30, msg: 'hello from the server', player: 'ada', authorization: '[redacted]' });
    expect(line.time).toBeTypeOf('number');
  });

  it('the server process in development with stdout piped (a collector): JSON lines', async () => {
    const line = JSON.parse(await logLine(ENV, false));
    expect(line).toMatchObject({ level: 30, msg: 'hello from the server' });
  });
});
