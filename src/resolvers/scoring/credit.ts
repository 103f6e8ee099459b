import type { SqlRunner } from '../../db/sql-runner.js';
import type { BoardDefinition } from '../boards/definitions.js';
import { periodAt } from '../boards/periods.js';
import type { ResolvedView } from '../boards/ranking.js';

/**
 * The credit: which board entries an action lands on, and the one SQL
 * statement that applies it everywhere at once.
 */

export interface CreditPlan {
  /** Every enabled board this action type counts on, with the definition version the plan used. */
  known: { id: string; version: number }[];
  /** The entries to credit: each board's period at the ticket's issue time, and the player's segment there. */
  targets: ResolvedView[];
}

/**
 * An action counts on every enabled board whose actionTypes is null or names
 * it, in the period that contains the ticket's issue time, and on segmented
 * boards under the player's value (no value, or CUSTOM before its anchor: not there).
 */
export function planCredit(boards: BoardDefinition[], actionType: string, issuedAtMs: number, attributes: Readonly<Record<string, string>>): CreditPlan {
  const known: CreditPlan['known'] = [];
  const targets: ResolvedView[] = [];
  for (const board of boards) {
    if (!board.enabled || (board.actionTypes !== null && !board.actionTypes.includes(actionType))) continue;
    known.push({ id: board.id, version: board.version });
    const period = periodAt(board, issuedAtMs);
    if (!period) continue;
    let segment: string | null = null;
    if (board.segmentBy !== null) {
      segment = attributes[board.segmentBy] ?? null;
      if (segment === null) continue;
    }
    targets.push({ board: board.id, period: period.key, segment, periodInfo: period });
  }
  return { known, targets };
}

export interface CreditRow {
  id: bigint;
  delta: number;
  oldScore: bigint;
  newScore: bigint;
}

export interface CreditedEntry {
  board: string;
  period: string;
  segment: string | null;
  score: number;
  reachedSeq: number;
  /** The entry before this credit (null: the credit created it). `seq` may be older under concurrent credits of the same player. */
  before: { score: number; seq: number } | null;
}

/** An achievement this credit unlocked (social layer). */
export interface CreditUnlock {
  code: string;
  unlockedAt: Date;
}

/** An action applied before: its audit row, enough to answer a retry with the original outcome. */
export interface AppliedCredit {
  playerId: string;
  actionType: string;
  delta: number;
  newScore: bigint;
  entries: { board: string; period: string; segment: string | null }[];
}

export type CreditOutcome =
  /** This actionId was applied before (a retry, or another player's forged copy): nothing was written. */
  | { kind: 'applied-before'; credit: AppliedCredit }
  /** `hidden`: the player is hidden, so the entries stay off every cached board. */
  | { kind: 'credited'; credit: CreditRow; entries: CreditedEntry[]; unlocked: CreditUnlock[]; hidden: boolean }
  /** The player is banned: nothing was written. */
  | { kind: 'banned' }
  /** A board definition changed since the plan was made: plan again with fresh definitions. */
  | { kind: 'stale' }
  /** The type is unknown or disabled in the table itself. */
  | { kind: 'unknown-type' }
  | { kind: 'no-player' };

/** One row, always: the credit's columns, or null ones and the reason nothing was written. */
interface CreditStatementRow {
  id: bigint | null;
  delta: number | null;
  oldScore: bigint | null;
  newScore: bigint | null;
  hidden: boolean | null;
  entries: [string, string, string, string, string][];
  stale: boolean;
  typeOk: boolean;
  playerOk: boolean;
  banned: boolean;
  // social layer
  entriesBefore: [string, string, string, string, string][];
  unlocked: [string, string][];
  // the replay lookup: set when this actionId was applied before
  priorPlayerId: string | null;
  priorActionType: string | null;
  priorDelta: number | null;
  priorNewScore: bigint | null;
  priorEntries: AppliedCredit['entries'] | null;
}

/**
 * Parameters: $1 action type, $2 targets (jsonb), $3 known board versions (jsonb),
 * $4 player id, $5 action id (uuid), $6 the ticket's issue time, $7 the audit's entries (jsonb).
 */
const CREDIT_SQL = `
    WITH prior AS (
      -- The replay lookup: an action applied before is answered from its audit row, and nothing is written.
      SELECT player_id, action_type, delta, new_score, entries FROM action_credits WHERE action_id = $5::uuid
    ), t AS (
      SELECT points FROM action_types WHERE code = $1 AND enabled
    ), targets AS (
      SELECT x.b AS board_id, x.p AS period_key, x.s AS segment FROM jsonb_to_recordset($2::jsonb) AS x(b text, p text, s text)
    ), known AS (
      SELECT x.id, x.v FROM jsonb_to_recordset($3::jsonb) AS x(id text, v bigint)
    ), locked AS (
      SELECT b.id, b.version FROM boards b WHERE b.id IN (SELECT board_id FROM targets) FOR SHARE
    ), stale AS (
      SELECT 1 FROM boards b
      WHERE b.enabled AND (b.action_types IS NULL OR $1 = ANY (b.action_types))
        AND NOT EXISTS (SELECT 1 FROM known k WHERE k.id = b.id AND k.v = b.version)
      UNION ALL
      SELECT 1 FROM known k LEFT JOIN boards b ON b.id = k.id WHERE b.version IS DISTINCT FROM k.v
      UNION ALL
      SELECT 1 FROM targets x LEFT JOIN locked l ON l.id = x.board_id JOIN known k ON k.id = x.board_id WHERE l.version IS DISTINCT FROM k.v
    ), p AS (
      UPDATE players SET
        score = players.score + t.points,
        reached_seq = nextval('action_credits_id_seq'),
        score_reached_at = clock_timestamp(),
        updated_at = clock_timestamp()
      FROM t
      WHERE players.id = $4 AND NOT players.banned AND NOT EXISTS (SELECT 1 FROM stale) AND NOT EXISTS (SELECT 1 FROM prior)
      RETURNING players.id, players.score, players.reached_seq, players.score_reached_at, t.points, players.hidden
    ), e AS (
      INSERT INTO board_entries AS be (board_id, period_key, segment, player_id, score, reached_seq, hidden)
      SELECT x.board_id, x.period_key, x.segment, p.id, p.points, p.reached_seq, p.hidden FROM p CROSS JOIN targets x
      ON CONFLICT (board_id, period_key, segment, player_id)
        DO UPDATE SET score = be.score + EXCLUDED.score, reached_seq = EXCLUDED.reached_seq, hidden = EXCLUDED.hidden
      RETURNING be.board_id, be.period_key, be.segment, be.score, be.reached_seq
    ), c AS (
      INSERT INTO action_credits (id, player_id, action_id, action_type, delta, old_score, new_score, created_at, issued_at, entries)
      SELECT p.reached_seq, p.id, $5::uuid, $1, p.points, p.score - p.points, p.score, p.score_reached_at, $6::timestamptz, $7::jsonb
      FROM p
      RETURNING id, delta, old_score, new_score
    ),
    -- ---- social layer: begin -------------------------------------------------
    entries_before AS (
      -- Each planned entry before this credit (statement snapshot): where a live standing moved from.
      SELECT be.board_id, be.period_key, be.segment, be.score, be.reached_seq
      FROM board_entries be JOIN targets x ON x.board_id = be.board_id AND x.period_key = be.period_key AND x.segment = be.segment
      WHERE be.player_id = $4 AND EXISTS (SELECT 1 FROM p)
    ), counted AS (
      -- Credited actions of this type for the player (ACTION_COUNT progress).
      INSERT INTO player_action_counts AS pc (player_id, action_type, count)
      SELECT p.id, $1, 1 FROM p
      ON CONFLICT (player_id, action_type) DO UPDATE SET count = pc.count + 1
      RETURNING pc.count
    ), reached AS (
      -- Achievements this credit reaches. RANK_AT_MOST here only on ALL_TIME boards (windowed: when the
      -- period becomes final); the position counts at most "threshold" visible entries ahead.
      SELECT a.code FROM achievements a
      WHERE a.enabled AND (
        (a.kind = 'SCORE_AT_LEAST' AND EXISTS (SELECT 1 FROM e WHERE e.board_id = a.board_id AND e.score >= a.threshold))
        OR (a.kind = 'ACTION_COUNT' AND a.action_type = $1 AND (SELECT max(count) FROM counted) >= a.threshold)
        OR (a.kind = 'RANK_AT_MOST' AND EXISTS (
          SELECT 1 FROM e JOIN boards b ON b.id = e.board_id AND b.board_window = 'ALL_TIME'
          WHERE e.board_id = a.board_id
            AND NOT EXISTS (SELECT 1 FROM players hp WHERE hp.id = $4 AND (hp.hidden OR hp.banned))
            AND (SELECT count(*) FROM (
              SELECT 1 FROM board_entries o
              WHERE o.board_id = e.board_id AND o.period_key = e.period_key AND o.segment = e.segment AND NOT o.hidden AND o.player_id <> $4
                AND (o.score > e.score OR (o.score = e.score AND (o.reached_seq, o.player_id) < (e.reached_seq, $4)))
              LIMIT a.threshold) ahead) < a.threshold))
      )
    ), unlocked AS (
      -- Exactly once per player and achievement: the primary key; a later credit that also reaches it inserts nothing.
      INSERT INTO player_achievements (player_id, code, unlocked_at, action_id)
      SELECT p.id, reached.code, p.score_reached_at, $5::uuid FROM p CROSS JOIN reached
      ON CONFLICT (player_id, code) DO NOTHING
      RETURNING code, unlocked_at
    )
    -- ---- social layer: end ---------------------------------------------------
    SELECT c.id, c.delta, c.old_score AS "oldScore", c.new_score AS "newScore", (SELECT hidden FROM p) AS hidden,
      (SELECT coalesce(json_agg(json_build_array(board_id, period_key, segment, score::text, reached_seq::text)), '[]'::json) FROM e) AS entries,
      EXISTS (SELECT 1 FROM stale) AS stale,
      EXISTS (SELECT 1 FROM t) AS "typeOk",
      EXISTS (SELECT 1 FROM players WHERE id = $4) AS "playerOk",
      EXISTS (SELECT 1 FROM players WHERE id = $4 AND banned) AS banned,
      -- social layer
      (SELECT coalesce(json_agg(json_build_array(board_id, period_key, segment, score::text, reached_seq::text)), '[]'::json) FROM entries_before) AS "entriesBefore",
      (SELECT coalesce(json_agg(json_build_array(code, unlocked_at) ORDER BY code), '[]'::json) FROM unlocked) AS unlocked,
      prior.player_id AS "priorPlayerId", prior.action_type AS "priorActionType", prior.delta AS "priorDelta",
      prior.new_score AS "priorNewScore", prior.entries AS "priorEntries"
    FROM (SELECT 1) AS one LEFT JOIN c ON true LEFT JOIN prior ON true`;

/**
 * ONE statement (one round trip, one transaction):
 * - looks the actionId up first: applied before, it writes nothing and answers
 *   with that credit ('applied-before'), so a retry costs no second round trip;
 * - share-locks the boards it writes to and checks that the plan still matches
 *   every enabled board for this type (else nothing is written: 'stale');
 * - locks and bumps the player's all-time score by the server's points, unless
 *   the player is banned (checked under the row lock: a ban that commits first wins);
 * - adds the points to every planned board entry (reaching that score at this credit's id);
 * - writes the audit row with the old and new score and the entries touched.
 * - social layer (separate CTEs, separate result columns): counts the action
 *   for the player, evaluates the achievements the credit reaches and inserts
 *   their unlocks (the (player, code) primary key makes each unlock happen once),
 *   and reads each entry's state before the credit (for live standing moves).
 * The unique index on action_id is the final exactly-once guard: a duplicate
 * fails the whole statement and nothing is written. The credit id is drawn
 * after the row lock, so for one player a higher id always means a higher score,
 * and across players it orders who got there first.
 */
export async function creditAction(sql: SqlRunner, input: { playerId: string; actionId: string; actionType: string; issuedAt: Date; plan: CreditPlan }): Promise<CreditOutcome> {
  const { playerId, actionId, actionType, issuedAt, plan } = input;
  const targets = JSON.stringify(plan.targets.map((t) => ({ b: t.board, p: t.period, s: t.segment ?? '' })));
  const known = JSON.stringify(plan.known.map((k) => ({ id: k.id, v: k.version })));
  const audit = JSON.stringify(plan.targets.map((t) => ({ board: t.board, period: t.period, segment: t.segment })));
  const rows = await sql.query<CreditStatementRow>(CREDIT_SQL, [actionType, targets, known, playerId, actionId, issuedAt, audit]);
  const row = rows[0]!;
  if (row.priorPlayerId !== null) {
    return {
      kind: 'applied-before',
      credit: { playerId: row.priorPlayerId, actionType: row.priorActionType!, delta: row.priorDelta!, newScore: row.priorNewScore!, entries: row.priorEntries! },
    };
  }
  if (row.id !== null) {
    const before = new Map(row.entriesBefore.map(([board, period, segment, , reachedSeq]) => [`${board}|${period}|${segment}`, Number(reachedSeq)]));
    return {
      kind: 'credited',
      credit: { id: row.id, delta: row.delta!, oldScore: row.oldScore!, newScore: row.newScore! },
      entries: row.entries.map(([board, period, segment, score, reachedSeq]) => {
        const beforeSeq = before.get(`${board}|${period}|${segment}`);
        return {
          board,
          period,
          segment: segment === '' ? null : segment,
          score: Number(score),
          reachedSeq: Number(reachedSeq),
          // The score before is exact (this credit added delta under the player's row lock); the seq is the snapshot's.
          before: beforeSeq === undefined ? null : { score: Number(score) - row.delta!, seq: beforeSeq },
        };
      }),
      unlocked: row.unlocked.map(([code, at]) => ({ code, unlockedAt: new Date(at) })),
      hidden: row.hidden === true,
    };
  }
  if (row.banned) return { kind: 'banned' };
  if (!row.playerOk) return { kind: 'no-player' };
  if (!row.typeOk) return { kind: 'unknown-type' };
  if (row.stale) return { kind: 'stale' };
  return { kind: 'no-player' };
}

/** The credit of an action, if applied (for a retry the credit statement did not get to see). */
export async function findCredit(sql: SqlRunner, actionId: string): Promise<AppliedCredit | undefined> {
  const rows = await sql.query<AppliedCredit>(
    `SELECT player_id AS "playerId", action_type AS "actionType", delta, new_score AS "newScore", entries
     FROM action_credits WHERE action_id = $1::uuid`,
    [actionId],
  );
  return rows[0];
}
