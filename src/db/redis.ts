import { Cluster, Redis } from 'ioredis';
import { redactUrl, type Config } from '../config.js';
import type { Logger } from '../logger.js';

/**
 * The one place that knows whether Redis is one server or a Redis Cluster.
 * Both clients speak the same commands; what differs is routing (a cluster
 * sends each command to the master of its key's slot), so every key that one
 * script or transaction touches must share a hash tag (`{...}`), and pub/sub
 * is sharded where the servers support it.
 */
export type RedisClient = Redis | Cluster;

export type RedisRole = 'commands' | 'subscriber';

export function redisDescription(config: Config['redis']): string {
  if (config.clusterNodes) return `cluster ${config.clusterNodes.map((n) => `${n.host}:${n.port}`).join(',')}`;
  return redactUrl(config.url!);
}

/**
 * Connected before anything listens (lazyConnect + await connect), and without an
 * offline queue afterwards: while Redis is down, commands fail at once instead of
 * piling up, so callers can fall back to Postgres.
 */
export async function connectRedis(config: Config['redis'], logger: Logger, role: RedisRole): Promise<RedisClient> {
  const subscriber = role === 'subscriber';
  const connection = {
    connectionName: `scoreboard-${role}`,
    maxRetriesPerRequest: 1,
    connectTimeout: 5_000,
    commandTimeout: subscriber ? undefined : 2_000,
  };
  const client: RedisClient = config.clusterNodes
    ? new Cluster(config.clusterNodes, {
        lazyConnect: true,
        redisOptions: connection,
        // Concurrent requests share round trips to each master.
        enableAutoPipelining: !subscriber,
        // SSUBSCRIBE goes to the master of each channel's slot (one connection per master, made on demand).
        shardedSubscribers: subscriber,
        clusterRetryStrategy: (times) => Math.min(50 * 2 ** times, 2_000),
        // A master that restarts keeps its slots: reconnect to it rather than wait for a MOVED.
        clusterNodeRetryStrategy: (times) => Math.min(50 * 2 ** times, 2_000),
        slotsRefreshTimeout: 2_000,
        retryDelayOnClusterDown: 100,
        // MOVED/ASK while slots move, CLUSTERDOWN while a master is missing: a few tries, then the caller falls back.
        maxRedirections: 4,
        retryDelayOnTryAgain: 100,
      })
    : new Redis(config.url!, {
        ...connection,
        lazyConnect: true,
        enableAutoPipelining: !subscriber,
        retryStrategy: (times) => Math.min(50 * 2 ** times, 2_000),
      });
  let down = false;
  const lost = (error: Error) => {
    if (!down) logger.warn({ role, err: error.message }, 'redis connection error');
    down = true;
  };
  client.on('error', lost);
  // A cluster reports a failing master per node; the client as a whole may still be ready.
  client.on('node error', lost);
  client.on('ready', () => {
    if (down) logger.info({ role }, 'redis connection back');
    down = false;
  });
  await client.connect();
  client.options.enableOfflineQueue = subscriber;
  return client;
}

/** Whether the servers have sharded pub/sub (SPUBLISH/SSUBSCRIBE: Redis >= 7). */
export async function hasShardedPubSub(client: RedisClient): Promise<boolean> {
  const info = await (client instanceof Cluster ? client.nodes('master')[0]! : client).info('server');
  const major = Number(/redis_version:(\d+)/.exec(info)?.[1] ?? 0);
  return major >= 7;
}
