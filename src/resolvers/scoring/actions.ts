import type { PlayerIdentity } from '../../auth/player-jwt.js';
import { AppError, badInput, forbidden, invalidActionToken } from '../../errors.js';
import type { Services } from '../../services.js';
import { GLOBAL_BOARD, type BoardDefinition } from '../boards/definitions.js';
import { periodByKey } from '../boards/periods.js';
import type { ResolvedView } from '../boards/ranking.js';
import { viewId, type CachedStanding } from '../boards/ranking-cache.js';
import { ticketExpired } from './action-ticket.js';
import { checkActionTypeCode } from './action-types.js';
import { creditAction, findCredit, planCredit, type AppliedCredit, type CreditOutcome, type CreditUnlock } from './credit.js';
import { UNIQUE_VIOLATION, sqlState } from '../../db/sql-runner.js';

/**
 * Tamper-proof scoring. A player gains only the points the server's table
 * grants, for an action the server issued to them, exactly once, on every
 * board the action counts on.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
/** A definition changed between planning and crediting this many times in a row: give up (retryable). */
const MAX_PLANS = 3;

export interface SubmitActionInput {
  actionId: string;
  actionType: string;
  token: string;
}

/** A player's standing on one board view, with the board and period it belongs to. */
export interface StandingResult {
  board: BoardDefinition;
  view: ResolvedView;
  standing: CachedStanding;
}

export interface SubmitActionResult {
  actionId: string;
  scoreDelta: number;
  newScore: number;
  rank: number;
  seq: number;
  replayed: boolean;
  /** Every board/period/segment the credit landed on, as the player stands there now. */
  standings: StandingResult[];
  /** Achievements this credit unlocked (a replay: the ones the original credit unlocked). */
  unlocked: CreditUnlock[];
  /** The player right after this action (for a replay: as they are now). */
  player: { id: string; username: string; score: number; reachedSeq: number; rank: number; hidden: boolean; banned: boolean };
}

export async function issueActionToken(services: Services, viewer: PlayerIdentity, actionType: string) {
  await services.actionTypes.enabled(actionType);
  await enforceLimit(services, 'ticket', viewer.playerId);
  await services.players.ensure(viewer);
  if (await services.players.banned(viewer.playerId)) throw playerBanned();
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

  // The replay lookup is part of the credit statement. A refusal before it is
  // checked against the audit first: a retry of an action applied earlier gets
  // its original outcome even after the ticket expired, the type was disabled
  // or the quota filled up.
  const refuseUnlessApplied = async (refusal: unknown): Promise<SubmitActionResult> => {
    const previous = await findCredit(services.sql, input.actionId);
    if (!previous) throw refusal;
    return replayOutcome(services, viewer, input, previous);
  };
  try {
    if (ticket.expired) throw ticketExpired();
    const type = await services.actionTypes.enabled(input.actionType);
    if (Date.now() - ticket.issuedAtMs < type.minSeconds * 1000) {
      throw new AppError('ACTION_TOO_FAST', `Actions of type ${type.code} take at least ${type.minSeconds}s`);
    }
    await enforceLimit(services, 'action', viewer.playerId);
  } catch (refusal) {
    if (!(refusal instanceof AppError)) throw refusal;
    return refuseUnlessApplied(refusal);
  }
  await services.players.ensure(viewer);

  let outcome: CreditOutcome | undefined;
  let plan;
  let boards: BoardDefinition[] = [];
  try {
    for (let attempt = 0; attempt < MAX_PLANS; attempt++) {
      if (attempt > 0) services.definitions.invalidate();
      // The period is picked by the ticket's issue time: a ticket issued before a
      // boundary and redeemed after it counts in the earlier period.
      boards = await services.definitions.list();
      plan = planCredit(boards, input.actionType, ticket.issuedAtMs, viewer.attributes);
      outcome = await creditAction(services.sql, {
        playerId: viewer.playerId,
        actionId: input.actionId,
        actionType: input.actionType,
        issuedAt: new Date(ticket.issuedAtMs),
        plan,
      });
      if (outcome.kind !== 'stale') break;
    }
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
    // Lost the race against a concurrent copy of the same ticket: that one applied it.
    const winner = await findCredit(services.sql, input.actionId);
    if (!winner) throw error;
    return replayOutcome(services, viewer, input, winner);
  }
  if (outcome?.kind === 'applied-before') return replayOutcome(services, viewer, input, outcome.credit);
  if (!outcome || outcome.kind === 'stale') {
    throw new AppError('SERVICE_UNAVAILABLE', 'Board definitions kept changing; safe to retry (nothing was credited)');
  }
  if (outcome.kind === 'unknown-type') {
    services.actionTypes.invalidate();
    throw new AppError('UNKNOWN_ACTION_TYPE', `Unknown action type "${input.actionType}"`);
  }
  if (outcome.kind === 'banned') throw playerBanned();
  if (outcome.kind === 'no-player') {
    // ensure() remembered a row that is gone (e.g. the database was restored): forget and let the client retry.
    services.players.forget(viewer.playerId);
    throw new AppError('SERVICE_UNAVAILABLE', 'The player record was not found; safe to retry (nothing was credited)');
  }

  services.metrics.actionsCredited.inc({ action_type: input.actionType });
  const { credit, entries, hidden } = outcome;
  const byKey = new Map(plan!.targets.map((t) => [`${t.board}|${t.period}|${t.segment ?? ''}`, t]));
  // The definitions the credit was planned (and version-checked) with.
  const definitions = new Map(boards.map((b) => [b.id, b]));
  const standings = await Promise.all(
    entries.map(async (e): Promise<StandingResult> => {
      const view = byKey.get(`${e.board}|${e.period}|${e.segment ?? ''}`)!;
      const entry = { playerId: viewer.playerId, username: viewer.username, score: e.score, reachedSeq: e.reachedSeq };
      const standing = await services.ranking.apply(view, entry, { hidden });
      return { board: definitions.get(e.board)!, view, standing };
    }),
  );
  // A hidden player's credit changes no board anyone else sees (their own live standing is not pushed while hidden).
  if (!hidden) {
    void services.ranking.publishChanged(
      standings.map((s) => s.view),
      entries.map((e) => ({
        view: viewId(byKey.get(`${e.board}|${e.period}|${e.segment ?? ''}`)!),
        player: viewer.playerId,
        from: e.before,
        to: { score: e.score, seq: e.reachedSeq },
      })),
    );
  }
  if (outcome.unlocked.length) void services.achievements.published(viewer.playerId, outcome.unlocked);
  const global = standings.find((s) => s.board.id === GLOBAL_BOARD);
  const rank = global?.standing.position ?? 0;
  const newScore = Number(credit.newScore);
  return {
    actionId: input.actionId,
    scoreDelta: credit.delta,
    newScore,
    rank,
    seq: global?.standing.seq ?? 0,
    replayed: false,
    standings: sortStandings(standings),
    unlocked: outcome.unlocked,
    player: { id: viewer.playerId, username: viewer.username, score: newScore, reachedSeq: Number(credit.id), rank, hidden, banned: false },
  };
}

/** The original outcome; standings are the player's standings now on the entries the credit touched. */
async function replayOutcome(services: Services, viewer: PlayerIdentity, input: SubmitActionInput, credit: AppliedCredit): Promise<SubmitActionResult> {
  if (credit.playerId !== viewer.playerId || credit.actionType !== input.actionType) {
    throw new AppError('ACTION_ALREADY_USED', 'This actionId was already used for another player or action type');
  }
  // Replays are answered without crediting, but each still costs reads: a generous quota of their own.
  await enforceLimit(services, 'replay', viewer.playerId);
  services.metrics.replays.inc();
  const player = await services.prisma.player.findUniqueOrThrow({ where: { id: viewer.playerId } });
  const standings: StandingResult[] = [];
  for (const e of credit.entries) {
    const board = await services.definitions.get(e.board);
    if (!board) continue;
    const periodInfo = periodByKey(board, e.period);
    const view: ResolvedView = { board: e.board, period: e.period, segment: e.segment, periodInfo };
    const standing = await services.ranking.standing(view, viewer.playerId, { hidden: player.hidden || player.banned });
    if (standing) standings.push({ board, view, standing });
  }
  const global = standings.find((s) => s.board.id === GLOBAL_BOARD);
  const rank = global?.standing.position ?? 0;
  return {
    actionId: input.actionId,
    scoreDelta: credit.delta,
    newScore: Number(credit.newScore),
    rank,
    seq: global?.standing.seq ?? 0,
    replayed: true,
    standings: sortStandings(standings),
    unlocked: await services.achievements.unlockedBy(input.actionId),
    player: { id: player.id, username: player.username, score: Number(player.score), reachedSeq: Number(player.reachedSeq), rank, hidden: player.hidden, banned: player.banned },
  };
}

/** `global` first, then by board id: a stable order for clients. */
function sortStandings(list: StandingResult[]): StandingResult[] {
  return list.sort((a, b) => (a.board.id === GLOBAL_BOARD ? -1 : b.board.id === GLOBAL_BOARD ? 1 : a.board.id.localeCompare(b.board.id)));
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

function playerBanned(): AppError {
  return new AppError('PLAYER_BANNED', 'This player is banned: no action tickets and no credits');
}

export function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string; meta?: { code?: string; driverAdapterError?: { cause?: { originalCode?: string; kind?: string } } } };
  return (
    sqlState(error) === UNIQUE_VIOLATION ||
    e?.code === 'P2002' ||
    e?.meta?.code === '23505' ||
    e?.meta?.driverAdapterError?.cause?.originalCode === '23505' ||
    e?.meta?.driverAdapterError?.cause?.kind === 'UniqueConstraintViolation'
  );
}
