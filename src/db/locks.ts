import { randomBytes } from 'node:crypto';
import type { RedisClient } from './redis.js';

/**
 * Short leases shared by every instance (in Redis), so one instance does work
 * that would otherwise be done by all at once (a cache rebuild after Redis lost
 * its data). In-process: one instance, nothing to share, every lease granted.
 */
export interface Locks {
  /** The release function when this instance got the lease; undefined when another instance holds it. */
  tryLock(name: string, ttlMs: number): Promise<(() => Promise<void>) | undefined>;
  /** True while any instance holds the lease. */
  held(name: string): Promise<boolean>;
}

const RELEASE_LUA = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

export function redisLocks(redis: RedisClient, prefix: string): Locks {
  const key = (name: string) => `${prefix}lock:${name}`;
  return {
    async tryLock(name, ttlMs) {
      const token = randomBytes(12).toString('base64url');
      if ((await redis.set(key(name), token, 'PX', ttlMs, 'NX')) !== 'OK') return undefined;
      return async () => {
        await redis.eval(RELEASE_LUA, 1, key(name), token);
      };
    },
    held: async (name) => (await redis.exists(key(name))) === 1,
  };
}

export const inProcessLocks: Locks = {
  tryLock: async () => async () => {},
  held: async () => false,
};
