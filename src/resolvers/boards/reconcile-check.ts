import type { PrismaClient } from '../../db/database.js';
import type { Services } from '../../services.js';
import { segmentColumn, type ResolvedView } from './ranking.js';
import { sameEntry, viewId, type BoardEntry } from './ranking-cache.js';

/** Where a checked entry came from: a recent change, or the sweep over the warm views. */
export type CheckSource = 'changes' | 'sweep';

/** Players per round trip: one Redis script and one Postgres query each. */
export const CHECK_CHUNK = 500;

/**
 * Compares these players' entries on one view between the cache and Postgres
 * and brings the cache back to Postgres: an entry that is behind (a newer state
 * never reached the cache) is merged like any update; one that differs
 * otherwise (someone edited the cache) is replaced, only if it did not change
 * meanwhile. Point reads only: O(k log n) for k players, whatever the board's
 * size. `seen`: the cached entries when the caller already read them (the
 * sweep's slice of the cache), else they are read here. Returns the number of
 * entries fixed.
 */
export async function checkEntries(services: Services, view: ResolvedView, playerIds: string[], source: CheckSource, seen?: BoardEntry[]): Promise<number> {
  const { ranking, metrics, logger } = services;
  let fixed = 0;
  for (let i = 0; i < playerIds.length; i += CHECK_CHUNK) {
    const ids = playerIds.slice(i, i + CHECK_CHUNK);
    // Cache first, then Postgres: a legitimate cached state is then never newer than the truth read.
    const cached = seen ? new Map(seen.slice(i, i + CHECK_CHUNK).map((e) => [e.playerId, e])) : await cachedEntries(services, view, ids);
    if (!cached) return fixed; // the view went cold: its rebuild reads Postgres anyway
    const truth = await truthEntries(services.prisma, view, ids);
    metrics.reconcileChecked.inc({ source }, ids.length);
    for (const id of ids) {
      const was = cached.get(id);
      const is = truth.get(id);
      if (!was && !is) continue;
      const real: BoardEntry = is ?? { playerId: id, username: was?.username ?? id, score: 0, reachedSeq: 0 };
      if (sameEntry(was, real)) continue;
      if (was && real.reachedSeq > was.reachedSeq) {
        await ranking.cache.apply(view, real, ranking.expireAt(view.periodInfo));
      } else if (await ranking.cache.repair(view, was, real)) {
        metrics.cacheRepairs.inc();
        logger.warn({ view: viewId(view), playerId: id, cached: was, truth: real, source }, 'ranking cache drift repaired');
      } else continue;
      fixed += 1;
    }
  }
  return fixed;
}

async function cachedEntries(services: Services, view: ResolvedView, ids: string[]): Promise<Map<string, BoardEntry> | null> {
  const entries = await services.ranking.cache.entries(view, ids);
  if (!entries) return null;
  const out = new Map<string, BoardEntry>();
  entries.forEach((e) => e && out.set(e.playerId, e));
  return out;
}

/** The visible entries of these players on the view (primary-key lookups; hidden players are on no board). */
async function truthEntries(prisma: PrismaClient, view: ResolvedView, ids: string[]): Promise<Map<string, BoardEntry>> {
  const rows = await prisma.$queryRaw<{ playerId: string; username: string; score: bigint; reachedSeq: bigint }[]>`
    SELECT be.player_id AS "playerId", p.username, be.score, be.reached_seq AS "reachedSeq"
    FROM board_entries be JOIN players p ON p.id = be.player_id
    WHERE be.board_id = ${view.board} AND be.period_key = ${view.period} AND be.segment = ${segmentColumn(view)}
      AND be.player_id = ANY(${ids}::text[]) AND NOT be.hidden`;
  return new Map(rows.map((r) => [r.playerId, { playerId: r.playerId, username: r.username, score: Number(r.score), reachedSeq: Number(r.reachedSeq) }]));
}
