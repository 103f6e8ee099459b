import type { PrismaClient } from '../../db/database.js';
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
}

export type CreditOutcome =
  /** `hidden`: the player is hidden, so the entries stay off every cached board. */
  | { kind: 'credited'; credit: CreditRow; entries: CreditedEntry[]; hidden: boolean }
  /** The player is banned: nothing was written. */
  | { kind: 'banned' }
  /** A board definition changed since the plan was made: plan again with fresh definitions. */
  | { kind: 'stale' }
  /** The type is unknown or disabled in the table itself. */
  | { kind: 'unknown-type' }
  | { kind: 'no-player' };

/**
 * ONE statement (one round trip, one transaction):
 * - share-locks the boards it writes to and checks that the plan still matches
 *   every enabled board for this type (else nothing is written: 'stale');
 * - locks and bumps the player's all-time score by the server's points, unless
 *   the player is banned (checked under the row lock: a ban that commits first wins);
 * - adds the points to every planned board entry (reaching that score at this credit's id);
 * - writes the audit row with the old and new score and the entries touched.
 * The unique index on action_id is the final exactly-once guard: a duplicate
 * fails the whole statement and nothing is written. The credit id is drawn
 * after the row lock, so for one player a higher id always means a higher score,
 * and across players it orders who got there first.
 */
export async function creditAction(
  prisma: PrismaClient,
  input: { playerId: string; actionId: string; actionType: string; issuedAt: Date; plan: CreditPlan },
): Promise<CreditOutcome> {
  const { playerId, actionId, actionType, issuedAt, plan } = input;
  const targets = JSON.stringify(plan.targets.map((t) => ({ b: t.board, p: t.period, s: t.segment ?? '' })));
  const known = JSON.stringify(plan.known.map((k) => ({ id: k.id, v: k.version })));
  const audit = JSON.stringify(plan.targets.map((t) => ({ board: t.board, period: t.period, segment: t.segment })));
  const rows = await prisma.$queryRaw<
    {
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
    }[]
  >`
    WITH t AS (
      SELECT points FROM action_types WHERE code = ${actionType} AND enabled
    ), targets AS (
      SELECT x.b AS board_id, x.p AS period_key, x.s AS segment FROM jsonb_to_recordset(${targets}::jsonb) AS x(b text, p text, s text)
    ), known AS (
      SELECT x.id, x.v FROM jsonb_to_recordset(${known}::jsonb) AS x(id text, v bigint)
    ), locked AS (
      SELECT b.id, b.version FROM boards b WHERE b.id IN (SELECT board_id FROM targets) FOR SHARE
    ), stale AS (
      SELECT 1 FROM boards b
      WHERE b.enabled AND (b.action_types IS NULL OR ${actionType} = ANY (b.action_types))
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
      WHERE players.id = ${playerId} AND NOT players.banned AND NOT EXISTS (SELECT 1 FROM stale)
      RETURNING players.id, players.score, players.reached_seq, players.score_reached_at, t.points, players.hidden
    ), e AS (
      INSERT INTO board_entries AS be (board_id, period_key, segment, player_id, score, reached_seq, hidden)
      SELECT x.board_id, x.period_key, x.segment, p.id, p.points, p.reached_seq, p.hidden FROM p CROSS JOIN targets x
      ON CONFLICT (board_id, period_key, segment, player_id)
        DO UPDATE SET score = be.score + EXCLUDED.score, reached_seq = EXCLUDED.reached_seq, hidden = EXCLUDED.hidden
      RETURNING be.board_id, be.period_key, be.segment, be.score, be.reached_seq
    ), c AS (
      INSERT INTO action_credits (id, player_id, action_id, action_type, delta, old_score, new_score, created_at, issued_at, entries)
      SELECT p.reached_seq, p.id, ${actionId}::uuid, ${actionType}, p.points, p.score - p.points, p.score, p.score_reached_at, ${issuedAt}, ${audit}::jsonb
      FROM p
      RETURNING id, delta, old_score, new_score
    )
    SELECT c.id, c.delta, c.old_score AS "oldScore", c.new_score AS "newScore", (SELECT hidden FROM p) AS hidden,
      (SELECT coalesce(json_agg(json_build_array(board_id, period_key, segment, score::text, reached_seq::text)), '[]'::json) FROM e) AS entries,
      EXISTS (SELECT 1 FROM stale) AS stale,
      EXISTS (SELECT 1 FROM t) AS "typeOk",
      EXISTS (SELECT 1 FROM players WHERE id = ${playerId}) AS "playerOk",
      EXISTS (SELECT 1 FROM players WHERE id = ${playerId} AND banned) AS banned
    FROM (SELECT 1) AS one LEFT JOIN c ON true`;
  const row = rows[0]!;
  if (row.id !== null) {
    return {
      kind: 'credited',
      credit: { id: row.id, delta: row.delta!, oldScore: row.oldScore!, newScore: row.newScore! },
      entries: row.entries.map(([board, period, segment, score, reachedSeq]) => ({
        board,
        period,
        segment: segment === '' ? null : segment,
        score: Number(score),
        reachedSeq: Number(reachedSeq),
      })),
      hidden: row.hidden === true,
    };
  }
  if (row.banned) return { kind: 'banned' };
  if (!row.playerOk) return { kind: 'no-player' };
  if (!row.typeOk) return { kind: 'unknown-type' };
  if (row.stale) return { kind: 'stale' };
  return { kind: 'no-player' };
}
