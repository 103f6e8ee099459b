import { GraphQLError } from 'graphql';

/**
 * Errors with a stable `extensions.code` (the public list is in API.md).
 * Anything that is not one of these is masked as INTERNAL_SERVER_ERROR.
 */
export type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'BAD_USER_INPUT'
  | 'UNKNOWN_ACTION_TYPE'
  | 'INVALID_ACTION_TOKEN'
  | 'ACTION_TOKEN_EXPIRED'
  | 'ACTION_ALREADY_USED'
  | 'ACTION_TOO_FAST'
  | 'RATE_LIMITED'
  | 'SERVICE_UNAVAILABLE';

const HTTP_STATUS: Partial<Record<ErrorCode, number>> = {
  UNAUTHENTICATED: 401,
  RATE_LIMITED: 429,
  SERVICE_UNAVAILABLE: 503,
};

export class AppError extends GraphQLError {
  constructor(
    readonly code: ErrorCode,
    message: string,
    extra: Record<string, unknown> = {},
  ) {
    const status = HTTP_STATUS[code];
    super(message, { extensions: { code, ...extra, ...(status ? { http: { status } } : {}) } });
    this.name = 'AppError';
  }
}

export const unauthenticated = (message = 'A valid player JWT is required') => new AppError('UNAUTHENTICATED', message);
export const forbidden = (message: string) => new AppError('FORBIDDEN', message);
export const badInput = (message: string) => new AppError('BAD_USER_INPUT', message);
export const invalidActionToken = (message = 'The action ticket is invalid') => new AppError('INVALID_ACTION_TOKEN', message);
export const serviceUnavailable = (message = 'A backing store is unavailable; nothing was applied, safe to retry') =>
  new AppError('SERVICE_UNAVAILABLE', message);

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}
