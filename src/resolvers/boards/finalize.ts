import type { Services } from '../../services.js';
import { isFinal, periodByKey } from './periods.js';

/**
 * Freezes the standings of periods that became final: positions and both tie
 * ranks are stored on the entries, and the period's total and last credit id on
 * board_final_periods. Reads of a final period are then index lookups in
 * Postgres (O(log n)), however large the board, without the cache.
 *
 * Runs in the periodic job (one instance at a time, under its lock). It is
 * idempotent: the UPDATE writes the same values again, and the summary row's
 * primary key keeps one row per period and segment.
 */
export async function finalizeDuePeriods(services: Services, nowMs = Date.now()): Promise<number> {
  const ttl = services.config.actionToken.ttlSeconds;
  let finalized = 0;
  for (const board of await services.definitions.list()) {
    if (board.window === 'ALL_TIME') continue;
    // Period keys with entries and no summary yet: a skip scan over the primary key.
    const pending = await services.prisma.$queryRaw<{ key: string }[]>`
      WITH RECURSIVE keys AS (
        SELECT min(period_key) AS key FROM board_entries WHERE board_id = ${board.id}
        UNION ALL
        SELECT (SELECT min(period_key) FROM board_entries WHERE board_id = ${board.id} AND period_key > keys.key) FROM keys WHERE keys.key IS NOT NULL
      )
      SELECT key FROM keys WHERE key IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM board_final_periods f WHERE f.board_id = ${board.id} AND f.period_key = keys.key)`;
    for (const { key } of pending) {
      if (!isFinal(periodByKey(board, key), ttl, nowMs)) continue;
      await freeze(services, board.id, key);
      finalized += 1;
      services.logger.info({ board: board.id, period: key }, 'period final: standings frozen');
    }
  }
  return finalized;
}

async function freeze(services: Services, boardId: string, periodKey: string) {
  await services.prisma.$executeRaw`
    WITH ranked AS (
      SELECT segment, player_id,
        row_number() OVER (PARTITION BY segment ORDER BY score DESC, reached_seq, player_id) AS pos,
        rank() OVER (PARTITION BY segment ORDER BY score DESC) AS comp,
        dense_rank() OVER (PARTITION BY segment ORDER BY score DESC) AS dense
      FROM board_entries WHERE board_id = ${boardId} AND period_key = ${periodKey} AND NOT hidden
    ), frozen AS (
      UPDATE board_entries be SET final_position = r.pos, final_competition = r.comp, final_dense = r.dense
      FROM ranked r
      WHERE be.board_id = ${boardId} AND be.period_key = ${periodKey} AND be.segment = r.segment AND be.player_id = r.player_id
      RETURNING be.segment, be.reached_seq
    )
    INSERT INTO board_final_periods (board_id, period_key, segment, total, last_seq)
    SELECT ${boardId}, ${periodKey}, segment, count(*), max(reached_seq) FROM frozen GROUP BY segment
    ON CONFLICT (board_id, period_key, segment) DO NOTHING`;
}

/**
 * Freezes a final view again after an operator changed who is on it (hide, ban,
 * void): positions count only visible players, and `last_seq` takes a fresh
 * value from the credit sequence, so the view's seq moves above anything it had.
 * Only rows whose frozen values change are written. Returns false when the view
 * was not frozen yet (the finalization job will freeze it with the change in).
 */
export async function refreeze(services: Pick<Services, 'prisma'>, view: { board: string; period: string; segment: string | null }): Promise<boolean> {
  const segment = view.segment ?? '';
  const rows = await services.prisma.$queryRaw<{ total: number }[]>`
    WITH ranked AS (
      SELECT player_id,
        row_number() OVER (ORDER BY score DESC, reached_seq, player_id) AS pos,
        rank() OVER (ORDER BY score DESC) AS comp,
        dense_rank() OVER (ORDER BY score DESC) AS dense
      FROM board_entries WHERE board_id = ${view.board} AND period_key = ${view.period} AND segment = ${segment} AND NOT hidden
    ), frozen AS (
      UPDATE board_entries be SET final_position = r.pos, final_competition = r.comp, final_dense = r.dense
      FROM ranked r
      WHERE be.board_id = ${view.board} AND be.period_key = ${view.period} AND be.segment = ${segment} AND be.player_id = r.player_id
        AND (be.final_position, be.final_competition, be.final_dense) IS DISTINCT FROM (r.pos::int, r.comp::int, r.dense::int)
      RETURNING 1
    ), cleared AS (
      UPDATE board_entries SET final_position = NULL, final_competition = NULL, final_dense = NULL
      WHERE board_id = ${view.board} AND period_key = ${view.period} AND segment = ${segment} AND hidden AND final_position IS NOT NULL
      RETURNING 1
    )
    UPDATE board_final_periods SET total = (SELECT count(*) FROM ranked), last_seq = nextval('action_credits_id_seq')
    WHERE board_id = ${view.board} AND period_key = ${view.period} AND segment = ${segment}
    RETURNING total`; // data-modifying CTEs run whether or not the outer query reads them
  return rows.length > 0;
}
