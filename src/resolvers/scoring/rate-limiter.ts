import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';

/**
 * Per-key quota over a sliding window: at most `limit` hits in ANY window of
 * `windowSeconds`, so there is no burst at a fixed-window boundary.
 */
export interface RateLimiter {
  /** Takes one hit; `allowed: false` carries the seconds until one frees up. */
  consume(key: string): Promise<{ allowed: true } | { allowed: false; retryAfter: number }>;
}

// rate-limiter-flexible does the Redis plumbing (atomic script, insurance, result
// type); its own script counts per fixed window, so we give it a sliding-window
// log instead: one sorted-set entry per accepted hit, scored by Redis server time.
// KEYS[1] key; ARGV: points, window seconds, limit. Returns {consumed, msBeforeNext}.
const SLIDING_WINDOW_LUA = `
local key = KEYS[1]
local points = tonumber(ARGV[1])
local windowMs = tonumber(ARGV[2]) * 1000
local limit = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - windowMs)
local count = redis.call('ZCARD', key)
if count + points <= limit then
  local n = redis.call('INCR', key .. ':n')
  for i = 1, points do redis.call('ZADD', key, now, n .. ':' .. i) end
  redis.call('PEXPIRE', key, windowMs)
  redis.call('PEXPIRE', key .. ':n', windowMs)
  return {count + points, windowMs}
end
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
local wait = windowMs
if oldest[2] then wait = tonumber(oldest[2]) + windowMs - now end
return {count + points, math.max(wait, 1)}
`;

/**
 * Called when Redis could not answer and the per-instance memory limiter
 * decided instead: quotas are then per instance until Redis is back.
 */
export type OnFallback = (error: Error) => void;

/**
 * Redis keys are a digest of the caller's key, never the key itself: player ids
 * and addresses are chosen by others, and a raw id such as `vic:n` would land
 * on the bookkeeping key of player `vic` (WRONGTYPE, then a silent fallback).
 * A digest has a fixed alphabet without ':' and cannot reach another's keys.
 */
export function limiterKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('base64url');
}

export function redisRateLimiter(redis: Redis, prefix: string, limit: number, windowSeconds: number, onFallback: OnFallback): RateLimiter {
  const limiter = new RateLimiterRedis({
    storeClient: redis,
    keyPrefix: prefix,
    points: limit,
    duration: windowSeconds,
    customIncrTtlLuaScript: SLIDING_WINDOW_LUA,
    rejectIfRedisNotReady: true,
  });
  // While Redis is down each instance enforces the quota on its own rather than
  // refusing every action; exact cross-instance limits resume when Redis returns.
  return withFallback(limiter, memoryRateLimiter(limit, windowSeconds), onFallback);
}

/**
 * A plain per-second request budget (HTTP requests per client address): a
 * fixed one-second window is precise enough and costs one INCR.
 */
export function redisRequestLimiter(redis: Redis, prefix: string, perSecond: number, onFallback: OnFallback): RateLimiter {
  const limiter = new RateLimiterRedis({ storeClient: redis, keyPrefix: prefix, points: perSecond, duration: 1, rejectIfRedisNotReady: true });
  return withFallback(limiter, memoryRequestLimiter(perSecond), onFallback);
}

export function memoryRequestLimiter(perSecond: number): RateLimiter {
  const limiter = new RateLimiterMemory({ points: perSecond, duration: 1 });
  return { consume: (key) => consumeWith(limiter, key) };
}

function withFallback(limiter: RateLimiterRedis, insurance: RateLimiter, onFallback: OnFallback): RateLimiter {
  return {
    async consume(key) {
      try {
        return await consumeWith(limiter, limiterKey(key));
      } catch (error) {
        onFallback(error instanceof Error ? error : new Error(String(error)));
        return insurance.consume(key);
      }
    },
  };
}

export function memoryRateLimiter(limit: number, windowSeconds: number): RateLimiter {
  return new SlidingWindowMemoryLimiter(limit, windowSeconds * 1000);
}

async function consumeWith(limiter: RateLimiterRedis | RateLimiterMemory, key: string): ReturnType<RateLimiter['consume']> {
  try {
    await limiter.consume(key, 1);
    return { allowed: true };
  } catch (rejection) {
    if (rejection instanceof RateLimiterRes) {
      return { allowed: false, retryAfter: Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)) };
    }
    throw rejection;
  }
}

/**
 * The same sliding-window log in process memory (embedded default: one instance).
 * rate-limiter-flexible's memory limiter is fixed-window, hence this small class.
 */
class SlidingWindowMemoryLimiter implements RateLimiter {
  private readonly hits = new Map<string, number[]>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  async consume(key: string): ReturnType<RateLimiter['consume']> {
    const now = Date.now();
    const list = (this.hits.get(key) ?? []).filter((t) => t > now - this.windowMs);
    if (list.length >= this.limit) {
      this.hits.set(key, list);
      return { allowed: false, retryAfter: Math.max(1, Math.ceil((list[0]! + this.windowMs - now) / 1000)) };
    }
    list.push(now);
    this.hits.set(key, list);
    return { allowed: true };
  }
}
