import type { BulkSession } from '../../../db/database.js';
import { GLOBAL_BOARD } from '../../boards/definitions.js';
import { REBUILD_CHANNEL } from '../../boards/rebuild-listener.js';
import { ImportFileError, type ImportRow } from './csv-rows.js';

/**
 * The import transaction: sets all-time scores from a file, atomically.
 *
 * 1. Every row is streamed into a temp staging table (COPY on PostgreSQL).
 * 2. Duplicate player ids are refused, naming the line of the second one.
 * 3. Only players the file changes are kept (score, username or country differ,
 *    or the player is new): re-running a file changes nothing.
 * 4. Those that exist are locked, so a credit landing meanwhile is ordered
 *    before or after the import, never in between.
 * 5. Credit ids are drawn in file order after the locks: equal imported scores
 *    rank in file order (reached_seq = the id), and for each player a higher id
 *    is still a later row of its audit chain.
 * 6. Players, one IMPORT audit row each, and the global board entry are written
 *    set-wise. A score of 0 removes the entry (entries are > 0).
 *
 * Anything failing rolls everything back. The change notice for servers without
 * Redis is sent in the same transaction (delivered on commit only).
 */

export const IMPORT_ENTRIES = [{ board: GLOBAL_BOARD, period: 'all', segment: null }];

export interface ImportOutcome {
  rows: number;
  created: number;
  /** Existing players whose score, username or country changed. */
  updated: number;
  /** Players whose score changed (new players with a score included). */
  scoreChanges: number;
  /** Milliseconds per step (staging, checks, each write), for the summary and tuning. */
  timings: Record<string, number>;
}

export async function importScores(
  session: BulkSession,
  input: { rows: AsyncIterable<ImportRow[]>; actor: string; reason: string; notifyViews: string[] },
): Promise<ImportOutcome> {
  // Staging tables in memory rather than in temp files. Only settable before the session first
  // touches a temp table, and outside the transaction (a refusal must not abort it): best effort.
  await session.exec(`SET temp_buffers = '256MB'`).catch(() => {});
  await session.exec('BEGIN');
  try {
    const outcome = await run(session, input);
    const started = performance.now();
    await session.exec('COMMIT');
    outcome.timings.commit = Math.round(performance.now() - started);
    return outcome;
  } catch (error) {
    await session.exec('ROLLBACK').catch(() => {});
    throw error;
  }
}

async function run(session: BulkSession, input: { rows: AsyncIterable<ImportRow[]>; actor: string; reason: string; notifyViews: string[] }): Promise<ImportOutcome> {
  const timings: Record<string, number> = {};
  let mark = performance.now();
  const lap = (step: string) => {
    const now = performance.now();
    timings[step] = Math.round(now - mark);
    mark = now;
  };
  // Sorting a million rows in memory rather than on disk.
  await session.exec(`SET LOCAL work_mem = '256MB'`);
  await session.exec(`CREATE TEMP TABLE import_rows (line int NOT NULL, player_id text NOT NULL, username text NOT NULL, score bigint NOT NULL, country text) ON COMMIT DROP`);
  const rows = await session.loadRows(
    'import_rows',
    [
      { name: 'line', type: 'int' },
      { name: 'player_id', type: 'text' },
      { name: 'username', type: 'text' },
      { name: 'score', type: 'bigint' },
      { name: 'country', type: 'text' },
    ],
    (async function* () {
      for await (const batch of input.rows) yield batch.map((r) => [r.line, r.playerId, r.username, r.score, r.country]);
    })(),
  );
  lap('stage');
  // Temp tables are never auto-analysed: without this the joins below are planned for a handful of rows.
  await session.exec('ANALYZE import_rows');

  const [dup] = await session.query<{ line: number; first: number; player_id: string }>(
    `SELECT line, first, player_id FROM (
       SELECT line, player_id, min(line) OVER w AS first, row_number() OVER w AS n FROM import_rows WINDOW w AS (PARTITION BY player_id ORDER BY line)
     ) d WHERE n = 2 ORDER BY line LIMIT 1`,
  );
  lap('duplicates');
  if (dup) throw new ImportFileError(dup.line, `duplicate playerId ${JSON.stringify(dup.player_id)} (first on line ${dup.first})`);

  // What the file changes, as the database is now.
  await session.exec(
    `CREATE TEMP TABLE import_candidates ON COMMIT DROP AS
     SELECT s.line, s.player_id, s.username, s.score AS new_score, s.country, p.id IS NULL AS created
     FROM import_rows s LEFT JOIN players p ON p.id = s.player_id
     WHERE p.id IS NULL OR p.score <> s.score OR p.username <> s.username
       OR (s.country IS NOT NULL AND (p.attributes ->> 'country') IS DISTINCT FROM s.country)`,
  );
  lap('compare');
  // Lock those that exist (in id order), then read their scores under the lock; ids are drawn after it.
  await session.exec(
    `CREATE TEMP TABLE import_changes ON COMMIT DROP AS
     WITH locked AS (
       SELECT p.id, p.score, p.username, p.attributes ->> 'country' AS country FROM players p
       WHERE p.id IN (SELECT player_id FROM import_candidates WHERE NOT created) ORDER BY p.id FOR UPDATE
     )
     SELECT nextval('action_credits_id_seq') AS credit_id, o.* FROM (
       SELECT c.line, c.player_id, c.username, c.new_score, c.country, c.created, coalesce(l.score, 0) AS old_score
       FROM import_candidates c LEFT JOIN locked l ON l.id = c.player_id
       WHERE c.created OR l.score <> c.new_score OR l.username <> c.username
         OR (c.country IS NOT NULL AND l.country IS DISTINCT FROM c.country)
       ORDER BY c.line
     ) o`,
  );
  await session.exec('ANALYZE import_changes');
  lap('lock-and-number');

  const [counts] = await session.query<{ created: string; updated: string; scores: string; entries: string; removals: string }>(
    `SELECT count(*) FILTER (WHERE created) AS created, count(*) FILTER (WHERE NOT created) AS updated,
       count(*) FILTER (WHERE new_score <> old_score) AS scores,
       count(*) FILTER (WHERE new_score <> old_score AND new_score > 0) AS entries,
       count(*) FILTER (WHERE new_score <> old_score AND new_score = 0) AS removals
     FROM import_changes`,
  );
  const n = (v: string) => Number(v);
  const outcome: ImportOutcome = { rows, created: n(counts!.created), updated: n(counts!.updated), scoreChanges: n(counts!.scores), timings };
  lap('count');
  if (outcome.created + outcome.updated === 0) return outcome;

  // Each statement is driven by import_changes and skipped when it has nothing to do: the tables
  // just written have stale statistics, and a join planned from them can go quadratic.
  // Written in primary-key order (player id): index pages fill one after another instead of at random.
  if (outcome.created)
    await session.exec(
      `INSERT INTO players (id, username, score, reached_seq, score_reached_at, attributes)
     SELECT player_id, username, new_score, CASE WHEN new_score > 0 THEN credit_id ELSE 0 END, now(),
       CASE WHEN country IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('country', country) END
     FROM import_changes WHERE created ORDER BY player_id`,
    );
  lap('insert-players');
  if (outcome.updated)
    await session.exec(
      `UPDATE players p SET
       score = c.new_score,
       reached_seq = CASE WHEN c.new_score <> c.old_score THEN c.credit_id ELSE p.reached_seq END,
       score_reached_at = CASE WHEN c.new_score <> c.old_score THEN now() ELSE p.score_reached_at END,
       username = c.username,
       attributes = CASE WHEN c.country IS NULL THEN p.attributes ELSE p.attributes || jsonb_build_object('country', c.country) END,
       updated_at = now()
     FROM import_changes c WHERE p.id = c.player_id AND NOT c.created`,
    );
  lap('update-players');
  // IMPORT rows have no client action: their action id is derived from the credit id (a v4-shaped
  // UUID ending in the id in hex), unique like the id, and in id order, so the unique index is
  // appended to rather than written at random (a million random UUIDs cost more than the rest).
  await session.query(
    `INSERT INTO action_credits (id, player_id, action_id, action_type, delta, old_score, new_score, entries, kind, actor, reason)
     SELECT credit_id, player_id, ('00000000-0000-4000-8000-' || lpad(to_hex(credit_id), 12, '0'))::uuid, NULL,
       new_score - old_score, old_score, new_score,
       CASE WHEN new_score <> old_score THEN $1::jsonb ELSE '[]'::jsonb END, 'IMPORT', $2, $3
     FROM import_changes ORDER BY credit_id`,
    [JSON.stringify(IMPORT_ENTRIES), input.actor, input.reason],
  );
  lap('audit-rows');
  if (n(counts!.entries)) {
    // New players have no entry yet: a plain insert. Existing ones may have one: an upsert.
    await session.query(
      `INSERT INTO board_entries (board_id, period_key, segment, player_id, score, reached_seq)
       SELECT $1, 'all', '', player_id, new_score, credit_id FROM import_changes
       WHERE created AND new_score > 0 ORDER BY player_id`,
      [GLOBAL_BOARD],
    );
    await session.query(
      `INSERT INTO board_entries AS be (board_id, period_key, segment, player_id, score, reached_seq, hidden)
       SELECT $1, 'all', '', c.player_id, c.new_score, c.credit_id, p.hidden OR p.banned
       FROM import_changes c JOIN players p ON p.id = c.player_id
       WHERE NOT c.created AND c.new_score > 0 AND c.new_score <> c.old_score
       ORDER BY c.player_id
       ON CONFLICT (board_id, period_key, segment, player_id) DO UPDATE SET score = EXCLUDED.score, reached_seq = EXCLUDED.reached_seq`,
      [GLOBAL_BOARD],
    );
  }
  lap('board-entries');
  if (n(counts!.removals)) {
    await session.query(
      `DELETE FROM board_entries
       WHERE board_id = $1 AND period_key = 'all' AND segment = ''
         AND player_id IN (SELECT player_id FROM import_changes WHERE new_score = 0 AND old_score <> 0)`,
      [GLOBAL_BOARD],
    );
  }
  lap('board-removals');
  if (input.notifyViews.length) await session.query('SELECT pg_notify($1, $2)', [REBUILD_CHANNEL, JSON.stringify({ views: input.notifyViews })]);
  return outcome;
}
