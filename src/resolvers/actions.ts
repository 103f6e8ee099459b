import { ticketExpired } from '../auth/action-ticket.js';
import type { PlayerIdentity } from '../auth/player-jwt.js';
import { AppError, badInput, forbidden, invalidActionToken } from '../errors.js';
import type { Services } from '../services.js';
import type { BoardEntry } from '../adapters/ranking-cache.js';
import { checkActionTypeCode, enabledActionType } from './action-types.js';
import { ensurePlayer } from './players.js';
import { lastKnownSeq, noteSeq, publishBoardChanged, rankOf, scheduleRebuild } from './ranking.js';

/**
 * Tamper-proof scoring. A player gains only the points the server's table
 * grants, for an action the server issued to them, exactly once.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

export interface SubmitActionInput {
  actionId: string;
  actionType: string;
  token: string;
}

export interface SubmitActionResult {
  actionId: string;
  scoreDelta: number;
  newScore: number;
  rank: number;
  seq: number;
  replayed: boolean;
  /** The player right after this action (for a replay: as they are now). */
  player: { id: string; username: string; score: number; reachedSeq: number; rank: number };
}

export async function issueActionToken(services: Services, viewer: PlayerIdentity, actionType: string) {
  await enabledActionType(services, actionType);
  await enforceLimit(services, 'ticket', viewer.playerId);
  await ensurePlayer(services, viewer);
  const ticket = await services.tickets.issue(viewer.playerId, actionType);
  return { actionId: ticket.actionId, actionType, token: ticket.token, expiresAt: new Date(ticket.expiresAtMs) };
}

export async function submitAction(services: Services, viewer: PlayerIdentity, input: SubmitActionInput): Promise<SubmitActionResult> {
  if (!UUID.test(input.actionId)) throw badInput('actionId must be a UUID');
  checkActionTypeCode(input.actionType);
  if (input.token.length > 4096) throw invalidActionToken();

  const ticket = await services.tickets.verify(input.token);
  if (ticket.playerId !== viewer.playerId) throw forbidden('This action ticket was issued to another player');
  if (ticket.actionType !== input.actionType || ticket.actionId !== input.actionId) {
    throw invalidActionToken('The action ticket does not match actionType/actionId');
  }

  // A retry of an action already applied gets its original outcome, even after the ticket expired.
  const previous = await findCredit(services, input.actionId);
  if (previous) {
    // Replays are answered without crediting, but each still costs reads: a generous quota of their own.
    await enforceLimit(services, 'replay', viewer.playerId);
    return replayOutcome(services, viewer, input, previous);
  }

  if (ticket.expired) throw ticketExpired();
  const type = await enabledActionType(services, input.actionType);
  if (Date.now() - ticket.issuedAtMs < type.minSeconds * 1000) {
    throw new AppError('ACTION_TOO_FAST', `Actions of type ${type.code} take at least ${type.minSeconds}s`);
  }
  await enforceLimit(services, 'action', viewer.playerId);
  await ensurePlayer(services, viewer);

  let credit: CreditRow | undefined;
  try {
    credit = await creditAction(services, viewer.playerId, input.actionId, input.actionType);
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
    // Lost the race against a concurrent copy of the same ticket: that one applied it.
    const winner = await findCredit(services, input.actionId);
    if (!winner) throw error;
    return replayOutcome(services, viewer, input, winner);
  }
  if (!credit) throw new AppError('UNKNOWN_ACTION_TYPE', `Unknown action type "${input.actionType}"`);

  services.metrics.actionsCredited.inc({ action_type: input.actionType });
  const entry = { playerId: viewer.playerId, username: viewer.username, score: Number(credit.new_score), reachedSeq: Number(credit.id) };
  const { seq, rank } = await applyToCache(services, entry);
  void publishBoardChanged(services, seq);
  return {
    actionId: input.actionId,
    scoreDelta: credit.delta,
    newScore: entry.score,
    rank,
    seq,
    replayed: false,
    player: { id: entry.playerId, username: entry.username, score: entry.score, reachedSeq: entry.reachedSeq, rank },
  };
}

interface CreditRow {
  id: bigint;
  player_id: string;
  action_type: string;
  delta: number;
  old_score: bigint;
  new_score: bigint;
}

/**
 * The credit, as ONE statement (one round trip, one transaction): lock and bump
 * the player's score by the server's points, then write the audit row with the
 * old and new score. The unique index on action_id is the final exactly-once
 * guard: a duplicate fails the whole statement and nothing is written.
 * The credit id is drawn after the row lock, so for one player a higher id
 * always means a higher score, and across players it orders who got there first.
 */
async function creditAction(services: Services, playerId: string, actionId: string, actionType: string) {
  const rows = await services.prisma.$queryRaw<CreditRow[]>`
    WITH t AS (
      SELECT points FROM action_types WHERE code = ${actionType} AND enabled
    ), p AS (
      UPDATE players SET
        score = players.score + t.points,
        reached_seq = nextval('action_credits_id_seq'),
        score_reached_at = clock_timestamp(),
        updated_at = clock_timestamp()
      FROM t
      WHERE players.id = ${playerId}
      RETURNING players.id, players.score, players.reached_seq, players.score_reached_at, t.points
    )
    INSERT INTO action_credits (id, player_id, action_id, action_type, delta, old_score, new_score, created_at)
    SELECT p.reached_seq, p.id, ${actionId}::uuid, ${actionType}, p.points, p.score - p.points, p.score, p.score_reached_at
    FROM p
    RETURNING id, player_id, action_type, delta, old_score, new_score`;
  return rows[0];
}

/** The credit of an action, if applied. On every submit, hence plain SQL (a model query costs more CPU). */
async function findCredit(services: Services, actionId: string) {
  const rows = await services.prisma.$queryRaw<{ playerId: string; actionType: string; delta: number; newScore: bigint }[]>`
    SELECT player_id AS "playerId", action_type AS "actionType", delta, new_score AS "newScore"
    FROM action_credits WHERE action_id = ${actionId}::uuid`;
  return rows[0];
}

async function replayOutcome(
  services: Services,
  viewer: PlayerIdentity,
  input: SubmitActionInput,
  credit: { playerId: string; actionType: string; delta: number; newScore: bigint },
): Promise<SubmitActionResult> {
  if (credit.playerId !== viewer.playerId || credit.actionType !== input.actionType) {
    throw new AppError('ACTION_ALREADY_USED', 'This actionId was already used for another player or action type');
  }
  services.metrics.replays.inc();
  const player = await services.prisma.player.findUniqueOrThrow({ where: { id: viewer.playerId } });
  const current = { id: player.id, username: player.username, score: Number(player.score), reachedSeq: Number(player.reachedSeq) };
  const rank = await rankOf(services, { playerId: current.id, score: current.score, reachedSeq: current.reachedSeq });
  let seq = lastKnownSeq(services);
  try {
    seq = noteSeq(services, (await services.rankingCache.seq()) ?? seq);
  } catch {
    // keep the last known one
  }
  return {
    actionId: input.actionId,
    scoreDelta: credit.delta,
    newScore: Number(credit.newScore),
    rank,
    seq,
    replayed: true,
    player: { ...current, rank },
  };
}

/**
 * After commit: update the cache (one round trip gives seq and rank). If it is
 * cold or down, Postgres already has the truth: rank comes from Postgres and a
 * rebuild catches the cache up.
 */
async function applyToCache(services: Services, entry: BoardEntry): Promise<{ seq: number; rank: number }> {
  try {
    let applied = await services.rankingCache.apply(entry);
    if (!applied) {
      await scheduleRebuild(services, 'cold');
      applied = await services.rankingCache.apply(entry);
    }
    if (applied) return { seq: noteSeq(services, applied.seq), rank: applied.rank };
  } catch (error) {
    services.logger.warn({ err: (error as Error).message }, 'ranking cache update failed; will rebuild');
    void scheduleRebuild(services, 'apply-failed');
  }
  return { seq: lastKnownSeq(services), rank: await rankOf(services, entry) };
}

const LIMITERS = {
  action: { limiter: (s: Services) => s.actionLimiter, what: 'actions' },
  ticket: { limiter: (s: Services) => s.ticketLimiter, what: 'action tickets' },
  replay: { limiter: (s: Services) => s.replayLimiter, what: 'retries of applied actions' },
} as const;

async function enforceLimit(services: Services, limiter: keyof typeof LIMITERS, playerId: string) {
  const result = await LIMITERS[limiter].limiter(services).consume(playerId);
  if (result.allowed) return;
  services.metrics.rateLimited.inc({ limiter });
  throw new AppError('RATE_LIMITED', `Too many ${LIMITERS[limiter].what}; retry in ${result.retryAfter}s`, {
    retryAfter: result.retryAfter,
  });
}

function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string; meta?: { code?: string; driverAdapterError?: { cause?: { originalCode?: string; kind?: string } } } };
  return (
    e?.code === 'P2002' ||
    e?.meta?.code === '23505' ||
    e?.meta?.driverAdapterError?.cause?.originalCode === '23505' ||
    e?.meta?.driverAdapterError?.cause?.kind === 'UniqueConstraintViolation'
  );
}
