import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { configFileProblem, type Config } from './config.js';
import { ConfigFileError } from './config-file.js';
import { applyConfigFile } from './resolvers/operators/config-file.js';
import { DEV_SIGN_IN_PATH, devSignInEnabled, devSignInHandler } from './http/dev-sign-in.js';
import { graphiqlHandler } from './http/graphiql.js';
import { staticSiteHandler } from './http/static-site.js';
import { clientAddress } from './http/client-address.js';
import { createConnectionCaps } from './http/connection-caps.js';
import { createReadCache } from './http/read-cache.js';
import { attachWebSocket } from './http/websocket.js';
import { createGraphQLHandler, type GraphQLHandler } from './http/yoga.js';
import { createProcessLogger, requestScope, type Logger } from './logger.js';
import { startReconcileJob } from './resolvers/boards/reconcile-job.js';
import { resolveView } from './resolvers/boards/views.js';
import { createSharedResults } from './resolvers/live/shared-results.js';
import { createServices, type Services } from './services.js';
import { startTracing, type TracingOptions } from './tracing.js';

export interface App {
  services: Services;
  yoga: GraphQLHandler;
  /** Listens; port 0 picks a free one. Resolves to the base URL. */
  start(port?: number, host?: string): Promise<string>;
  /** Stops accepting, lets in-flight requests finish, closes sockets (1001), then Redis and the database. */
  stop(): Promise<void>;
  /**
   * Settles once the global board's startup warming is over (rebuilt here, or by
   * another instance holding its lease). Serving never waits for it: until then
   * Postgres answers. `/readyz` reports it as `warm`.
   */
  warm: Promise<void>;
}

export { WS_MAX_PAYLOAD } from './http/websocket.js';

/** Builds the whole app: services, GraphQL over HTTP/SSE/WebSocket, health, metrics, the page. */
export async function buildApp(config: Config, logger: Logger = createProcessLogger(config), options: { tracing?: TracingOptions } = {}): Promise<App> {
  // Off by default: without OTEL_TRACES_EXPORTER the SDK is never even loaded.
  const tracing = config.tracing.enabled ? await startTracing(config.tracing, options.tracing) : undefined;
  if (tracing) logger.info({ serviceName: config.tracing.serviceName }, 'OpenTelemetry tracing on');
  const services = await createServices(config, logger, tracing);
  if (config.configFile) {
    // Before anything serves: a file the mutations would refuse stops start-up (exit 78).
    try {
      const changes = await applyConfigFile(services, config.configFile);
      logger.info({ file: config.configFile.path, changes: changes.length }, 'configuration file applied');
    } catch (error) {
      await services.close().catch(() => {});
      await tracing?.shutdown().catch(() => {});
      throw error instanceof ConfigFileError ? configFileProblem(error) : error;
    }
  }
  // The global board starts warming now; every view warms on first use. Not awaited: on a large
  // board that takes seconds, and until it is warm Postgres answers (readiness does not wait).
  const { view: globalView } = await resolveView(services.definitions, {}, async () => null);
  let warm = false;
  const warming = services.ranking.scheduleRebuild(globalView, 'startup').finally(() => (warm = true));
  const reconcileJob = startReconcileJob(services);
  // Redis is back after an outage: repair (or rebuild, if it lost its data) at once.
  // One locked run across the instances, logged, counted; the bus reports a reconnect for a
  // single server and for a cluster alike (a cluster client stays "ready" while one master restarts).
  services.bus.onReconnect(() => void reconcileJob.runNow('redis-reconnect'));

  // One set of connection caps and one shared fan-out for WebSocket and SSE alike.
  const caps = createConnectionCaps(config);
  const shared = createSharedResults(services);
  // Public GET reads from memory, before Yoga; every mutation executed here invalidates it first.
  const readCache = await createReadCache(services);
  const yoga = createGraphQLHandler(services, { caps, shared }, [readCache.plugin]);
  const devSignIn = devSignInHandler(services);
  const site = staticSiteHandler();
  // Development only: production keeps GraphiQL off.
  const graphiql = config.production ? undefined : graphiqlHandler();
  let draining = false;

  const server: Server = createServer((req, res) => {
    const requestId = sanitizeRequestId(req.headers['x-request-id']) ?? randomUUID();
    res.setHeader('x-request-id', requestId);
    requestScope.run({ requestId }, () => void (tracing ? tracing.http(req, res, () => route(req, res)) : route(req, res)));
  });
  server.headersTimeout = 15_000;
  server.requestTimeout = 30_000;
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  async function route(req: IncomingMessage, res: ServerResponse) {
    const path = (req.url ?? '/').split('?')[0];
    if (draining) {
      res.setHeader('connection', 'close');
      return json(res, 503, { errors: [{ message: 'Server is shutting down', extensions: { code: 'SERVICE_UNAVAILABLE' } }] });
    }
    if (path === '/healthz') return json(res, 200, { status: 'ok' });
    if (path === '/readyz') {
      const checks = await services.checkReady();
      // `warm` informs, it does not gate: a warming instance serves from Postgres.
      return json(res, Object.values(checks).every(Boolean) ? 200 : 503, { status: 'ready', checks, warm });
    }
    // Everything but the probes counts against the per-address request limit.
    if (services.requestLimiter) {
      const verdict = await services.requestLimiter.consume(clientAddress(req, config.http.trustProxy));
      if (!verdict.allowed) {
        services.metrics.rateLimited.inc({ limiter: 'http' });
        res.setHeader('retry-after', String(verdict.retryAfter));
        return json(res, 429, {
          errors: [
            {
              message: `Too many requests from this address; retry in ${verdict.retryAfter}s`,
              extensions: { code: 'RATE_LIMITED', retryAfter: verdict.retryAfter },
            },
          ],
        });
      }
    }
    if (path === '/metrics') {
      res.writeHead(200, { 'content-type': services.metrics.registry.contentType });
      return res.end(await services.metrics.registry.metrics());
    }
    if (path === DEV_SIGN_IN_PATH) return devSignIn(req, res);
    if (graphiql && (await graphiql(req, res))) return;
    if (path === '/graphql') {
      const refusal = oversized(req, config.http.maxRequestBytes);
      if (refusal) return json(res, refusal.status, { errors: [{ message: refusal.message, extensions: { code: 'BAD_USER_INPUT' } }] });
      if (await readCache.handle(req, res, yoga)) return;
      return yoga(req, res);
    }
    if (await site(req, res)) return;
    return json(res, 404, { error: 'Not found' });
  }

  const websocket = attachWebSocket(server, yoga, services, caps, shared);

  let stopped: Promise<void> | undefined;
  return {
    services,
    yoga,
    warm: warming,
    start(port = config.http.port, host = config.http.host) {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          const { port: actual } = server.address() as AddressInfo;
          const url = `http://${host === '0.0.0.0' || host === '::' ? 'localhost' : host}:${actual}`;
          logger.info({ url: `${url}/graphql` }, 'scoreboard listening');
          if (!config.production) warnDevMode(logger, config, host);
          resolve(url);
        });
      });
    },
    stop() {
      stopped ??= (async () => {
        draining = true;
        server.close(); // no new connections
        reconcileJob.stop();
        readCache.close();
        await websocket.close(); // 1001 to every subscriber
        await services.boardFeed.close();
        await services.standingFeed.close();
        await services.achievementFeed.close();
        // In-flight requests (mutations) finish; idle keep-alive connections go now.
        const deadline = Date.now() + config.http.shutdownGraceSeconds * 1000;
        while (sockets.size > 0 && Date.now() < deadline) {
          server.closeIdleConnections();
          await new Promise((r) => setTimeout(r, 20));
        }
        for (const s of sockets) s.destroy();
        await services.close();
        await tracing?.shutdown().catch((error: unknown) => logger.warn({ err: (error as Error).message }, 'trace export failed at shutdown'));
        logger.info('scoreboard stopped');
      })();
      return stopped;
    },
  };
}

/** Dev mode is for one machine: say so loudly, every start, and louder when it is reachable from others. */
function warnDevMode(logger: Logger, config: Config, host: string) {
  const loopback = host === 'localhost' || host === '::1' || host.startsWith('127.');
  const signIn = devSignInEnabled(config);
  const why = config.jwt.jwksUrl ? 'JWT_JWKS_URL is configured' : config.jwt.configured ? 'JWT_SECRET is configured' : undefined;
  const on = `GraphiQL, introspection${signIn ? ' and dev sign-in (anyone may sign in as any player)' : ''}`;
  logger.warn(
    { host, devSignIn: signIn, graphiql: true, introspection: true, ...(why ? { devSignInOff: why } : {}) },
    loopback
      ? `DEVELOPMENT MODE (NODE_ENV is not "production"): ${on} are on. Never expose this instance; set NODE_ENV=production for a deployment.`
      : `DEVELOPMENT MODE LISTENING ON ${host}: anyone who can reach this address gets ${on}. Set NODE_ENV=production, or unset HOST to listen on 127.0.0.1 only.`,
  );
}

/** Bodies are capped before Yoga reads them: a declared length over the cap, or no length at all for a body. */
function oversized(req: IncomingMessage, max: number): { status: number; message: string } | undefined {
  if (req.method !== 'POST') return undefined;
  const length = req.headers['content-length'];
  if (length === undefined) {
    return req.headers['transfer-encoding'] ? { status: 411, message: 'Content-Length is required' } : undefined;
  }
  if (Number(length) > max) return { status: 413, message: `Request body over ${max} bytes` };
  return undefined;
}

function sanitizeRequestId(value: string | string[] | undefined): string | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  return v && /^[\w.-]{1,64}$/.test(v) ? v : undefined;
}

function json(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
