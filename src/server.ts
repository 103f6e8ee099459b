import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { useDisableIntrospection } from '@graphql-yoga/plugin-disable-introspection';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { GraphQLError } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import { WebSocketServer } from 'ws';
import type { Config } from './config.js';
import { createContext, type Context } from './context.js';
import { DEV_SIGN_IN_PATH, devSignInHandler } from './http/dev-sign-in.js';
import { staticSiteHandler } from './http/static-site.js';
import { createLogger, type Logger } from './logger.js';
import { createBoardFeed } from './live/board-feed.js';
import { createSharedResults } from './live/shared-results.js';
import { scheduleRebuild } from './resolvers/ranking.js';
import { schema } from './schema/index.js';
import { createServices, type Services } from './services.js';

export interface App {
  services: Services;
  yoga: YogaServerInstance<Record<string, unknown>, Context>;
  /** Listens; port 0 picks a free one. Resolves to the base URL. */
  start(port?: number, host?: string): Promise<string>;
  /** Stops accepting, drains, closes sockets (1001), then Redis and the database. */
  stop(): Promise<void>;
}

export const WS_MAX_PAYLOAD = 64 * 1024;

export async function buildApp(config: Config, logger: Logger = createLogger(config.logLevel)): Promise<App> {
  const services = await createServices(config, logger);
  await scheduleRebuild(services, 'startup');
  services.boardFeed = await createBoardFeed(services);

  const yoga = createYoga<Record<string, unknown>, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    graphiql: !config.production && { title: 'Scoreboard', subscriptionsProtocol: 'WS' },
    landingPage: false,
    logging: logger.child({ component: 'yoga' }) as never,
    cors: config.http.corsOrigins.length ? { origin: config.http.corsOrigins, credentials: false } : undefined,
    maskedErrors: {
      maskError(error, message) {
        if (isExpectedError(error)) return error as Error;
        logger.error({ err: (error as GraphQLError).originalError ?? error }, 'unexpected error');
        return new GraphQLError(message, { extensions: { code: 'INTERNAL_SERVER_ERROR' } });
      },
    },
    context: ({ request, connectionParams }: { request?: Request; connectionParams?: Record<string, unknown> }) => {
      const header = request?.headers.get('authorization') ?? (connectionParams?.authorization as string | undefined);
      return createContext(services, header ?? undefined, request?.signal);
    },
    plugins: [
      ...(config.production ? [useDisableIntrospection()] : []),
      useCSRFPrevention({ requestHeaders: ['x-graphql-yoga-csrf', 'content-type', 'apollo-require-preflight'] }),
    ],
  });

  const server: Server = createServer((req, res) => route(req, res));
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  const devSignIn = devSignInHandler(services);
  const site = staticSiteHandler();
  async function route(req: IncomingMessage, res: ServerResponse) {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') return json(res, 200, { status: 'ok' });
    if (path === '/readyz') {
      const checks = await services.checkReady();
      return json(res, Object.values(checks).every(Boolean) ? 200 : 503, { status: 'ready', checks });
    }
    if (path === '/metrics') {
      res.writeHead(200, { 'content-type': services.metrics.registry.contentType });
      return res.end(await services.metrics.registry.metrics());
    }
    if (path === DEV_SIGN_IN_PATH) return devSignIn(req, res);
    if (!path?.startsWith('/graphql') && (await site(req, res))) return;
    return yoga(req, res);
  }

  const wss = new WebSocketServer({ server, path: '/graphql', maxPayload: WS_MAX_PAYLOAD });
  const shared = createSharedResults(services, wss);
  const wsDisposable = useServer(
    {
      connectionInitWaitTimeout: 5_000,
      execute: (args: any) => args.rootValue.execute(args),
      subscribe: (args: any) => shared.subscribe(args) as never,
      onNext: (ctx, id, _payload, _args, result) => shared.onNext(ctx.extra.socket, id, result),
      onSubscribe: async (ctx, _id, params) => {
        // WebSocket operations go through the same envelop plugins as HTTP.
        const { schema: s, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
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
        const errors = validate(s, document);
        if (errors.length) return errors;
        return {
          schema: s,
          operationName: params.operationName,
          document,
          variableValues: params.variables,
          contextValue: await contextFactory(),
          rootValue: { execute, subscribe },
        };
      },
    },
    wss,
    15_000,
  );

  let closing = false;
  return {
    services,
    yoga,
    start(port = config.http.port, host = config.http.host) {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          const { port: actual } = server.address() as AddressInfo;
          const url = `http://${host === '0.0.0.0' || host === '::' ? 'localhost' : host}:${actual}`;
          logger.info({ url: `${url}/graphql` }, 'scoreboard listening');
          resolve(url);
        });
      });
    },
    async stop() {
      if (closing) return;
      closing = true;
      server.close();
      for (const client of wss.clients) client.close(1001, 'Server shutting down');
      await wsDisposable.dispose();
      await services.boardFeed.close();
      // Give in-flight HTTP requests a moment, then cut what is left.
      const deadline = Date.now() + 5_000;
      while (sockets.size > 0 && Date.now() < deadline) {
        server.closeIdleConnections();
        await new Promise((r) => setTimeout(r, 25));
      }
      for (const s of sockets) s.destroy();
      await services.close();
    },
  };
}

/**
 * Errors we raise on purpose (AppError, anywhere in the chain) and GraphQL's own
 * parse/validation errors pass through; anything else is masked. Duck-typed:
 * graphql's CJS and ESM builds can both be loaded, so instanceof is unreliable.
 */
function isExpectedError(error: unknown): boolean {
  const e = error as { name?: string; originalError?: unknown; extensions?: { code?: unknown } };
  if (!e || e.name !== 'GraphQLError' && e.name !== 'AppError') return false;
  if (e.originalError) return isExpectedError(e.originalError);
  return true;
}

function json(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
