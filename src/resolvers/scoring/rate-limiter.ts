import { createHash } from 'node:crypto';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { RedisClient } from '../../db/redis.js';

/**
 * Per-key quota over a sliding window: at most `limit` hits in ANY window of
 * `windowSeconds`, so there is no burst at a fixed-window boundary.
 */
export interface RateLimiter {
  /** Takes one hit; `allowed: false` carries the seconds until one frees up. */
  consume(key: string): Promise<{ allowed: true } | { allowed: false; retryAfter: number }>;
}

// A sliding-window log: one sorted-set entry per accepted hit, scored by Redis
// server time, plus a counter for unique members. KEYS[1] the log, KEYS[2] the
// counter (same hash tag: one slot on a cluster). ARGV: window seconds, limit.
// Returns {allowed (1/0), ms until a hit frees up}.
const SLIDING_WINDOW_LUA = `
local key, counter = KEYS[1], KEYS[2]
local windowMs = tonumber(ARGV[1]) * 1000
local limit = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - windowMs)
local count = redis.call('ZCARD', key)
if count + 1 <= limit then
  local n = redis.call('INCR', counter)
  redis.call('ZADD', key, now, n)
  redis.call('PEXPIRE', key, windowMs)
  redis.call('PEXPIRE', counter, windowMs)
  return {1, 0}
end
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
local wait = windowMs
if oldest[2] then wait = tonumber(oldest[2]) + windowMs - now end
return {0, math.max(wait, 1)}
`;

// A fixed one-second window: KEYS[1] the counter; ARGV: limit. Returns {allowed, ms left}.
const FIXED_WINDOW_LUA = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], 1000) end
if n <= tonumber(ARGV[1]) then return {1, 0} end
return {0, math.max(redis.call('PTTL', KEYS[1]), 1)}
`;

type LimiterScripts = RedisClient & {
  scoreboardSlidingWindow(log: string, counter: string, windowSeconds: number, limit: number): Promise<[number, number]>;
  scoreboardFixedWindow(key: string, limit: number): Promise<[number, number]>;
};

function scripted(redis: RedisClient): LimiterScripts {
  // Our own command names: a second definition under a shared name would replace the first on this client.
  if (!('scoreboardSlidingWindow' in redis)) redis.defineCommand('scoreboardSlidingWindow', { numberOfKeys: 2, lua: SLIDING_WINDOW_LUA });
  if (!('scoreboardFixedWindow' in redis)) redis.defineCommand('scoreboardFixedWindow', { numberOfKeys: 1, lua: FIXED_WINDOW_LUA });
  return redis as LimiterScripts;
}

const decision = ([allowed, ms]: [number, number]): Decision => (allowed === 1 ? { allowed: true } : { allowed: false, retryAfter: Math.max(1, Math.ceil(ms / 1000)) });
type Decision = Awaited<ReturnType<RateLimiter['consume']>>;

/**
 * Called when Redis could not answer and the per-instance memory limiter
 * decided instead: quotas are then per instance until Redis is back.
 */
export type OnFallback = (error: Error) => void;

/**
 * Redis keys are a digest of the caller's key, never the key itself: player ids
 * and addresses are chosen by others, and a raw id such as `vic:n` would land
 * on the bookkeeping key of player `vic` (WRONGTYPE, then a silent fallback).
 * A digest has a fixed alphabet without ':' or braces and cannot reach another's
 * keys. It is the hash tag, so a key and its companions share one cluster slot.
 */
export function limiterKey(key: string): string {
  return `{${createHash('sha256').update(key, 'utf8').digest('base64url')}}`;
}

export function redisRateLimiter(redis: RedisClient, prefix: string, limit: number, windowSeconds: number, onFallback: OnFallback): RateLimiter {
  const client = scripted(redis);
  const limiter: RateLimiter = {
    async consume(key) {
      const k = `${prefix}:${limiterKey(key)}`;
      return decision(await client.scoreboardSlidingWindow(k, `${k}:n`, windowSeconds, limit));
    },
  };
  // While Redis is down each instance enforces the quota on its own rather than
  // refusing every action; exact cross-instance limits resume when Redis returns.
  return withFallback(limiter, memoryRateLimiter(limit, windowSeconds), onFallback);
}

/**
 * A plain per-second request budget (HTTP requests per client address): a
 * fixed one-second window is precise enough and costs one script call.
 */
export function redisRequestLimiter(redis: RedisClient, prefix: string, perSecond: number, onFallback: OnFallback): RateLimiter {
  const client = scripted(redis);
  const limiter: RateLimiter = {
    consume: async (key) => decision(await client.scoreboardFixedWindow(`${prefix}:${limiterKey(key)}`, perSecond)),
  };
  return withFallback(limiter, memoryRequestLimiter(perSecond), onFallback);
}

export function memoryRequestLimiter(perSecond: number): RateLimiter {
  const limiter = new RateLimiterMemory({ points: perSecond, duration: 1 });
  return { consume: (key) => consumeWith(limiter, key) };
}

/** After Redis failed to answer, the insurance decides alone this long (a dead node costs a timeout per call). */
const REDIS_RETRY_MS = 1_000;

function withFallback(limiter: RateLimiter, insurance: RateLimiter, onFallback: OnFallback): RateLimiter {
  let failedAt = -Infinity;
  return {
    async consume(key) {
      if (Date.now() - failedAt < REDIS_RETRY_MS) {
        onFallback(new Error('Redis did not answer a moment ago'));
        return insurance.consume(key);
      }
      try {
        return await limiter.consume(key);
      } catch (error) {
        failedAt = Date.now();
        onFallback(error instanceof Error ? error : new Error(String(error)));
        return insurance.consume(key);
      }
    },
  };
}

export function memoryRateLimiter(limit: number, windowSeconds: number): RateLimiter {
  return new SlidingWindowMemoryLimiter(limit, windowSeconds * 1000);
}

async function consumeWith(limiter: RateLimiterMemory, key: string): ReturnType<RateLimiter['consume']> {
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
 * The same sliding-window log in process memory (embedded default: one instance,
 * and the insurance while Redis is down). rate-limiter-flexible's memory limiter
 * is fixed-window, hence this small class.
 *
 * Keys are kept in the order of their last hit (a hit moves its key to the end),
 * so the idle ones are at the front: each call drops those whose last hit left
 * the window. Memory is bounded by the keys active within one window.
 */
export class SlidingWindowMemoryLimiter implements RateLimiter {
  private readonly hits = new Map<string, number[]>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Keys held (for tests and metrics). */
  size(): number {
    return this.hits.size;
  }

  async consume(key: string): ReturnType<RateLimiter['consume']> {
    const now = this.now();
    this.evictIdle(now);
    const list = (this.hits.get(key) ?? []).filter((t) => t > now - this.windowMs);
    this.hits.delete(key);
    if (list.length >= this.limit) {
      this.hits.set(key, list);
      return { allowed: false, retryAfter: Math.max(1, Math.ceil((list[0]! + this.windowMs - now) / 1000)) };
    }
    list.push(now);
    this.hits.set(key, list);
    return { allowed: true };
  }

  private evictIdle(now: number) {
    for (const [key, list] of this.hits) {
      // A refused call re-inserts a key without a new hit, so "last hit" is the list's last entry.
      if (list.length > 0 && list[list.length - 1]! > now - this.windowMs) break;
      this.hits.delete(key);
    }
  }
}
