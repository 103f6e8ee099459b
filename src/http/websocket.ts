import type { IncomingMessage, Server } from 'node:http';
import type { GraphQLError } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer, type WebSocket } from 'ws';
import { bearerToken } from '../auth/player-jwt.js';
import { createSharedResults, type SharedResults } from '../resolvers/live/shared-results.js';
import type { Services } from '../services.js';
import { AppError } from '../errors.js';
import { clientAddress } from './client-address.js';
import { createConnectionCaps, type ConnectionCaps } from './connection-caps.js';
import { createTrustedDocuments } from './trusted-documents.js';
import type { GraphQLHandler } from './yoga.js';

export const WS_MAX_PAYLOAD = 64 * 1024;
/** Close code for "try again later" (RFC 6455): over a connection cap. */
export const CLOSE_TRY_AGAIN_LATER = 1013;

/**
 * graphql-ws on the same path as HTTP. Operations go through Yoga's envelop, so
 * the same limits apply; frames over 64 KiB, disallowed origins and connections
 * over the per-IP / per-player caps (shared with SSE streams) are refused, and
 * one socket holds at most WS_MAX_SUBSCRIPTIONS_PER_SOCKET operations at once.
 */
export function attachWebSocket(
  server: Server,
  yoga: GraphQLHandler,
  services: Services,
  caps: ConnectionCaps = createConnectionCaps(services.config),
  shared: SharedResults = createSharedResults(services),
) {
  const { config, logger } = services;
  const releases = new WeakMap<WebSocket, (() => void)[]>();
  // graphql-ws never passes through Yoga's HTTP parameter parsing: the same trusted-documents rule, applied here.
  const trusted = createTrustedDocuments(config.trustedDocuments);

  const wss = new WebSocketServer({
    server,
    path: '/graphql',
    maxPayload: WS_MAX_PAYLOAD,
    verifyClient: ({ origin }, done) => {
      const allowed = config.ws.allowedOrigins;
      if (allowed.length && !allowed.includes(origin)) return done(false, 403, 'Origin not allowed');
      done(true);
    },
  });

  // Counted on connection (before graphql-ws sees it), uncounted on close.
  wss.on('connection', (socket: WebSocket, req: IncomingMessage) => {
    const ip = clientAddress(req, config.http.trustProxy);
    const release = caps.acquireAddress(ip);
    const held: (() => void)[] = release ? [release] : [];
    releases.set(socket, held);
    socket.once('close', () => held.forEach((r) => r()));
    if (!release) {
      logger.warn({ ip }, 'WebSocket connection over the per-IP cap');
      socket.close(CLOSE_TRY_AGAIN_LATER, 'Too many connections from this address');
    }
  });

  const disposable = useServer(
    {
      connectionInitWaitTimeout: 5_000,
      execute: (args: any) => args.rootValue.execute(args),
      subscribe: (args: any) => shared.subscribe(args) as never,
      // The JWT in connection_init is optional (the board is public), but when
      // given it must be valid, and it counts against the per-player cap.
      onConnect: async (ctx) => {
        // The upgrade request is the largest object a connection would keep for its whole
        // life, and nothing needs it after this point: the address was counted on
        // connection and the JWT comes in connection_init. Let it go.
        (ctx.extra as { request?: IncomingMessage }).request = undefined;
        const authorization = ctx.connectionParams?.authorization;
        if (authorization === undefined) return true;
        try {
          const token = bearerToken(typeof authorization === 'string' ? authorization : undefined);
          const identity = await services.playerJwt.verify(token ?? '');
          const release = caps.acquirePlayer(identity.playerId);
          if (release) releases.get(ctx.extra.socket)?.push(release);
          if (ctx.extra.socket.readyState !== ctx.extra.socket.OPEN) release?.(); // closed while verifying
          if (!release) {
            ctx.extra.socket.close(CLOSE_TRY_AGAIN_LATER, 'Too many connections for this player');
            return false;
          }
          return true;
        } catch {
          return false; // graphql-ws closes with 4403 Forbidden
        }
      },
      onSubscribe: async (ctx, id, params) => {
        // graphql-ws registers the id before this hook and forgets it when the operation ends.
        const max = config.ws.maxSubscriptionsPerSocket;
        if (Object.keys(ctx.subscriptions).length > max) {
          services.metrics.rateLimited.inc({ limiter: 'ws-subscriptions' });
          return [new AppError('RATE_LIMITED', `At most ${max} operations at once on one WebSocket; complete one before starting another`)] as GraphQLError[];
        }
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ...ctx,
          socket: ctx.extra.socket,
          params,
        });
        const resolved = trusted.resolve(params);
        if ('error' in resolved) {
          services.metrics.rejections.inc({ code: String(resolved.error.extensions.code) });
          return [resolved.error] as GraphQLError[];
        }
        let document;
        try {
          document = parse(resolved.query);
        } catch (error) {
          return [error as GraphQLError];
        }
        const errors = validate(schema, document);
        if (errors.length) return errors;
        return {
          schema,
          operationName: params.operationName,
          document,
          variableValues: params.variables,
          contextValue: await contextFactory(),
          rootValue: { execute, subscribe, socket: ctx.extra.socket, id },
        };
      },
    },
    wss,
    15_000,
  );

  return {
    wss,
    /** Closes every socket with 1001 (Going Away) and stops the server. */
    async close() {
      for (const client of wss.clients) client.close(1001, 'Server shutting down');
      await disposable.dispose();
    },
  };
}
