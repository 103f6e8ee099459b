import { GraphQLError } from 'graphql';

/**
 * Errors with a stable `extensions.code` (listed for users in docs/errors.md).
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
  | 'NOT_FOUND'
  | 'PLAYER_BANNED'
  | 'RATE_LIMITED'
  | 'SERVICE_UNAVAILABLE'
  | 'PERSISTED_QUERY_NOT_FOUND'
  | 'PERSISTED_QUERY_ONLY';

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
export const notFound = (message: string) => new AppError('NOT_FOUND', message);
export const invalidActionToken = (message = 'The action ticket is invalid') => new AppError('INVALID_ACTION_TOKEN', message);
/** The same code and message Apollo's persisted-query links look for, so their fallback (resend with the query) works. */
export const persistedQueryNotFound = () => new AppError('PERSISTED_QUERY_NOT_FOUND', 'PersistedQueryNotFound');
export const persistedQueryOnly = () =>
  new AppError('PERSISTED_QUERY_ONLY', 'Only trusted documents are accepted here: send the operation by its id (extensions.persistedQuery.sha256Hash or documentId)');
export const serviceUnavailable = (message = 'A backing store is unavailable; safe to retry (a retried action is never credited twice)') =>
  new AppError('SERVICE_UNAVAILABLE', message);

/**
 * Lost or refused connections to Postgres or Redis: the operation is safe to
 * retry (a credit is one atomic statement, and a retry of an applied action is
 * answered as a replay), so callers get SERVICE_UNAVAILABLE instead of a 500.
 */
export function isConnectionFailure(error: unknown): boolean {
  const e = error as { name?: string; code?: string; message?: string; constructor?: { name?: string } } | undefined;
  if (!e) return false;
  const name = e.constructor?.name ?? e.name ?? '';
  if (name === 'PrismaClientInitializationError') return true;
  if (['P1001', 'P1002', 'P1008', 'P1017', 'P2024', '57P01', '57P02', '57P03', '08000', '08003', '08006'].includes(e.code ?? '')) return true;
  // "… is not queryable": pg refuses a pooled client whose connection failed (or was closed) under it.
  return /ECONNREFUSED|ECONNRESET|EPIPE|terminating connection|Connection terminated|is not queryable|connection (is )?closed|Stream isn't writeable|Connection is closed|timeout exceeded when trying to connect|Can't reach database/i.test(
    e.message ?? '',
  );
}
