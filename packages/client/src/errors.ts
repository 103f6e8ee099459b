/**
 * Every error code the Scoreboard API answers with (`errors[].extensions.code`),
 * plus NETWORK_ERROR for a request that got no GraphQL answer at all.
 */
export const ErrorCode = {
  /** Missing, malformed, expired or wrongly signed JWT where one is needed. */
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  /** Ticket issued to another player; an operation the caller may not do. */
  FORBIDDEN: 'FORBIDDEN',
  /** An argument out of range or malformed. */
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  /** The action type is not in the server's points table (or is disabled). */
  UNKNOWN_ACTION_TYPE: 'UNKNOWN_ACTION_TYPE',
  /** Bad signature, tampered ticket, or claims that do not match the input. */
  INVALID_ACTION_TOKEN: 'INVALID_ACTION_TOKEN',
  /** The ticket is older than its lifetime, and the action was never applied. */
  ACTION_TOKEN_EXPIRED: 'ACTION_TOKEN_EXPIRED',
  /** The actionId was already applied under a different player or type. */
  ACTION_ALREADY_USED: 'ACTION_ALREADY_USED',
  /** Submitted sooner than the type's minSeconds after the ticket was issued. */
  ACTION_TOO_FAST: 'ACTION_TOO_FAST',
  /** A named board, player or action that does not exist. */
  NOT_FOUND: 'NOT_FOUND',
  /** The player is banned: no tickets, no credits. */
  PLAYER_BANNED: 'PLAYER_BANNED',
  /** Over the per-player quota; `retryAfter` says how many seconds to wait. */
  RATE_LIMITED: 'RATE_LIMITED',
  /** A backing store is down; safe to retry, nothing was applied. */
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  /** An operation sent by id that the server's trusted-documents manifest does not list. */
  PERSISTED_QUERY_NOT_FOUND: 'PERSISTED_QUERY_NOT_FOUND',
  /** The server runs only trusted documents (TRUSTED_DOCUMENTS_ONLY): an operation sent as text is refused. */
  PERSISTED_QUERY_ONLY: 'PERSISTED_QUERY_ONLY',
  /** Anything unexpected; the details are in the server's log only. */
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
  /** No GraphQL answer: the connection failed or was cut, or a proxy answered instead. */
  NETWORK_ERROR: 'NETWORK_ERROR',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** One GraphQL error as the server sent it. */
export interface GraphQLErrorPayload {
  message: string;
  path?: readonly (string | number)[];
  extensions?: Record<string, unknown>;
}

/**
 * Base class of every error the client throws. `code` is one of ErrorCode, or
 * a code this version of the client does not know yet (kept as sent).
 */
export class ScoreboardError extends Error {
  /** Whether repeating the same request (the same ticket) can succeed: only for NETWORK_ERROR and SERVICE_UNAVAILABLE. */
  readonly retryable: boolean;
  constructor(
    readonly code: ErrorCode | (string & {}),
    message: string,
    /** Every GraphQL error of the response (empty for NETWORK_ERROR). */
    readonly errors: readonly GraphQLErrorPayload[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
    // Each subclass names itself as a literal too, so the name survives a minifier.
    this.name = 'ScoreboardError';
    this.retryable = RETRYABLE_CODES.has(code);
  }
}

export class UnauthenticatedError extends ScoreboardError {
  override name = 'UnauthenticatedError';
}
export class ForbiddenError extends ScoreboardError {
  override name = 'ForbiddenError';
}
export class BadUserInputError extends ScoreboardError {
  override name = 'BadUserInputError';
}
export class UnknownActionTypeError extends ScoreboardError {
  override name = 'UnknownActionTypeError';
}
export class InvalidActionTokenError extends ScoreboardError {
  override name = 'InvalidActionTokenError';
}
export class ActionTokenExpiredError extends ScoreboardError {
  override name = 'ActionTokenExpiredError';
}
export class ActionAlreadyUsedError extends ScoreboardError {
  override name = 'ActionAlreadyUsedError';
}
export class ActionTooFastError extends ScoreboardError {
  override name = 'ActionTooFastError';
}
export class NotFoundError extends ScoreboardError {
  override name = 'NotFoundError';
}
export class PlayerBannedError extends ScoreboardError {
  override name = 'PlayerBannedError';
}
export class PersistedQueryNotFoundError extends ScoreboardError {
  override name = 'PersistedQueryNotFoundError';
}
export class PersistedQueryOnlyError extends ScoreboardError {
  override name = 'PersistedQueryOnlyError';
}
export class ServiceUnavailableError extends ScoreboardError {
  override name = 'ServiceUnavailableError';
}
export class InternalServerError extends ScoreboardError {
  override name = 'InternalServerError';
}

export class RateLimitedError extends ScoreboardError {
  override name = 'RateLimitedError';
  /** Seconds to wait before trying again, as the server said (undefined if it did not). */
  readonly retryAfter: number | undefined;
  constructor(code: string, message: string, errors: readonly GraphQLErrorPayload[] = []) {
    super(code, message, errors);
    const value = errors[0]?.extensions?.retryAfter;
    this.retryAfter = typeof value === 'number' && Number.isFinite(value) ? value : undefined;
  }
}

export class NetworkError extends ScoreboardError {
  override name = 'NetworkError';
  constructor(
    message: string,
    /** HTTP status when a response came without a GraphQL body (e.g. a proxy's 502). */
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(ErrorCode.NETWORK_ERROR, message, [], options);
  }
}

/**
 * Retrying the same request helps only when nothing reached the server or the
 * server could not decide: a cut connection, SERVICE_UNAVAILABLE. Every other
 * code is the server's final word on that request.
 */
export const RETRYABLE_CODES: ReadonlySet<string> = new Set([ErrorCode.NETWORK_ERROR, ErrorCode.SERVICE_UNAVAILABLE]);

const CLASSES: Record<Exclude<ErrorCode, 'NETWORK_ERROR' | 'RATE_LIMITED'>, new (code: string, message: string, errors: readonly GraphQLErrorPayload[]) => ScoreboardError> = {
  UNAUTHENTICATED: UnauthenticatedError,
  FORBIDDEN: ForbiddenError,
  BAD_USER_INPUT: BadUserInputError,
  UNKNOWN_ACTION_TYPE: UnknownActionTypeError,
  INVALID_ACTION_TOKEN: InvalidActionTokenError,
  ACTION_TOKEN_EXPIRED: ActionTokenExpiredError,
  ACTION_ALREADY_USED: ActionAlreadyUsedError,
  ACTION_TOO_FAST: ActionTooFastError,
  NOT_FOUND: NotFoundError,
  PLAYER_BANNED: PlayerBannedError,
  PERSISTED_QUERY_NOT_FOUND: PersistedQueryNotFoundError,
  PERSISTED_QUERY_ONLY: PersistedQueryOnlyError,
  SERVICE_UNAVAILABLE: ServiceUnavailableError,
  INTERNAL_SERVER_ERROR: InternalServerError,
};

/** The typed error for a GraphQL error list: the class of the first error's code. */
export function errorFromGraphQL(errors: readonly GraphQLErrorPayload[]): ScoreboardError {
  const first = errors[0];
  // Validation errors carry GRAPHQL_VALIDATION_FAILED or no code at all.
  const code = typeof first?.extensions?.code === 'string' ? first.extensions.code : 'GRAPHQL_ERROR';
  const message = `${code}: ${first?.message ?? 'GraphQL error'}`;
  if (code === ErrorCode.RATE_LIMITED) return new RateLimitedError(code, message, errors);
  const Class = CLASSES[code as keyof typeof CLASSES];
  return Class ? new Class(code, message, errors) : new ScoreboardError(code, message, errors);
}
