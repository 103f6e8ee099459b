import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { useDisableIntrospection } from '@graphql-yoga/plugin-disable-introspection';
import { GraphQLError, Kind, visit, type DocumentNode } from 'graphql';
import { createYoga, type Plugin } from 'graphql-yoga';
import { createContext, type Context } from '../context.js';
import { badInput, isConnectionFailure, serviceUnavailable } from '../errors.js';
import { createSharedResults, type SharedResults } from '../resolvers/live/shared-results.js';
import { schema } from '../schema/index.js';
import type { Services } from '../services.js';
import { createConnectionCaps, type ConnectionCaps } from './connection-caps.js';
import { useLiveStreamLimits } from './live-streams.js';
import { createTrustedDocuments, useTrustedDocuments } from './trusted-documents.js';

/** Limits on every operation, HTTP and WebSocket alike (graphql-armor, at validation time). */
export const OPERATION_LIMITS = {
  maxDepth: 25,
  maxAliases: 10,
  maxDirectives: 10,
  maxTokens: 1_000,
  maxCost: 5_000,
};

export function createGraphQLHandler(
  services: Services,
  live: { caps: ConnectionCaps; shared: SharedResults } = { caps: createConnectionCaps(services.config), shared: createSharedResults(services) },
  /** Plugins of the composition root (the response cache's write hook). */
  extraPlugins: Plugin[] = [],
) {
  const { config, logger } = services;
  return createYoga<Record<string, unknown>, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    // GraphiQL is served by the server itself from bundled assets (src/http/graphiql.ts), not from a CDN.
    graphiql: false,
    landingPage: false,
    batching: false,
    // No file uploads: multipart request bodies are not parsed at all.
    multipart: false,
    logging: logger.child({ component: 'yoga' }),
    cors: config.http.corsOrigins.length ? { origin: config.http.corsOrigins, credentials: false, methods: ['GET', 'POST'] } : false,
    maskedErrors: { maskError: (error, message) => maskError(services, error, message) },
    context: ({ request, connectionParams }: { request?: Request; connectionParams?: Record<string, unknown> }) => {
      const header = request?.headers.get('authorization') ?? (connectionParams?.authorization as string | undefined);
      return createContext(services, header ?? undefined, request ? () => request.signal : undefined);
    },
    plugins: [
      ...(services.tracing ? [services.tracing.graphqlPlugin()] : []),
      countErrorCodes(services),
      refuseNulBytes(),
      // Operations by id (and, with TRUSTED_DOCUMENTS_ONLY, only by id).
      useTrustedDocuments(createTrustedDocuments(config.trustedDocuments), services.metrics),
      useLiveStreamLimits(services, live.caps, live.shared),
      EnvelopArmorPlugin({
        // Introspection counts too (a nested __type chain is a classic attack); GraphiQL's own introspection is 21 deep.
        maxDepth: { n: OPERATION_LIMITS.maxDepth, ignoreIntrospection: false, exposeLimits: true },
        maxAliases: { n: OPERATION_LIMITS.maxAliases, exposeLimits: true },
        maxDirectives: { n: OPERATION_LIMITS.maxDirectives, exposeLimits: true },
        maxTokens: { n: OPERATION_LIMITS.maxTokens, exposeLimits: true },
        costLimit: { maxCost: OPERATION_LIMITS.maxCost, ignoreIntrospection: true, exposeLimits: true },
        // "Did you mean ...?" helps developers and attackers alike: only outside production.
        blockFieldSuggestion: { enabled: config.production },
      }),
      ...(config.production ? [useDisableIntrospection()] : []),
      // A request passes when a browser would have preflighted it: a non-simple
      // content type (application/json) or one of these headers. Form-encoded,
      // multipart and text/plain POSTs and header-less GETs are refused with 403.
      useCSRFPrevention({ requestHeaders: ['x-graphql-yoga-csrf', 'apollo-require-preflight'] }),
      ...extraPlugins,
    ],
  });
}

export type GraphQLHandler = ReturnType<typeof createGraphQLHandler>;

/** scoreboard_rejections_total{code}: every error a client receives, by its stable code. */
function countErrorCodes(services: Services): Plugin {
  const count = (result: { errors?: readonly { extensions?: Record<string, unknown> }[] }) => {
    for (const error of result.errors ?? []) {
      services.metrics.rejections.inc({ code: errorCode(error.extensions?.code, 'GRAPHQL_VALIDATION_FAILED') });
    }
  };
  return {
    onValidate:
      () =>
      ({ result }) => {
        if (result.length) count({ errors: result as never });
      },
    onExecute: () => ({
      onExecuteDone: ({ result }) => {
        if (!(Symbol.asyncIterator in (result as object))) count(result as never);
      },
    }),
  };
}

/**
 * The one error mask, for HTTP, SSE and WebSocket alike: our own errors and
 * GraphQL's pass; a lost backing store is SERVICE_UNAVAILABLE; anything else is
 * logged with its details and answered as INTERNAL_SERVER_ERROR, details hidden.
 */
export function maskError(services: Services, error: unknown, message = 'Unexpected error.'): Error {
  if (isExpectedError(error)) return tidy(error as GraphQLError, services.config.production);
  const original = (error as GraphQLError).originalError ?? error;
  if (isConnectionFailure(original)) {
    services.logger.warn({ err: (original as Error).message }, 'backing store unavailable');
    return serviceUnavailable();
  }
  services.logger.error({ err: original }, 'unexpected error');
  return new GraphQLError(message, { extensions: { code: 'INTERNAL_SERVER_ERROR' } });
}

/**
 * Errors we raise on purpose (AppError, anywhere in the chain) and GraphQL's own
 * parse/validation errors pass through; anything else is masked. Duck-typed:
 * graphql's CJS and ESM builds can both be loaded, so instanceof is unreliable.
 */
function isExpectedError(error: unknown): boolean {
  const e = error as { name?: string; originalError?: unknown };
  if (!e || (e.name !== 'GraphQLError' && e.name !== 'AppError')) return false;
  if (e.originalError) return isExpectedError(e.originalError);
  return true;
}

/**
 * Our own and GraphQL's errors, tidied in place (Yoga logs any error the mask
 * replaces, which would put the request body in the log):
 * - a variable that does not fit its type is BAD_USER_INPUT (a stable code);
 * - in production an error tells what is wrong, never what would be right
 *   ("Did you mean ...?" lists names of the schema), and never echoes the
 *   request (Yoga attaches the JSON parser's message, which quotes the body).
 */
function tidy(error: GraphQLError, production: boolean): GraphQLError {
  const extensions = error.extensions as Record<string, unknown>;
  if (extensions.code === undefined && /^Variable "\$[^"]+" (got invalid value|of required type|of non-null type)/.test(error.message)) {
    extensions.code = 'BAD_USER_INPUT';
  }
  if (production) {
    delete extensions.originalError;
    const message = error.message.replace(/\s*Did you mean [^?]*\?/g, '');
    if (message !== error.message) (error as { message: string }).message = message;
  }
  return error;
}

/**
 * PostgreSQL text cannot hold U+0000, so a NUL byte in any argument would end
 * as a driver error (and a stack trace in the log) in whichever resolver
 * passed it on. Refused once, up front, as BAD_USER_INPUT.
 */
function refuseNulBytes(): Plugin {
  const refusal = () => ({ errors: [badInput('Strings must not contain NUL (U+0000) characters')] });
  const check = (args: { document: DocumentNode; variableValues?: unknown }) => hasNul(args.variableValues) || literalHasNul(args.document);
  return {
    onExecute({ args, setResultAndStopExecution }) {
      if (check(args)) setResultAndStopExecution(refusal());
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      if (check(args)) setResultAndStopExecution(refusal());
    },
  };
}

function hasNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (Array.isArray(value)) return value.some(hasNul);
  if (value && typeof value === 'object') return Object.entries(value).some(([k, v]) => k.includes('\u0000') || hasNul(v));
  return false;
}

function literalHasNul(document: DocumentNode): boolean {
  let found = false;
  visit(document, {
    [Kind.STRING]: (node) => {
      if (node.value.includes('\u0000')) found = true;
    },
  });
  return found;
}

/** An error's `extensions.code` as a metric label: codes are strings; anything else counts as `fallback`. */
function errorCode(code: unknown, fallback: string): string {
  return typeof code === 'string' ? code : fallback;
}
