import { finalizeDuePeriods } from './finalize.js';
import { reconcile } from './reconcile.js';
import type { Services } from '../../services.js';

/**
 * Periodically freezes the standings of periods that became final, and brings
 * the ranking cache back to Postgres' truth (drift from manual edits, missed
 * updates while Redis was away). With Redis, one instance
 * at a time does it, under a lock that expires with the interval.
 */
export function startReconcileJob(services: Services): { stop(): void } {
  const seconds = services.config.leaderboard.reconcileIntervalSeconds;
  if (seconds <= 0) return { stop() {} };
  const lockKey = `${services.config.redis.keyPrefix}reconcile:lock`;
  let running = false;
  const timer = setInterval(async () => {
    if (running) return;
    running = true;
    try {
      if (services.redis) {
        const won = await services.redis.set(lockKey, String(process.pid), 'EX', Math.max(1, seconds - 1), 'NX');
        if (won !== 'OK') return;
      }
      await finalizeDuePeriods(services).catch((error: Error) => services.logger.warn({ err: error.message }, 'period finalization failed; will retry'));
      const fixed = await reconcile(services);
      if (fixed > 0) services.logger.warn({ fixed }, 'reconcile repaired the ranking cache');
    } catch (error) {
      services.logger.warn({ err: (error as Error).message }, 'reconcile failed; will retry');
    } finally {
      running = false;
    }
  }, seconds * 1000);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
