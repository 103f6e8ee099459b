import { describe, expect, it } from 'vitest';
import * as client from '../../packages/client/src/index.js';
import { ErrorCode, errorFromGraphQL, RateLimitedError, ScoreboardError } from '../../packages/client/src/index.js';

/** Every code of the API's contract becomes its own typed error; only two are worth a retry. */
const CONTRACT: Record<string, string> = {
  UNAUTHENTICATED: 'UnauthenticatedError',
  FORBIDDEN: 'ForbiddenError',
  BAD_USER_INPUT: 'BadUserInputError',
  UNKNOWN_ACTION_TYPE: 'UnknownActionTypeError',
  INVALID_ACTION_TOKEN: 'InvalidActionTokenError',
  ACTION_TOKEN_EXPIRED: 'ActionTokenExpiredError',
  ACTION_ALREADY_USED: 'ActionAlreadyUsedError',
  ACTION_TOO_FAST: 'ActionTooFastError',
  NOT_FOUND: 'NotFoundError',
  PLAYER_BANNED: 'PlayerBannedError',
  RATE_LIMITED: 'RateLimitedError',
  SERVICE_UNAVAILABLE: 'ServiceUnavailableError',
  INTERNAL_SERVER_ERROR: 'InternalServerError',
  PERSISTED_QUERY_NOT_FOUND: 'PersistedQueryNotFoundError',
  PERSISTED_QUERY_ONLY: 'PersistedQueryOnlyError',
};

describe('client errors', () => {
  it('ErrorCode lists every contract code, plus NETWORK_ERROR', () => {
    expect(Object.keys(ErrorCode).sort()).toEqual([...Object.keys(CONTRACT), 'NETWORK_ERROR'].sort());
  });

  it.each(Object.entries(CONTRACT))('%s becomes %s', (code, className) => {
    const error = errorFromGraphQL([{ message: 'm', extensions: { code, retryAfter: 12 } }]);
    const Class = (client as unknown as Record<string, new (...args: never[]) => unknown>)[className];
    expect(Class).toBeTypeOf('function');
    expect(error).toBeInstanceOf(Class);
    expect(error).toBeInstanceOf(ScoreboardError);
    expect(error.name).toBe(className);
    expect(error.code).toBe(code);
    expect(error.retryable).toBe(code === 'SERVICE_UNAVAILABLE');
  });

  it('never retries the codes that are final for a ticket', () => {
    for (const code of ['INVALID_ACTION_TOKEN', 'ACTION_ALREADY_USED', 'FORBIDDEN', 'PLAYER_BANNED', 'RATE_LIMITED']) {
      expect(errorFromGraphQL([{ message: 'm', extensions: { code } }]).retryable).toBe(false);
    }
    expect(new client.NetworkError('cut').retryable).toBe(true);
  });

  it('RATE_LIMITED carries retryAfter; an unknown code is kept as sent', () => {
    expect((errorFromGraphQL([{ message: 'm', extensions: { code: 'RATE_LIMITED', retryAfter: 42 } }]) as RateLimitedError).retryAfter).toBe(42);
    const unknown = errorFromGraphQL([{ message: 'm', extensions: { code: 'SOMETHING_NEW' } }]);
    expect(unknown.constructor).toBe(ScoreboardError);
    expect(unknown).toMatchObject({ code: 'SOMETHING_NEW', retryable: false });
  });
});
