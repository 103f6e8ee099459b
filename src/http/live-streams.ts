import type { IncomingMessage } from 'node:http';
import type { ExecutionArgs, ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Context } from '../context.js';
import { AppError } from '../errors.js';
import type { SharedResults } from '../resolvers/live/shared-results.js';
import type { Services } from '../services.js';
import { clientAddress } from './client-address.js';
import type { ConnectionCaps } from './connection-caps.js';

/**
 * Subscriptions over HTTP (SSE and multipart) get what WebSocket has: each
 * stream holds a slot of the per-address cap and, with a JWT, of the
 * per-player cap (the same counters as WebSocket connections), and
 * leaderboardChanged-only operations use the shared fan-out instead of one
 * execution per stream and change. WebSocket operations pass untouched (the
 * socket already holds its slots).
 */
export function useLiveStreamLimits(services: Services, caps: ConnectionCaps, shared: SharedResults): Plugin {
  return {
    onSubscribe({ args, subscribeFn, setSubscribeFn }) {
      const context = args.contextValue as unknown as Context & { req?: IncomingMessage; socket?: unknown };
      if (context.socket || !context.req) return;
      const req = context.req;
      setSubscribeFn(async (subscribeArgs: ExecutionArgs) => {
        const releases: (() => void)[] = [];
        const releaseAll = () => releases.splice(0).forEach((r) => r());
        const address = clientAddress(req, services.config.http.trustProxy);
        const forAddress = caps.acquireAddress(address);
        if (!forAddress) return refused('Too many live connections from this address', 'stream-address');
        releases.push(forAddress);
        try {
          if (context.authorization) {
            const viewer = await context.viewer();
            const forPlayer = caps.acquirePlayer(viewer.playerId);
            if (!forPlayer) {
              releaseAll();
              return refused('Too many live connections for this player', 'stream-player');
            }
            releases.push(forPlayer);
          }
          const signal = context.signal;
          const result = (await shared.stream(subscribeArgs, signal)) ?? (await subscribeFn(subscribeArgs));
          if (!isAsyncIterable(result)) {
            releaseAll();
            return result;
          }
          signal?.addEventListener('abort', releaseAll, { once: true });
          return releasing(result, releaseAll);
        } catch (error) {
          releaseAll();
          throw error;
        }
      });
    },
  };

  function refused(message: string, limiter: string): ExecutionResult {
    services.metrics.rateLimited.inc({ limiter });
    return { errors: [new AppError('RATE_LIMITED', message)] };
  }
}

function isAsyncIterable(value: unknown): value is AsyncIterable<ExecutionResult> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

/** The same stream, calling `release` once when it ends, fails or is cancelled. */
function releasing(source: AsyncIterable<ExecutionResult>, release: () => void): AsyncIterableIterator<ExecutionResult> {
  const inner = source[Symbol.asyncIterator]();
  const iterator: AsyncIterableIterator<ExecutionResult> = {
    [Symbol.asyncIterator]: () => iterator,
    async next() {
      try {
        const next = await inner.next();
        if (next.done) release();
        return next;
      } catch (error) {
        release();
        throw error;
      }
    },
    async return(value?: unknown) {
      release();
      return (await inner.return?.(value)) ?? { done: true, value: undefined };
    },
    async throw(error?: unknown) {
      release();
      if (inner.throw) return inner.throw(error);
      throw error;
    },
  };
  return iterator;
}
