import { randomUUID } from 'node:crypto';
import type { PlayerIdentity } from '../../auth/player-jwt.js';
import { AppError, badInput } from '../../errors.js';
import type { Services } from '../../services.js';
import type { Player } from '../../generated/prisma/client.js';
import { refreeze } from '../boards/finalize.js';
import { isFinal, periodByKey } from '../boards/periods.js';
import type { ResolvedView } from '../boards/ranking.js';
import { viewId, type BoardView } from '../boards/ranking-cache.js';
import type { StandingMove } from '../live/bus.js';
import { currentPeriod } from '../boards/views.js';
import { isUniqueViolation } from '../scoring/actions.js';
import { recordAuditEvent, type AuditEventKind } from './audit.js';

/**
 * What operators do to players and credits. Every act is one Postgres
 * transaction that also writes its audit row; the cache and live subscribers
 * follow right after the commit. Nothing is deleted from the audit trail: a
 * void is a compensating row, a hide is a flag.
 *
 * Visibility: a hidden or banned player is on no board anyone else sees. Their
 * board entries carry the same flag (board_entries.hidden), so every rank query
 * stays on one partial index, and the cache holds a marker that keeps their
 * states out until they are shown again.
 */

const MAX_REASON = 500;

export function checkReason(reason: string): string {
  const r = reason.normalize('NFKC').trim();
  if (r.length === 0) throw badInput('reason is required');
  if (r.length > MAX_REASON) throw badInput(`reason must be at most ${MAX_REASON} characters`);
  return r;
}

function checkPlayerId(id: string): string {
  if (id.length === 0 || id.length > 128) throw new AppError('NOT_FOUND', 'No such player');
  return id;
}

export type VisibilityChange = 'HIDE' | 'UNHIDE' | 'BAN' | 'UNBAN';

interface TouchedEntry {
  board: string;
  period: string;
  segment: string;
  score: bigint;
  reachedSeq: bigint;
}

/** Hides, shows, bans or unbans a player. Returns the player as they are now. */
export async function changeVisibility(services: Services, operator: PlayerIdentity, playerId: string, change: VisibilityChange, reasonInput: string): Promise<Player> {
  const reason = checkReason(reasonInput);
  checkPlayerId(playerId);
  const { prisma } = services;
  const result = await prisma.$transaction(async (tx) => {
    const [old] = await tx.$queryRaw<{ hidden: boolean; banned: boolean; username: string }[]>`
      SELECT hidden, banned, username FROM players WHERE id = ${playerId} FOR UPDATE`;
    if (!old) throw new AppError('NOT_FOUND', 'No such player');
    const hidden = change === 'HIDE' ? true : change === 'UNHIDE' ? false : old.hidden;
    const banned = change === 'BAN' ? true : change === 'UNBAN' ? false : old.banned;
    const wasVisible = !old.hidden && !old.banned;
    const visible = !hidden && !banned;
    await tx.$executeRaw`UPDATE players SET hidden = ${hidden}, banned = ${banned}, updated_at = now() WHERE id = ${playerId}`;
    let touched: TouchedEntry[] = [];
    if (wasVisible !== visible) {
      touched = await tx.$queryRaw<TouchedEntry[]>`
        UPDATE board_entries SET hidden = ${!visible} WHERE player_id = ${playerId}
        RETURNING board_id AS board, period_key AS period, segment, score, reached_seq AS "reachedSeq"`;
    }
    await recordAuditEvent(tx, {
      kind: change satisfies AuditEventKind,
      playerId,
      actor: operator.playerId,
      reason,
      detail: { hidden, banned, wasHidden: old.hidden, wasBanned: old.banned },
    });
    return { visible, changed: wasVisible !== visible, touched, username: old.username };
  });
  // In force here at once: the next ticket on this instance reads the new flag (others: within 1 s).
  if (change === 'BAN' || change === 'UNBAN') services.players.banChanged(playerId);
  services.metrics.moderationActions.inc({ kind: change });
  services.logger.info({ actor: operator.playerId, player: playerId, change, reason }, 'player moderation');
  if (result.changed) {
    await followEntries(
      services,
      playerId,
      result.touched.map((e) => ({
        view: { board: e.board, period: e.period, segment: e.segment === '' ? null : e.segment },
        // Live standings: the player leaves (hide, ban) or enters (unhide, unban) each view at their score.
        move: result.visible
          ? { from: null, to: { score: Number(e.score), seq: Number(e.reachedSeq) } }
          : { from: { score: Number(e.score), seq: Number(e.reachedSeq) }, to: null },
        apply: async (view) => {
          if (!result.visible) return services.rankingCache.hide(view, playerId, services.ranking.expireAt(view.periodInfo));
          const entry = { playerId, username: result.username, score: Number(e.score), reachedSeq: Number(e.reachedSeq) };
          return services.rankingCache.show(view, playerId, entry, services.ranking.expireAt(view.periodInfo));
        },
      })),
    );
  }
  return prisma.player.findUniqueOrThrow({ where: { id: playerId } });
}

/**
 * After a moderation commit: brings each touched view's reads up to date on
 * every instance. Views still changing go through the cache (atomic per view);
 * final views that were already frozen are frozen again. Then one notice moves
 * every subscriber (and makes every instance read the frozen summaries again).
 * A cache that is down gets a rebuild from Postgres, which already holds the change.
 */
async function followEntries(
  services: Services,
  playerId: string,
  items: { view: BoardView; move?: Pick<StandingMove, 'from' | 'to'>; apply: (view: ResolvedView) => Promise<boolean> }[],
) {
  const ttl = services.config.actionToken.ttlSeconds;
  const changed: BoardView[] = [];
  const moves: StandingMove[] = [];
  for (const { view, move, apply } of items) {
    const board = await services.definitions.get(view.board);
    if (!board) continue;
    const resolved: ResolvedView = { ...view, periodInfo: periodByKey(board, view.period) };
    if (isFinal(resolved.periodInfo, ttl, Date.now())) {
      // Not frozen yet (false): reads count the visible entries in Postgres, and the finalization job freezes them.
      await refreeze(services, view);
      changed.push(view);
      if (move) moves.push({ view: viewId(view), player: playerId, ...move });
      continue;
    }
    try {
      await apply(resolved);
    } catch (error) {
      services.logger.warn({ err: (error as Error).message, board: view.board, period: view.period }, 'cache update after moderation failed; rebuilding the view');
      void services.ranking.scheduleRebuild(resolved, 'moderation');
    }
    changed.push(view);
    if (move) moves.push({ view: viewId(view), player: playerId, ...move });
  }
  if (changed.length) await services.ranking.publishChanged(changed, moves);
}

export interface VoidResult {
  actionId: string;
  scoreDelta: number;
  replayed: boolean;
  playerId: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Takes back one credit: subtracts it from the player's all-time score and
 * from every entry it touched (never below zero; an entry that reaches zero
 * leaves its board), as one VOID row in the audit chain. The unique index on
 * `voids` makes it exactly once: a second call, or a concurrent one, is a replay.
 */
export async function voidAction(services: Services, operator: PlayerIdentity, actionId: string, reasonInput: string): Promise<VoidResult> {
  if (!UUID.test(actionId)) throw badInput('actionId must be a UUID');
  const reason = checkReason(reasonInput);
  const previous = await findVoid(services, actionId);
  if (previous) return previous;
  let outcome;
  try {
    outcome = await services.prisma.$transaction(async (tx) => {
      // The player's row lock first: credits of the same player wait, and every
      // statement after this one sees all that committed before it.
      const [orig] = await tx.$queryRaw<
        {
          playerId: string;
          delta: number;
          actionType: string;
          entries: { board: string; period: string; segment: string | null }[];
          issuedAt: Date | null;
          score: bigint;
          hidden: boolean;
          username: string;
        }[]
      >`
        SELECT c.player_id AS "playerId", c.delta, c.action_type AS "actionType", c.entries, c.issued_at AS "issuedAt",
          p.score, p.hidden OR p.banned AS hidden, p.username
        FROM action_credits c JOIN players p ON p.id = c.player_id
        WHERE c.action_id = ${actionId}::uuid AND c.kind = 'CREDIT'
        FOR UPDATE OF p`;
      if (!orig) return undefined;
      const taken = Math.min(orig.delta, Number(orig.score));
      const targets = JSON.stringify(orig.entries.map((e) => ({ b: e.board, p: e.period, s: e.segment ?? '' })));
      const [row] = await tx.$queryRaw<{ id: bigint; entries: [string, string, string, string, string, string][] }[]>`
        WITH seq AS (
          SELECT nextval('action_credits_id_seq') AS id
        ), targets AS (
          SELECT x.b AS board_id, x.p AS period_key, x.s AS segment FROM jsonb_to_recordset(${targets}::jsonb) AS x(b text, p text, s text)
        ), cur AS (
          SELECT be.board_id, be.period_key, be.segment, be.score, be.reached_seq, least(${orig.delta}::bigint, be.score) AS taken
          FROM board_entries be JOIN targets t USING (board_id, period_key, segment)
          WHERE be.player_id = ${orig.playerId}
        ), p AS (
          UPDATE players SET score = score - ${taken}, reached_seq = seq.id, score_reached_at = clock_timestamp(), updated_at = clock_timestamp()
          FROM seq WHERE players.id = ${orig.playerId}
          RETURNING players.score
        ), lowered AS (
          UPDATE board_entries be SET score = be.score - cur.taken, reached_seq = seq.id
          FROM cur, seq
          WHERE be.board_id = cur.board_id AND be.period_key = cur.period_key AND be.segment = cur.segment AND be.player_id = ${orig.playerId}
            AND cur.score > cur.taken
          RETURNING be.board_id, be.period_key, be.segment, be.score, cur.score AS old_score, cur.reached_seq AS old_seq
        ), emptied AS (
          DELETE FROM board_entries be USING cur
          WHERE be.board_id = cur.board_id AND be.period_key = cur.period_key AND be.segment = cur.segment AND be.player_id = ${orig.playerId}
            AND cur.score <= cur.taken
          RETURNING be.board_id, be.period_key, be.segment, 0::bigint AS score, cur.score AS old_score, cur.reached_seq AS old_seq
        ), c AS (
          INSERT INTO action_credits (id, player_id, action_id, action_type, delta, old_score, new_score, created_at, issued_at, entries, kind, voids, actor, reason)
          SELECT seq.id, ${orig.playerId}, ${randomUUID()}::uuid, ${orig.actionType}, ${-taken}, p.score + ${taken}, p.score, clock_timestamp(), ${orig.issuedAt},
            ${JSON.stringify(orig.entries)}::jsonb, 'VOID', ${actionId}::uuid, ${operator.playerId}, ${reason}
          FROM seq, p
          RETURNING id
        )
        SELECT (SELECT id FROM c) AS id,
          (SELECT coalesce(json_agg(json_build_array(board_id, period_key, segment, score::text, old_score::text, old_seq::text)), '[]'::json)
             FROM (SELECT * FROM lowered UNION ALL SELECT * FROM emptied) AS e) AS entries`;
      return { orig, taken, id: row!.id, entries: row!.entries };
    });
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
    // A concurrent void of the same action won: this one is its replay.
    const winner = await findVoid(services, actionId);
    if (winner) return winner;
    throw error;
  }
  if (!outcome) throw new AppError('NOT_FOUND', 'No credited action with this id');
  const { orig, taken, id, entries } = outcome;
  services.metrics.moderationActions.inc({ kind: 'VOID' });
  services.logger.info({ actor: operator.playerId, actionId, player: orig.playerId, delta: -taken, reason }, 'action voided');
  await followEntries(
    services,
    orig.playerId,
    entries.map(([board, period, segment, score, oldScore, oldSeq]) => ({
      view: { board, period, segment: segment === '' ? null : segment },
      // Live standings: the player moves down (or leaves an entry brought to zero). A hidden player is on no
      // board: the views are named without a move (their own standing subscribers re-read).
      move: orig.hidden ? undefined : { from: { score: Number(oldScore), seq: Number(oldSeq) }, to: Number(score) > 0 ? { score: Number(score), seq: Number(id) } : null },
      apply: async (view) => {
        if (orig.hidden) return false;
        const entry = { playerId: orig.playerId, username: orig.username, score: Number(score), reachedSeq: Number(id) };
        await services.ranking.apply(view, entry);
        return true;
      },
    })),
  );
  return { actionId, scoreDelta: -taken, replayed: false, playerId: orig.playerId };
}

async function findVoid(services: Services, actionId: string): Promise<VoidResult | undefined> {
  const [row] = await services.prisma.$queryRaw<{ delta: number; playerId: string }[]>`
    SELECT delta, player_id AS "playerId" FROM action_credits WHERE voids = ${actionId}::uuid`;
  return row ? { actionId, scoreDelta: row.delta, replayed: true, playerId: row.playerId } : undefined;
}

/**
 * Rebuilds cached standings from Postgres: every warm view of the board (all
 * boards when null) and its current period, each swapped in whole.
 */
export async function rebuildRankings(services: Services, operator: PlayerIdentity, boardId: string | null): Promise<number> {
  const boards = boardId === null ? await services.definitions.list() : [await services.definitions.get(boardId)].filter((b) => b !== undefined);
  if (boardId !== null && boards.length === 0) throw new AppError('NOT_FOUND', `No board "${boardId}"`);
  const ids = new Set(boards.map((b) => b.id));
  const views = new Map<string, ResolvedView>();
  const add = (board: (typeof boards)[number], period: string, segment: string | null) => {
    const view: ResolvedView = { board: board.id, period, segment, periodInfo: periodByKey(board, period) };
    views.set(`${board.id}|${period}|${segment ?? ''}`, view);
  };
  for (const v of await services.rankingCache.warmViews()) {
    const board = boards.find((b) => b.id === v.board);
    if (board && ids.has(v.board)) add(board, v.period, v.segment);
  }
  for (const board of boards) {
    const period = currentPeriod(board).key;
    const segments = await services.prisma.$queryRaw<{ segment: string }[]>`
      SELECT DISTINCT segment FROM board_entries WHERE board_id = ${board.id} AND period_key = ${period} AND NOT hidden`;
    for (const { segment } of segments) add(board, period, segment === '' ? null : segment);
  }
  const ttl = services.config.actionToken.ttlSeconds;
  let rebuilt = 0;
  for (const view of views.values()) {
    if (isFinal(view.periodInfo, ttl, Date.now())) continue;
    await services.ranking.scheduleRebuild(view, 'operator');
    rebuilt += 1;
  }
  await recordAuditEvent(services.prisma, { kind: 'REBUILD', actor: operator.playerId, detail: { board: boardId, views: rebuilt } });
  services.metrics.moderationActions.inc({ kind: 'REBUILD' });
  services.logger.info({ actor: operator.playerId, board: boardId, views: rebuilt }, 'rankings rebuilt by an operator');
  return rebuilt;
}
