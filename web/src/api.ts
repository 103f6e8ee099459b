import { Client, CombinedError, fetchExchange, subscriptionExchange } from '@urql/core';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import { createScoreboardClient, RateLimitedError, ScoreboardError, type ScoreboardClient } from '../../packages/client/src/index.js';
import { trustedDocumentsExchange } from './trusted-documents.js';

/**
 * The page's two transports, both on the page's own origin:
 * - urql over HTTP for queries and mutations, with the player JWT in the
 *   Authorization header; our typed documents go by trusted-document id (queries
 *   as GET), with a fallback to their text (see trusted-documents.ts);
 * - graphql-ws (graphql-transport-ws) for `leaderboardChanged`, which is public,
 *   retried forever with a capped, jittered backoff.
 * The action flow (ticket, wait, submit, retries of the same ticket) is the
 * client package's performAction.
 */

export type ConnectionEvent = { type: 'connecting'; retry: boolean } | { type: 'connected' } | { type: 'closed' };

export interface Api {
  client: Client;
  ws: WsClient;
  scoreboard: ScoreboardClient;
}

export interface ApiOptions {
  /** The current player JWT, read on every request. */
  token(): string | undefined;
  onConnection(event: ConnectionEvent): void;
  /** graphql-ws ended a subscription we did not cancel (fatal close, server completed it). */
  onSubscriptionEnded(): void;
}

const PING_EVERY_MS = 10_000;
const PONG_TIMEOUT_MS = 5_000;

/** 0.25 s, 0.5 s, 1 s, 2 s, 4 s, then every 5 s; jitter spreads a crowd reconnecting after a restart. */
export function backoffMs(retries: number): number {
  return Math.min(250 * 2 ** retries, 5_000) + Math.floor(Math.random() * 250);
}

export function graphqlWsUrl(base: string = location.href): string {
  const url = new URL('/graphql', base);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}

export function createApi(options: ApiOptions): Api {
  let socket: WebSocket | undefined;
  let pongTimer: ReturnType<typeof setTimeout> | undefined;

  const ws = createWsClient({
    url: graphqlWsUrl(),
    lazy: true,
    // Switching boards swaps one subscription for another: keep the socket meanwhile.
    lazyCloseTimeout: 3_000,
    retryAttempts: Infinity,
    // Any failure to connect is worth retrying: the server may just be restarting.
    shouldRetry: () => true,
    retryWait: (retries) => new Promise((resolve) => setTimeout(resolve, backoffMs(retries))),
    keepAlive: PING_EVERY_MS,
    on: {
      connecting: (retry) => options.onConnection({ type: 'connecting', retry }),
      connected: (s) => {
        socket = s as WebSocket;
        options.onConnection({ type: 'connected' });
      },
      closed: () => {
        socket = undefined;
        clearTimeout(pongTimer);
        options.onConnection({ type: 'closed' });
      },
      // A socket that stops answering pings is dead (sleeping laptop, dropped
      // network): close it so graphql-ws reconnects instead of waiting forever.
      ping: (received) => {
        if (received) return;
        clearTimeout(pongTimer);
        pongTimer = setTimeout(() => {
          if (socket?.readyState === WebSocket.OPEN) socket.close(4408, 'Pong timeout');
        }, PONG_TIMEOUT_MS);
      },
      pong: (received) => {
        if (received) clearTimeout(pongTimer);
      },
    },
  });

  const client = new Client({
    url: '/graphql',
    preferGetMethod: false,
    requestPolicy: 'network-only',
    fetchOptions: () => {
      const token = options.token();
      const headers: Record<string, string> = {};
      if (token) headers.authorization = `Bearer ${token}`;
      return { headers };
    },
    exchanges: [
      subscriptionExchange({
        forwardSubscription(request) {
          const payload = { ...request, query: request.query ?? '' };
          return {
            subscribe(sink) {
              let cancelled = false;
              const dispose = ws.subscribe(payload, {
                next: (value) => sink.next(value as never),
                error: (error) => {
                  sink.error(error);
                  if (!cancelled) options.onSubscriptionEnded();
                },
                complete: () => {
                  sink.complete();
                  if (!cancelled) options.onSubscriptionEnded();
                },
              });
              return {
                unsubscribe() {
                  cancelled = true;
                  dispose();
                },
              };
            },
          };
        },
      }),
      trustedDocumentsExchange(),
      fetchExchange,
    ],
  });

  const scoreboard = createScoreboardClient({ url: new URL('/graphql', location.href).toString(), getToken: () => options.token() });

  return { client, ws, scoreboard };
}

/** A GraphQL or network error in words a player understands, plus its code. */
export interface ApiProblem {
  code: string;
  message: string;
  retryAfter?: number;
}

export function describeError(error: CombinedError | Error | unknown): ApiProblem {
  if (error instanceof ScoreboardError) {
    if (error.code === 'NETWORK_ERROR') return { code: 'NETWORK', message: `Cannot reach the server (${error.message}).` };
    const first = error.errors[0] ?? { message: error.message };
    const retryAfter = error instanceof RateLimitedError ? error.retryAfter : undefined;
    return describeGraphQLError(error.code, first.message, retryAfter);
  }
  if (error instanceof CombinedError) {
    const first = error.graphQLErrors[0];
    if (first) {
      const retryAfter = Number(first.extensions?.retryAfter);
      return describeGraphQLError(String(first.extensions?.code ?? 'ERROR'), first.message, Number.isFinite(retryAfter) ? retryAfter : undefined);
    }
    if (error.networkError) return { code: 'NETWORK', message: `Cannot reach the server (${error.networkError.message}).` };
    return { code: 'ERROR', message: error.message };
  }
  return { code: 'ERROR', message: error instanceof Error ? error.message : String(error) };
}

function describeGraphQLError(code: string, message: string, retryAfter: number | undefined): ApiProblem {
  switch (code) {
    case 'RATE_LIMITED':
      return {
        code,
        retryAfter,
        message: retryAfter !== undefined ? `RATE_LIMITED: too many actions, try again in ${formatSeconds(retryAfter)}.` : 'RATE_LIMITED: too many actions, try again later.',
      };
    case 'UNAUTHENTICATED':
      return { code, message: `UNAUTHENTICATED: ${message}. Sign in again.` };
    case 'SERVICE_UNAVAILABLE':
      return { code, message: 'SERVICE_UNAVAILABLE: the server is busy; nothing was applied, try again.' };
    default:
      return { code, message: `${code}: ${brief(message)}` };
  }
}

/** The first line, cut short: a status line is no place for a stack of details. */
function brief(message: string): string {
  const line = message.split('\n')[0]!.trim();
  return line.length > 160 ? `${line.slice(0, 157)}…` : line;
}

function formatSeconds(seconds: number): string {
  if (seconds < 90) return `${Math.ceil(seconds)} s`;
  return `${Math.ceil(seconds / 60)} min`;
}
