import type { IncomingMessage, Server } from 'node:http';
import type { GraphQLError } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer, type WebSocket } from 'ws';
import { bearerToken } from '../auth/player-jwt.js';
import { createSharedResults } from '../resolvers/live/shared-results.js';
import type { Services } from '../services.js';
import { clientAddress } from './client-address.js';
import type { GraphQLHandler } from './yoga.js';

export const WS_MAX_PAYLOAD = 64 * 1024;
/** Close code for "try again later" (RFC 6455): over a connection cap. */
export const CLOSE_TRY_AGAIN_LATER = 1013;

/**
 * graphql-ws on the same path as HTTP. Operations go through Yoga's envelop, so
 * the same limits apply; frames over 64 KiB, disallowed origins and connections
 * over the per-IP / per-player caps are refused.
 */
export function attachWebSocket(server: Server, yoga: GraphQLHandler, services: Services) {
  const { config, logger } = services;
  const perIp = new Map<string, number>();
  const perPlayer = new Map<string, number>();
  const players = new WeakMap<WebSocket, string>();

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
    const count = (perIp.get(ip) ?? 0) + 1;
    perIp.set(ip, count);
    socket.once('close', () => {
      decrement(perIp, ip);
      const player = players.get(socket);
      if (player) decrement(perPlayer, player);
    });
    if (count > config.ws.maxPerIp) {
      logger.warn({ ip }, 'WebSocket connection over the per-IP cap');
      socket.close(CLOSE_TRY_AGAIN_LATER, 'Too many connections from this address');
    }
  });

  const shared = createSharedResults(services);
  const disposable = useServer(
    {
      connectionInitWaitTimeout: 5_000,
      execute: (args: any) => args.rootValue.execute(args),
      subscribe: (args: any) => shared.subscribe(args) as never,
      // The JWT in connection_init is optional (the board is public), but when
      // given it must be valid, and it counts against the per-player cap.
      onConnect: async (ctx) => {
        const authorization = ctx.connectionParams?.authorization;
        if (authorization === undefined) return true;
        try {
          const token = bearerToken(String(authorization));
          const identity = await services.playerJwt.verify(token ?? '');
          const count = (perPlayer.get(identity.playerId) ?? 0) + 1;
          perPlayer.set(identity.playerId, count);
          players.set(ctx.extra.socket, identity.playerId);
          if (count > config.ws.maxPerPlayer) {
            ctx.extra.socket.close(CLOSE_TRY_AGAIN_LATER, 'Too many connections for this player');
            return false;
          }
          return true;
        } catch {
          return false; // graphql-ws closes with 4403 Forbidden
        }
      },
      onSubscribe: async (ctx, id, params) => {
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params,
        });
        let document;
        try {
          document = parse(params.query);
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

function decrement(map: Map<string, number>, key: string) {
  const n = (map.get(key) ?? 1) - 1;
  if (n <= 0) map.delete(key);
  else map.set(key, n);
}
