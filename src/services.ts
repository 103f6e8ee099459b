import { Cluster } from 'ioredis';
import { createPlayerJwtVerifier, type PlayerJwtVerifier } from './auth/player-jwt.js';
import { BoardDefinitions } from './resolvers/boards/definitions.js';
import { MemoryRankingCache } from './resolvers/boards/memory-ranking-cache.js';
import { BoardRanking } from './resolvers/boards/ranking.js';
import { listenForRebuilds } from './resolvers/boards/rebuild-listener.js';
import { memoryReconcileProgress, redisReconcileProgress, type ReconcileProgressStore } from './resolvers/boards/reconcile-progress.js';
import type { RankingCache } from './resolvers/boards/ranking-cache.js';
import { RedisRankingCache } from './resolvers/boards/redis-ranking-cache.js';
import { InProcessBus, RedisBus, ShardedRedisBus, type Bus } from './resolvers/live/bus.js';
import { PlayerDirectory } from './resolvers/players/players.js';
import { createActionTickets, type ActionTickets } from './resolvers/scoring/action-ticket.js';
import { ActionTypeTable } from './resolvers/scoring/action-types.js';
import { memoryRateLimiter, memoryRequestLimiter, redisRateLimiter, redisRequestLimiter, type OnFallback, type RateLimiter } from './resolvers/scoring/rate-limiter.js';
import type { Config } from './config.js';
import { createBoardFeed, type BoardFeed } from './resolvers/live/board-feed.js';
import { createAchievementFeed, type AchievementFeed } from './resolvers/live/achievement-feed.js';
import { createStandingFeed, type StandingFeed } from './resolvers/live/standing-feed.js';
import { Achievements } from './resolvers/social/achievements.js';
import { openDatabase, openReplica, type Database, type PrismaClient } from './db/database.js';
import type { SqlRunner } from './db/sql-runner.js';
import { createHistoryReads, type HistoryReads } from './db/history.js';
import { inProcessLocks, redisLocks, type Locks } from './db/locks.js';
import { connectRedis, hasShardedPubSub, redisDescription, type RedisClient } from './db/redis.js';
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
  /** Plain parameterized statements on the primary (the credit: less CPU than Prisma's raw queries). */
  sql: SqlRunner;
  /**
   * History reads (final standings, past periods, the audit log): the read
   * replica when DATABASE_REPLICA_URL is set, falling back to the primary.
   */
  history: HistoryReads;
  /** One Redis server or a Redis Cluster (same commands); undefined = in-process. */
  redis?: RedisClient;
  rankingCache: RankingCache;
  /** Standings of every board view: cache first, Postgres when it cannot answer. */
  ranking: BoardRanking;
  /** Where the last reconcile run stopped (watermark, sweep cursor): shared in Redis, else in memory. */
  reconcileProgress: ReconcileProgressStore;
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
  const redisClients: RedisClient[] = [];
  let rankingCache: RankingCache;
  let bus: Bus;
  let actionLimiter: RateLimiter;
  let ticketLimiter: RateLimiter;
  let replayLimiter: RateLimiter;
  let requestLimiter: RateLimiter | undefined;
  let redis: RedisClient | undefined;
  let locks: Locks = inProcessLocks;
  let reconcileProgress: ReconcileProgressStore;

  // Logged at most once per limiter per minute (an outage would otherwise log every request); counted every time.
  const lastLogged = new Map<string, number>();
  const fallback =
    (limiter: string): OnFallback =>
    (error) => {
      metrics.rateLimiterFallbacks.inc({ limiter });
      const now = Date.now();
      if (now - (lastLogged.get(limiter) ?? -Infinity) < 60_000) return;
      lastLogged.set(limiter, now);
      logger.warn({ limiter, err: error.message }, 'rate limiter fell back to per-instance memory (Redis did not answer)');
    };

  const { actionsPerWindow, ticketsPerWindow, replaysPerWindow, windowSeconds } = config.rateLimit;
  const perIp = config.http.ratePerIp;
  if (config.redis.url || config.redis.clusterNodes) {
    const prefix = config.redis.keyPrefix;
    redis = await connectRedis(config.redis, logger, 'commands');
    redisClients.push(redis);
    tracing?.traceRedis(redis);
    const subscriber = await connectRedis(config.redis, logger, 'subscriber');
    redisClients.push(subscriber);
    rankingCache = new RedisRankingCache(redis, prefix);
    locks = redisLocks(redis, prefix);
    reconcileProgress = redisReconcileProgress(redis, prefix);
    bus = await createRedisBus(redis, subscriber, prefix, logger);
    actionLimiter = redisRateLimiter(redis, `${prefix}rl:action`, actionsPerWindow, windowSeconds, fallback('action'));
    ticketLimiter = redisRateLimiter(redis, `${prefix}rl:ticket`, ticketsPerWindow, windowSeconds, fallback('ticket'));
    replayLimiter = redisRateLimiter(redis, `${prefix}rl:replay`, replaysPerWindow, windowSeconds, fallback('replay'));
    if (perIp > 0) requestLimiter = redisRequestLimiter(redis, `${prefix}rl:http`, perIp, fallback('http'));
    logger.info({ redis: redisDescription(config.redis) }, 'redis ready');
  } else {
    rankingCache = new MemoryRankingCache();
    reconcileProgress = memoryReconcileProgress();
    bus = new InProcessBus();
    actionLimiter = memoryRateLimiter(actionsPerWindow, windowSeconds);
    ticketLimiter = memoryRateLimiter(ticketsPerWindow, windowSeconds);
    replayLimiter = memoryRateLimiter(replaysPerWindow, windowSeconds);
    if (perIp > 0) requestLimiter = memoryRequestLimiter(perIp);
  }

  // PGlite is Postgres too: same SQL, same system name.
  const prisma = tracing ? tracing.traceDatabase(db.prisma, 'postgresql') : db.prisma;
  const sql = tracing ? tracing.traceSql(db.sql, 'postgresql') : db.sql;
  const replica = config.database.replicaUrl ? openReplica(config.database.replicaUrl, config.database.poolSize) : undefined;
  if (replica) logger.info({ replica: replica.description }, 'history reads go to the replica');
  const history = createHistoryReads({
    primary: prisma,
    replica: replica && { prisma: tracing ? tracing.traceDatabase(replica.prisma, 'postgresql') : replica.prisma, close: () => replica.close() },
    logger,
    metrics,
  });
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
    sql,
    redis,
    rankingCache,
    history,
    ranking: new BoardRanking({ prisma, history, locks, cache: rankingCache, bus, logger, metrics, ticketTtlSeconds: config.actionToken.ttlSeconds }),
    reconcileProgress,
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
      checks.database = await db.prisma.$queryRaw`SELECT 1`.then(
        () => true,
        () => false,
      );
      if (redis)
        checks.redis = await redis.ping().then(
          (r) => r === 'PONG',
          () => false,
        );
      // A replica that is down is not a reason to take the instance out: history falls back to the primary.
      return checks;
    },
    async close() {
      for (const stop of unsubscribers) stop();
      await rebuildListener?.close();
      await services.ranking.close();
      await bus.close();
      await Promise.allSettled(redisClients.map((c) => c.quit().catch(() => c.disconnect())));
      await history.close();
      await db.close();
    },
  };
  // Live boards read through the services above; built last, once.
  services.boardFeed = await createBoardFeed(services);
  services.standingFeed = await createStandingFeed(services);
  services.achievementFeed = await createAchievementFeed(services);
  // The cache is in this process's memory: another process (an import) asks for rebuilds through Postgres.
  if (config.database.url && !config.redis.url && !config.redis.clusterNodes) {
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
  if (!config.redis.url && !config.redis.clusterNodes) return undefined;
  const redis = await connectRedis(config.redis, logger, 'commands');
  const subscriber = await connectRedis(config.redis, logger, 'subscriber');
  const bus = await createRedisBus(redis, subscriber, config.redis.keyPrefix, logger);
  const metrics = createMetrics();
  const cache = new RedisRankingCache(redis, config.redis.keyPrefix);
  const history = createHistoryReads({ primary: db.prisma, logger, metrics });
  const locks = redisLocks(redis, config.redis.keyPrefix);
  const ranking = new BoardRanking({ prisma: db.prisma, history, locks, cache, bus, logger, metrics, ticketTtlSeconds: config.actionToken.ttlSeconds });
  const definitions = new BoardDefinitions({ prisma: db.prisma, bus, logger, attributeClaims: config.jwt.attributeClaims });
  return {
    ranking,
    definitions,
    metrics,
    async close() {
      await bus.close();
      await Promise.allSettled([redis, subscriber].map((c) => c.quit().catch(() => c.disconnect())));
      await history.close();
    },
  };
}

/** The bus over Redis: sharded pub/sub on a cluster that has it (Redis >= 7), classic pub/sub otherwise. */
async function createRedisBus(redis: RedisClient, subscriber: RedisClient, prefix: string, logger: Logger): Promise<Bus> {
  const busError = (error: Error, what: string) => logger.warn({ err: error.message, what }, 'bus command failed');
  if (redis instanceof Cluster && subscriber instanceof Cluster && (await hasShardedPubSub(redis))) {
    logger.info('bus: sharded pub/sub (SPUBLISH/SSUBSCRIBE)');
    return new ShardedRedisBus(redis, subscriber, prefix, busError);
  }
  if (redis instanceof Cluster) logger.warn('bus: this Redis Cluster has no sharded pub/sub (Redis < 7); classic PUBLISH is copied to every node');
  return new RedisBus(redis, subscriber, prefix, busError);
}
