import { AsyncLocalStorage } from 'node:async_hooks';
import { pino, type DestinationStream, type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

/** The request being served, so every log line written on its behalf carries its id. */
export const requestScope = new AsyncLocalStorage<{ requestId: string }>();

export interface LoggerOptions {
  /** Human-readable lines (level, time, message, then the fields) instead of JSON. */
  pretty?: boolean;
  /** With `pretty`: colours (for a terminal). */
  colorize?: boolean;
}

/**
 * Structured JSON logs (or, in development on a terminal, the same records
 * printed readably). Secrets never reach a log line: the redact list is the
 * backstop, and it applies before either format.
 */
export function createLogger(level: string, destination?: DestinationStream, options: LoggerOptions = {}): Logger {
  const out = options.pretty
    ? pretty({
        destination: destination ?? 1,
        colorize: options.colorize ?? false,
        translateTime: 'SYS:HH:MM:ss.l',
        ignore: 'pid,hostname',
        // In-process and synchronous: development only, where readability beats throughput.
        sync: true,
      })
    : destination;
  return pino(
    {
      level,
      mixin: () => {
        const scope = requestScope.getStore();
        return scope ? { requestId: scope.requestId } : {};
      },
      redact: {
        paths: [
          'req.headers.authorization',
          'headers.authorization',
          'authorization',
          '*.token',
          'token',
          'config.jwt.secret',
          'config.actionToken.secret',
          'connectionParams.authorization',
        ],
        censor: '[redacted]',
      },
    },
    out,
  );
}

/**
 * Readable logs only for a person watching a terminal outside production;
 * production (and anything piped to a collector) keeps JSON lines.
 */
export function usePrettyLogs(production: boolean, stdout: { isTTY?: boolean } = process.stdout): boolean {
  return !production && stdout.isTTY === true;
}

/** The process's logger: JSON lines, or pretty ones on a development terminal. */
export function createProcessLogger(config: { logLevel: string; production: boolean }, stdout: { isTTY?: boolean } = process.stdout): Logger {
  const pretty = usePrettyLogs(config.production, stdout);
  return createLogger(config.logLevel, undefined, { pretty, colorize: pretty });
}
