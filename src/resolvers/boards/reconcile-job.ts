import { finalizeDuePeriods } from './finalize.js';
import { reconcile } from './reconcile.js';
import type { RedisClient } from '../../db/redis.js';
import type { Services } from '../../services.js';

export type ReconcileTrigger = 'interval' | 'redis-reconnect';

/**
 * Periodically freezes the standings of periods that became final, and brings
 * the ranking cache back to Postgres' truth (drift from manual edits, missed
 * updates while Redis was away). With Redis, one instance at a time does it,
 * under a lock in Redis; the same locked run follows a Redis outage (`runNow`),
 * so after one every instance does not rebuild at once, each with an epoch of
 * its own.
 */
export function startReconcileJob(services: Services): { runNow(trigger: ReconcileTrigger): Promise<void>; stop(): void } {
  const seconds = services.config.leaderboard.reconcileIntervalSeconds;
  const lockKey = `${services.config.redis.keyPrefix}reconcile:lock`;
  let running: Promise<void> | undefined;

  async function locked(trigger: ReconcileTrigger, lockSeconds: number) {
    const { logger, metrics } = services;
    try {
      // The bus connection can be back before the command connection: wait for that one (bounded).
      if (services.redis && services.redis.status !== 'ready') await ready(services.redis, 30_000);
      if (services.redis) {
        const won = await services.redis.set(lockKey, String(process.pid), 'EX', lockSeconds, 'NX');
        if (won !== 'OK') {
          metrics.reconcileRuns.inc({ trigger, outcome: 'locked' });
          logger.debug({ trigger }, 'reconcile: another instance holds the lock');
          return;
        }
      }
      if (trigger === 'redis-reconnect') logger.info({ trigger }, 'reconcile: Redis is back, bringing the cache back to Postgres');
      await finalizeDuePeriods(services).catch((error: Error) => logger.warn({ err: error.message }, 'period finalization failed; will retry'));
      const fixed = await reconcile(services);
      if (fixed > 0) logger.warn({ fixed, trigger }, 'reconcile repaired the ranking cache');
      metrics.reconcileRuns.inc({ trigger, outcome: 'done' });
    } catch (error) {
      metrics.reconcileRuns.inc({ trigger, outcome: 'failed' });
      logger.warn({ err: (error as Error).message, trigger }, 'reconcile failed; will retry');
    }
  }

  /**
   * One run at a time per instance; a trigger during a run waits for it and is then covered by it.
   * After a reconnect the lock is held at least 10 s: every instance sees the outage end within
   * moments of each other, and one rebuild is enough.
   */
  function runNow(trigger: ReconcileTrigger, lockSeconds = Math.max(10, seconds - 1)): Promise<void> {
    running ??= locked(trigger, lockSeconds).finally(() => (running = undefined));
    return running;
  }

  if (seconds <= 0) return { runNow, stop() {} };
  // The lock expires with the interval, so the next tick may run on any instance.
  const timer = setInterval(() => void runNow('interval', Math.max(1, seconds - 1)), seconds * 1000);
  timer.unref();
  return { runNow, stop: () => clearInterval(timer) };
}

/** Resolves when the client is ready, rejects after `ms` (the run then fails, logged, and the next one retries). */
function ready(client: RedisClient, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off('ready', onReady);
      reject(new Error(`Redis not ready after ${ms} ms`));
    }, ms);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    client.once('ready', onReady);
  });
}
