import { Redis } from 'ioredis';
import { createPlayerJwtVerifier, type PlayerJwtVerifier } from './auth/player-jwt.js';
import { BoardDefinitions } from './resolvers/boards/definitions.js';
import { MemoryRankingCache } from './resolvers/boards/memory-ranking-cache.js';
import { BoardRanking } from './resolvers/boards/ranking.js';
import { listenForRebuilds } from './resolvers/boards/rebuild-listener.js';
import type { RankingCache } from './resolvers/boards/ranking-cache.js';
import { RedisRankingCache } from './resolvers/boards/redis-ranking-cache.js';
import { InProcessBus, RedisBus, type Bus } from './resolvers/live/bus.js';
import { PlayerDirectory } from './resolvers/players/players.js';
import { createActionTickets, type ActionTickets } from './resolvers/scoring/action-ticket.js';
import { ActionTypeTable } from './resolvers/scoring/action-types.js';
import {
  memoryRateLimiter,
  memoryRequestLimiter,
  redisRateLimiter,
  redisRequestLimiter,
  type OnFallback,
  type RateLimiter,
} from './resolvers/scoring/rate-limiter.js';
import { redactUrl, type Config } from './config.js';
import { createBoardFeed, type BoardFeed } from './resolvers/live/board-feed.js';
import { createAchievementFeed, type AchievementFeed } from './resolvers/live/achievement-feed.js';
import { createStandingFeed, type StandingFeed } from './resolvers/live/standing-feed.js';
import { Achievements } from './resolvers/social/achievements.js';
import { openDatabase, type Database, type PrismaClient } from './db/database.js';
import type { Logger } from './logger.js';
import { createMetrics, type Metrics } from './metrics.js';
import type { Tracing } from './tracing.js';

/**
 * The process-wide singletons. This is the only place that chooses between the
 * real backends (Postgres, Redis) and the embedded ones (PGlite, in-process).
 */
export interface Services {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  db: Database;
  prisma: PrismaClient;
  redis?: Redis;
  rankingCache: RankingCache;
  /** Standings of every board view: cache first, Postgres when it cannot answer. */
  ranking: BoardRanking;
  /** Operator-defined boards, as this instance knows them. */
  definitions: BoardDefinitions;
  /** The points table, as this instance knows it. */
  actionTypes: ActionTypeTable;
  players: PlayerDirectory;
  bus: Bus;
  actionLimiter: RateLimiter;
  ticketLimiter: RateLimiter;
  /** Retries of applied actions (generous: honest clients retry lost responses). */
  replayLimiter: RateLimiter;
  /** Requests per second per client address; undefined when HTTP_RATE_LIMIT_PER_IP is 0. */
  requestLimiter?: RateLimiter;
  playerJwt: PlayerJwtVerifier;
  tickets: ActionTickets;
  /** OpenTelemetry, when on (OTEL_TRACES_EXPORTER); undefined otherwise, so nothing is wrapped. */
  tracing?: Tracing;
  /** Live boards for subscriptions. */
  boardFeed: BoardFeed;
  /** Achievement definitions, progress and unlock notices. */
  achievements: Achievements;
  /** Live standings (myStandingChanged). */
  standingFeed: StandingFeed;
  /** Live unlocks (achievementUnlocked). */
  achievementFeed: AchievementFeed;
  /** Health of the backing stores, for /readyz. */
  checkReady(): Promise<Record<string, boolean>>;
  close(): Promise<void>;
}

export async function createServices(config: Config, logger: Logger, tracing?: Tracing): Promise<Services> {
  const db = await openDatabase(config.database);
  const applied = await db.migrate();
  logger.info({ database: db.description, applied }, 'database ready');

  const metrics = createMetrics();
  const redisClients: Redis[] = [];
  let rankingCache: RankingCache;
  let bus: Bus;
  let actionLimiter: RateLimiter;
  let ticketLimiter: RateLimiter;
  let replayLimiter: RateLimiter;
  let requestLimiter: RateLimiter | undefined;
  let redis: Redis | undefined;

  // Logged at most once per limiter per minute (an outage would otherwise log every request); counted every time.
  const lastLogged = new Map<string, number>();
  const fallback = (limiter: string): OnFallback => (error) => {
    metrics.rateLimiterFallbacks.inc({ limiter });
    const now = Date.now();
    if (now - (lastLogged.get(limiter) ?? -Infinity) < 60_000) return;
    lastLogged.set(limiter, now);
    logger.warn({ limiter, err: error.message }, 'rate limiter fell back to per-instance memory (Redis did not answer)');
  };

  const { actionsPerWindow, ticketsPerWindow, replaysPerWindow, windowSeconds } = config.rateLimit;
  const perIp = config.http.ratePerIp;
  if (config.redis.url) {
    const prefix = config.redis.keyPrefix;
    redis = await connectRedis(config.redis.url, logger, 'commands');
    tracing?.traceRedis(redis);
    const subscriber = await connectRedis(config.redis.url, logger, 'subscriber');
    redisClients.push(redis, subscriber);
    rankingCache = new RedisRankingCache(redis, prefix);
    bus = new RedisBus(redis, subscriber, prefix, (error, what) => logger.warn({ err: error.message, what }, 'bus command failed'));
    actionLimiter = redisRateLimiter(redis, `${prefix}rl:action`, actionsPerWindow, windowSeconds, fallback('action'));
    ticketLimiter = redisRateLimiter(redis, `${prefix}rl:ticket`, ticketsPerWindow, windowSeconds, fallback('ticket'));
    replayLimiter = redisRateLimiter(redis, `${prefix}rl:replay`, replaysPerWindow, windowSeconds, fallback('replay'));
    if (perIp > 0) requestLimiter = redisRequestLimiter(redis, `${prefix}rl:http`, perIp, fallback('http'));
    logger.info({ redis: redactUrl(config.redis.url) }, 'redis ready');
  } else {
    rankingCache = new MemoryRankingCache();
    bus = new InProcessBus();
    actionLimiter = memoryRateLimiter(actionsPerWindow, windowSeconds);
    ticketLimiter = memoryRateLimiter(ticketsPerWindow, windowSeconds);
    replayLimiter = memoryRateLimiter(replaysPerWindow, windowSeconds);
    if (perIp > 0) requestLimiter = memoryRequestLimiter(perIp);
  }

  // PGlite is Postgres too: same SQL, same system name.
  const prisma = tracing ? tracing.traceDatabase(db.prisma, 'postgresql') : db.prisma;
  const definitions = new BoardDefinitions({ prisma, bus, logger, attributeClaims: config.jwt.attributeClaims });
  const actionTypes = new ActionTypeTable({ prisma, bus, logger });
  const unsubscribers = [await definitions.start(), await actionTypes.start()];
  let rebuildListener: { close(): Promise<void> } | undefined;
  const services: Services = {
    config,
    logger,
    metrics,
    db,
    prisma,
    redis,
    rankingCache,
    ranking: new BoardRanking({ prisma, cache: rankingCache, bus, logger, metrics, ticketTtlSeconds: config.actionToken.ttlSeconds }),
    definitions,
    actionTypes,
    players: new PlayerDirectory({ prisma, cache: rankingCache, logger }),
    bus,
    actionLimiter,
    ticketLimiter,
    replayLimiter,
    requestLimiter,
    playerJwt: createPlayerJwtVerifier(config.jwt),
    tickets: createActionTickets(config.actionToken),
    tracing,
    achievements: new Achievements({ prisma, bus, logger, definitions }),
    // Assigned right below: the feeds need the other services.
    boardFeed: undefined as unknown as BoardFeed,
    standingFeed: undefined as unknown as StandingFeed,
    achievementFeed: undefined as unknown as AchievementFeed,
    async checkReady() {
      const checks: Record<string, boolean> = {};
      checks.database = await db.prisma.$queryRaw`SELECT 1`.then(() => true, () => false);
      if (redis) checks.redis = await redis.ping().then((r) => r === 'PONG', () => false);
      return checks;
    },
    async close() {
      for (const stop of unsubscribers) stop();
      await rebuildListener?.close();
      await bus.close();
      await Promise.allSettled(redisClients.map((c) => c.quit().catch(() => c.disconnect())));
      await db.close();
    },
  };
  // A moderation re-froze final views somewhere: read their frozen summaries again.
  unsubscribers.push(await bus.subscribe('BOARD_CHANGED', ({ views }) => services.ranking.forgetFrozen(views)));
  // Live boards read through the services above; built last, once.
  services.boardFeed = await createBoardFeed(services);
  services.standingFeed = await createStandingFeed(services);
  services.achievementFeed = await createAchievementFeed(services);
  // The cache is in this process's memory: another process (an import) asks for rebuilds through Postgres.
  if (config.database.url && !config.redis.url) {
    rebuildListener = await listenForRebuilds({ url: config.database.url, ranking: services.ranking, definitions, logger });
  }
  return services;
}

/**
 * What a one-off process (the bulk import) needs to rebuild the shared ranking
 * cache and tell every running instance, without the rest of the app. Undefined
 * without Redis: each server then keeps its cache in its own memory and rebuilds
 * it itself (on PostgreSQL after a NOTIFY, see rebuild-listener.ts; the embedded
 * database cannot be shared with a running server at all).
 */
export async function createSharedRanking(
  config: Config,
  db: Database,
  logger: Logger,
): Promise<{ ranking: BoardRanking; definitions: BoardDefinitions; metrics: Metrics; close(): Promise<void> } | undefined> {
  if (!config.redis.url) return undefined;
  const redis = await connectRedis(config.redis.url, logger, 'commands');
  const subscriber = await connectRedis(config.redis.url, logger, 'subscriber');
  const bus = new RedisBus(redis, subscriber, config.redis.keyPrefix, (error, what) => logger.warn({ err: error.message, what }, 'bus command failed'));
  const metrics = createMetrics();
  const cache = new RedisRankingCache(redis, config.redis.keyPrefix);
  const ranking = new BoardRanking({ prisma: db.prisma, cache, bus, logger, metrics, ticketTtlSeconds: config.actionToken.ttlSeconds });
  const definitions = new BoardDefinitions({ prisma: db.prisma, bus, logger, attributeClaims: config.jwt.attributeClaims });
  return {
    ranking,
    definitions,
    metrics,
    async close() {
      await bus.close();
      await Promise.allSettled([redis, subscriber].map((c) => c.quit().catch(() => c.disconnect())));
    },
  };
}

/**
 * Connected before anything listens (lazyConnect + await connect), and without an
 * offline queue afterwards: while Redis is down, commands fail at once instead of
 * piling up, so callers can fall back to Postgres.
 */
async function connectRedis(url: string, logger: Logger, role: string): Promise<Redis> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectionName: `scoreboard-${role}`,
    maxRetriesPerRequest: 1,
    // Concurrent requests share round trips to Redis.
    enableAutoPipelining: role !== 'subscriber',
    connectTimeout: 5_000,
    commandTimeout: role === 'subscriber' ? undefined : 2_000,
    retryStrategy: (times) => Math.min(50 * 2 ** times, 2_000),
  });
  let down = false;
  client.on('error', (error) => {
    if (!down) logger.warn({ role, err: error.message }, 'redis connection error');
    down = true;
  });
  client.on('ready', () => {
    if (down) logger.info({ role }, 'redis connection back');
    down = false;
  });
  await client.connect();
  client.options.enableOfflineQueue = role === 'subscriber';
  return client;
}
