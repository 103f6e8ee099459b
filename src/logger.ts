import { pino, type Logger } from 'pino';

export type { Logger };

/** Structured JSON logs. Secrets never reach a log line: the redact list is the backstop. */
export function createLogger(level: string): Logger {
  return pino({
    level,
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
  });
}
