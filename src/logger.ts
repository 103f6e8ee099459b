import { AsyncLocalStorage } from 'node:async_hooks';
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/** The request being served, so every log line written on its behalf carries its id. */
export const requestScope = new AsyncLocalStorage<{ requestId: string }>();

/** Structured JSON logs. Secrets never reach a log line: the redact list is the backstop. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
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
    destination,
  );
}
