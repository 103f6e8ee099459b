import { z } from 'zod';
import type { RedisClient } from '../../db/redis.js';

/**
 * Where reconcile stopped, so the next run (on any instance) continues from
 * there instead of starting over: the changes watermark and the sweep cursor.
 * In Redis next to the reconcile lock when there is Redis (every instance takes
 * turns under that lock), in memory for the embedded backend (one instance).
 */
export interface ReconcileProgress {
  /**
   * Highest change id (credits, voids, imports and audit events share one id
   * sequence) at or below which every change has been checked and is settled;
   * null before the first run.
   */
  watermark: number | null;
  sweep: SweepCursor;
}

/** A position in a view's ranking order: score descending, then reachedSeq, then player id. */
export interface RankKey {
  score: number;
  reachedSeq: number;
  playerId: string;
}

/**
 * The sweep's place: which warm view it is in (by view id, in sorted order) and,
 * in that view, how far each direction got. `truth` walks Postgres' ranking
 * index (entries missing or wrong in the cache); `cache` walks the cache by
 * position (entries there that Postgres does not have, or has otherwise).
 */
export interface SweepCursor {
  view: string | null;
  truth: { after: RankKey | null; done: boolean };
  cache: { offset: number; done: boolean };
}

export function startOfView(view: string | null): SweepCursor {
  return { view, truth: { after: null, done: false }, cache: { offset: 0, done: false } };
}

export interface ReconcileProgressStore {
  load(): Promise<ReconcileProgress>;
  save(progress: ReconcileProgress): Promise<void>;
}

const FRESH: ReconcileProgress = { watermark: null, sweep: startOfView(null) };

/** One key, `<prefix>reconcile:progress`, beside `<prefix>reconcile:lock`. */
export function redisReconcileProgress(redis: RedisClient, prefix: string): ReconcileProgressStore {
  const key = `${prefix}reconcile:progress`;
  return {
    async load() {
      const raw = await redis.get(key);
      return raw ? parseProgress(raw) : structuredClone(FRESH);
    },
    async save(progress) {
      await redis.set(key, JSON.stringify(progress));
    },
  };
}

/** The embedded backend: one instance, so the process holds it. */
export function memoryReconcileProgress(): ReconcileProgressStore {
  let saved = structuredClone(FRESH);
  return {
    load: async () => structuredClone(saved),
    save: async (progress) => {
      saved = structuredClone(progress);
    },
  };
}

const rankKey = z.object({ score: z.number(), reachedSeq: z.number(), playerId: z.string() });
const progressSchema = z.object({
  watermark: z.number().int().nonnegative().nullable(),
  sweep: z.object({
    view: z.string().nullable(),
    truth: z.object({ after: rankKey.nullable(), done: z.boolean() }),
    cache: z.object({ offset: z.number().int().nonnegative(), done: z.boolean() }),
  }),
});

/** Anything unreadable (an older format, a hand edit) starts over: the cost is one re-check, never a wrong answer. */
function parseProgress(raw: string): ReconcileProgress {
  try {
    const parsed = progressSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : structuredClone(FRESH);
  } catch {
    return structuredClone(FRESH);
  }
}
