import type { PrismaClient } from '../../db/database.js';
import type { Services } from '../../services.js';
import { checkEntries } from './reconcile-check.js';
import { startOfView, type RankKey, type SweepCursor } from './reconcile-progress.js';
import { segmentColumn, type ResolvedView } from './ranking.js';
import { viewId } from './ranking-cache.js';

export interface SweepOutcome {
  cursor: SweepCursor;
  /** Views where an entry was fixed. */
  fixed: Map<string, number>;
  checked: number;
}

/**
 * The sweep finds drift that no change caused through the app (someone edited
 * Redis by hand, a write lost with no change row to point at it). Each run
 * checks at most `budget` entries, continuing where the last run stopped, so
 * every warm view is covered over successive runs at a bounded cost per run.
 *
 * Per view, two walks, each with its own cursor, share the budget:
 * - over Postgres' ranking index, by key (score, reachedSeq, player): finds
 *   entries missing from the cache or wrong there. A keyset cursor is stable
 *   while the board moves: nobody is skipped who stayed put;
 * - over the cache by position: finds entries the cache has and Postgres does
 *   not (or has otherwise). Positions shift as players move, so a pass may skip
 *   or repeat a few entries; drift left by hand does not move on its own, and
 *   the next pass gets it.
 * A view is done when both walks reached its end; then the next view (in view
 * id order, wrapping around) starts. A run visits each warm view at most once.
 */
export async function sweep(services: Services, views: ResolvedView[], from: SweepCursor, budget: number): Promise<SweepOutcome> {
  const fixed = new Map<string, number>();
  let checked = 0;
  if (views.length === 0 || budget <= 0) return { cursor: from, fixed, checked };
  const sorted = [...views].sort((a, b) => (viewId(a) < viewId(b) ? -1 : viewId(a) > viewId(b) ? 1 : 0));
  // Continue in the cursor's view; if that one went cold, at the next one in order.
  let index = sorted.findIndex((v) => viewId(v) >= (from.view ?? ''));
  if (index < 0) index = 0;
  let cursor: SweepCursor = viewId(sorted[index]!) === from.view ? from : startOfView(viewId(sorted[index]!));

  for (let visited = 0; visited < sorted.length && budget > checked;) {
    const view = sorted[index]!;
    // The walks still under way share what is left of the budget.
    const walks = Number(!cursor.truth.done) + Number(!cursor.cache.done);
    let n = 0;

    if (!cursor.truth.done) {
      const share = Math.ceil((budget - checked) / walks);
      const keys = await truthSlice(services.prisma, view, cursor.truth.after, share);
      n += await checkEntries(
        services,
        view,
        keys.map((k) => k.playerId),
        'sweep',
      );
      checked += keys.length;
      cursor.truth = keys.length < share ? { after: null, done: true } : { after: keys.at(-1)!, done: false };
    }
    const share = budget - checked;
    if (!cursor.cache.done && share > 0) {
      const page = await services.ranking.cache.page(view, cursor.cache.offset, share);
      const entries = page?.entries ?? [];
      n += await checkEntries(
        services,
        view,
        entries.map((e) => e.playerId),
        'sweep',
        entries.map(({ playerId, username, score, reachedSeq }) => ({ playerId, username, score, reachedSeq })),
      );
      checked += entries.length;
      cursor.cache = entries.length < share ? { offset: 0, done: true } : { offset: cursor.cache.offset + entries.length, done: false };
    }
    if (n > 0) fixed.set(viewId(view), (fixed.get(viewId(view)) ?? 0) + n);

    if (!(cursor.truth.done && cursor.cache.done)) break; // out of budget within this view: continue here next run
    visited += 1;
    index = (index + 1) % sorted.length;
    cursor = startOfView(viewId(sorted[index]!));
  }
  return { cursor, fixed, checked };
}

/**
 * The next `n` visible entries of the view after `after` in ranking order. Two
 * ranges of board_entries_ranking_idx (the rest of `after`'s score, then the
 * lower scores), so the cursor is an index bound: O(log n + n) wherever it is.
 * One `(score, …) < (…)` condition cannot be, as score is descending and the
 * rest ascending; an OR of the two would filter from the top of the view.
 */
async function truthSlice(prisma: PrismaClient, view: ResolvedView, after: RankKey | null, n: number): Promise<RankKey[]> {
  const segment = segmentColumn(view);
  const rows = after
    ? await prisma.$queryRaw<{ playerId: string; score: bigint; reachedSeq: bigint }[]>`
        SELECT * FROM (
          (SELECT player_id AS "playerId", score, reached_seq AS "reachedSeq" FROM board_entries
           WHERE board_id = ${view.board} AND period_key = ${view.period} AND segment = ${segment} AND NOT hidden
             AND score = ${after.score} AND (reached_seq, player_id) > (${after.reachedSeq}, ${after.playerId})
           ORDER BY reached_seq, player_id LIMIT ${n})
          UNION ALL
          (SELECT player_id, score, reached_seq FROM board_entries
           WHERE board_id = ${view.board} AND period_key = ${view.period} AND segment = ${segment} AND NOT hidden AND score < ${after.score}
           ORDER BY score DESC, reached_seq, player_id LIMIT ${n})
        ) AS next ORDER BY score DESC, "reachedSeq", "playerId" LIMIT ${n}`
    : await prisma.$queryRaw<{ playerId: string; score: bigint; reachedSeq: bigint }[]>`
        SELECT player_id AS "playerId", score, reached_seq AS "reachedSeq" FROM board_entries
        WHERE board_id = ${view.board} AND period_key = ${view.period} AND segment = ${segment} AND NOT hidden
        ORDER BY score DESC, reached_seq, player_id LIMIT ${n}`;
  return rows.map((r) => ({ playerId: r.playerId, score: Number(r.score), reachedSeq: Number(r.reachedSeq) }));
}
