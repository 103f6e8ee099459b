import { badInput } from '../../errors.js';
import type { PrismaClient } from '../../db/database.js';
import type { Logger } from '../../logger.js';
import type { BoardDefinitions } from '../boards/definitions.js';
import { currentPeriod } from '../boards/views.js';
import type { Bus } from '../live/bus.js';
import type { CreditUnlock } from '../scoring/credit.js';

/**
 * Achievements: operator-defined goals evaluated by the server only.
 * - SCORE_AT_LEAST and ACTION_COUNT (and RANK_AT_MOST on ALL_TIME boards) are
 *   evaluated inside the credit statement itself (see scoring/credit.ts);
 * - RANK_AT_MOST on windowed boards when a period's standings are frozen (see
 *   social/final-rank-achievements.ts, run by the finalize job).
 * Either way the unlock is a row keyed by (player, code): it happens once.
 */

export const ACHIEVEMENT_KINDS = ['SCORE_AT_LEAST', 'ACTION_COUNT', 'RANK_AT_MOST'] as const;
export type AchievementKind = (typeof ACHIEVEMENT_KINDS)[number];

export interface AchievementDefinition {
  code: string;
  title: string;
  description: string;
  kind: AchievementKind;
  board: string;
  threshold: number;
  actionType: string | null;
  enabled: boolean;
}

export interface AchievementInput {
  code: string;
  title?: string | null;
  description?: string | null;
  kind?: AchievementKind | null;
  board?: string | null;
  threshold?: number | null;
  actionType?: string | null;
  enabled?: boolean | null;
}

/** A player's progress on one achievement. */
export interface PlayerAchievementState {
  achievement: AchievementDefinition;
  progress: number;
  target: number;
  unlockedAt: Date | null;
}

const CODE = /^[A-Z][A-Z0-9_]{0,39}$/;
const MAX_TITLE = 100;
const MAX_DESCRIPTION = 500;
const MAX_THRESHOLD = 2_147_483_647;
/** RANK_AT_MOST counts at most `threshold` entries ahead inside the credit: keep it a "top N" goal. */
const MAX_RANK_THRESHOLD = 10_000;

interface Row {
  code: string;
  title: string;
  description: string;
  kind: string;
  board: string;
  threshold: number;
  actionType: string | null;
  enabled: boolean;
}

const SELECT = `SELECT code, title, description, kind, board_id AS board, threshold, action_type AS "actionType", enabled FROM achievements`;

const fromRow = (r: Row): AchievementDefinition => ({ ...r, kind: r.kind as AchievementKind });

export class Achievements {
  constructor(private readonly deps: { prisma: PrismaClient; bus: Bus; logger: Logger; definitions: BoardDefinitions }) {}

  /** Enabled definitions, by code. */
  async list(): Promise<AchievementDefinition[]> {
    const rows = await this.deps.prisma.$queryRawUnsafe<Row[]>(`${SELECT} WHERE enabled ORDER BY code`);
    return rows.map(fromRow);
  }

  async byCodes(codes: string[]): Promise<Map<string, AchievementDefinition>> {
    if (codes.length === 0) return new Map();
    const rows = await this.deps.prisma.$queryRawUnsafe<Row[]>(`${SELECT} WHERE code = ANY ($1::text[])`, codes);
    return new Map(rows.map((r) => [r.code, fromRow(r)]));
  }

  /**
   * Creates or updates a definition (the caller checked the operator role).
   * Same style as upsertBoard: omitted fields keep their value (or take the
   * default on create); every rule is BAD_USER_INPUT; nothing is written on a refusal.
   */
  async upsert(input: AchievementInput, knownActionTypes: (codes: string[]) => Promise<string[]>, actor?: string): Promise<AchievementDefinition> {
    if (!CODE.test(input.code)) throw badInput('An achievement code is [A-Z][A-Z0-9_]{0,39}');
    // Checked outside any transaction: the board and action-type lookups use the shared client (the
    // embedded database has one connection). Two operators updating one code at once: the last one wins.
    {
      const [current] = await this.deps.prisma.$queryRawUnsafe<Row[]>(`${SELECT} WHERE code = $1`, input.code);
      const before = current ? fromRow(current) : undefined;
      const next: AchievementDefinition = {
        code: input.code,
        title: (input.title ?? before?.title ?? input.code).trim(),
        description: (input.description ?? before?.description ?? '').trim(),
        kind: (input.kind ?? before?.kind) as AchievementKind,
        board: input.board ?? before?.board ?? 'global',
        threshold: (input.threshold ?? before?.threshold) as number,
        actionType: input.actionType !== undefined ? input.actionType : (before?.actionType ?? null),
        enabled: input.enabled ?? before?.enabled ?? true,
      };
      if (!next.kind) throw badInput('kind is required for a new achievement');
      if (!ACHIEVEMENT_KINDS.includes(next.kind)) throw badInput(`kind must be one of ${ACHIEVEMENT_KINDS.join(', ')}`);
      if (next.title.length === 0 || next.title.length > MAX_TITLE) throw badInput(`title must be 1..${MAX_TITLE} characters`);
      if (next.description.length > MAX_DESCRIPTION) throw badInput(`description must be at most ${MAX_DESCRIPTION} characters`);
      if (next.threshold == null) throw badInput('threshold is required for a new achievement');
      const max = next.kind === 'RANK_AT_MOST' ? MAX_RANK_THRESHOLD : MAX_THRESHOLD;
      if (!Number.isInteger(next.threshold) || next.threshold < 1 || next.threshold > max) throw badInput(`threshold must be a whole number from 1 to ${max}`);
      if (!/^[a-z0-9-]{1,40}$/.test(next.board) || !(await this.deps.definitions.get(next.board))) {
        this.deps.definitions.invalidate();
        if (!(await this.deps.definitions.get(next.board))) throw badInput(`Unknown board "${next.board}"`);
      }
      if (next.kind === 'ACTION_COUNT') {
        if (!next.actionType) throw badInput('actionType is required for ACTION_COUNT');
        if (!CODE.test(next.actionType) || (await knownActionTypes([next.actionType])).length === 0) throw badInput(`Unknown action type "${next.actionType}"`);
      } else if (next.actionType !== null) {
        throw badInput('actionType applies to ACTION_COUNT achievements only');
      }
      // The definition and its audit row (CONFIG, with the operator) in one statement.
      const [row] = await this.deps.prisma.$queryRawUnsafe<Row[]>(
        `WITH saved AS (
         INSERT INTO achievements AS a (code, title, description, kind, board_id, threshold, action_type, enabled)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (code) DO UPDATE SET title = EXCLUDED.title, description = EXCLUDED.description, kind = EXCLUDED.kind,
           board_id = EXCLUDED.board_id, threshold = EXCLUDED.threshold, action_type = EXCLUDED.action_type, enabled = EXCLUDED.enabled,
           updated_at = now()
         RETURNING code, title, description, kind, board_id AS board, threshold, action_type AS "actionType", enabled
         ), audited AS (
           INSERT INTO audit_events (kind, actor, detail)
           SELECT 'CONFIG', $9, jsonb_build_object('what', 'achievement', 'id', saved.code, 'achievement', to_jsonb(saved)) FROM saved
         )
         SELECT * FROM saved`,
        next.code,
        next.title,
        next.description,
        next.kind,
        next.board,
        next.threshold,
        next.actionType,
        next.enabled,
        actor ?? null,
      );
      return fromRow(row!);
    }
  }

  /** What the credit of `actionId` unlocked (a replay answers with the original list). */
  async unlockedBy(actionId: string): Promise<CreditUnlock[]> {
    const rows = await this.deps.prisma.$queryRaw<{ code: string; unlockedAt: Date }[]>`
      SELECT code, unlocked_at AS "unlockedAt" FROM player_achievements WHERE action_id = ${actionId}::uuid ORDER BY code`;
    return rows;
  }

  /**
   * Every enabled achievement with the player's progress. SCORE_AT_LEAST: best
   * score on the board's current period; ACTION_COUNT: credited actions of the
   * type; RANK_AT_MOST: the target once unlocked, else 0. Capped at the target.
   */
  async forPlayer(playerId: string): Promise<PlayerAchievementState[]> {
    const list = await this.list();
    if (list.length === 0) return [];
    const [unlocks, counts] = await Promise.all([
      this.deps.prisma.$queryRaw<{ code: string; unlockedAt: Date }[]>`
        SELECT code, unlocked_at AS "unlockedAt" FROM player_achievements WHERE player_id = ${playerId}`,
      this.deps.prisma.$queryRaw<{ actionType: string; count: bigint }[]>`
        SELECT action_type AS "actionType", count FROM player_action_counts WHERE player_id = ${playerId}`,
    ]);
    const unlockedAt = new Map(unlocks.map((u) => [u.code, u.unlockedAt]));
    const countOf = new Map(counts.map((c) => [c.actionType, Number(c.count)]));
    // Best score per (board, current period) the SCORE_AT_LEAST ones need: one primary-key range each.
    const scoreBoards = [...new Set(list.filter((a) => a.kind === 'SCORE_AT_LEAST').map((a) => a.board))];
    const scores = new Map<string, number>();
    await Promise.all(
      scoreBoards.map(async (id) => {
        const board = await this.deps.definitions.get(id);
        if (!board) return;
        const [row] = await this.deps.prisma.$queryRaw<{ best: bigint | null }[]>`
          SELECT max(score) AS best FROM board_entries WHERE board_id = ${id} AND period_key = ${currentPeriod(board).key} AND player_id = ${playerId}`;
        scores.set(id, Number(row?.best ?? 0));
      }),
    );
    return list.map((achievement) => {
      const at = unlockedAt.get(achievement.code) ?? null;
      const target = achievement.threshold;
      let progress = 0;
      if (at) progress = target;
      else if (achievement.kind === 'SCORE_AT_LEAST') progress = scores.get(achievement.board) ?? 0;
      else if (achievement.kind === 'ACTION_COUNT') progress = countOf.get(achievement.actionType!) ?? 0;
      return { achievement, progress: Math.min(progress, target), target, unlockedAt: at };
    });
  }

  /** Tells every instance (after commit) so the player's achievementUnlocked subscribers get it. Best effort. */
  async published(playerId: string, unlocks: CreditUnlock[]): Promise<void> {
    for (const u of unlocks) {
      await this.deps.bus
        .publish('ACHIEVEMENT_UNLOCKED', { player: playerId, code: u.code, unlockedAt: u.unlockedAt.toISOString() })
        .catch((error: Error) => this.deps.logger.warn({ err: error.message }, 'achievement-unlocked publish failed'));
    }
  }
}
