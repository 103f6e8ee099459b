import type { Context } from '../context.js';
import { badInput } from '../errors.js';
import type { BoardDefinition } from '../resolvers/boards/definitions.js';
import { GLOBAL_BOARD } from '../resolvers/boards/definitions.js';
import type { ResolvedView } from '../resolvers/boards/ranking.js';
import { MAX_BOARD_SIZE, type CachedStanding, type RankedEntry } from '../resolvers/boards/ranking-cache.js';
import { resolveView, type OwnSegment, type ViewArgs } from '../resolvers/boards/views.js';
import { pageToLeaderboard, rankIn, type Leaderboard, type RankMode } from '../resolvers/live/leaderboard.js';
import { BoardRef, PeriodRef, RankModeEnum, withTtl } from './board.js';
import { builder } from './builder.js';
import { PlayerRef } from './player.js';

const MAX_OFFSET = 100_000;
const MAX_AROUND = 50;

interface EntryShape extends RankedEntry {
  rankMode: RankMode;
  board: string;
  /** Position is the player's global rank (a global board page, not a friends board): the row is the player. */
  globalRow: boolean;
}

const LeaderboardEntryRef = builder.objectRef<EntryShape>('LeaderboardEntry').implement({
  description: 'One row of a leaderboard.',
  fields: (t) => ({
    position: t.exposeInt('position', { description: '1-based, unique: score descending, then who reached that score first on this board and period.' }),
    rank: t.int({ description: 'Rank by the requested rankMode (ORDINAL = position).', resolve: (e) => rankIn(e, e.rankMode) }),
    score: t.field({ type: 'SafeInt', description: "The player's score on this board and period.", resolve: (e) => e.score }),
    player: t.field({
      type: PlayerRef,
      description: 'The player on this row.',
      // On the global board the row is the player's all-time state: synchronous, no database round trip
      // (the shared live fan-out executes once per board, and stays synchronous for the global board).
      resolve: (e, _args, ctx) =>
        e.globalRow
          ? ({ id: e.playerId, username: e.username, score: BigInt(e.score), reachedSeq: BigInt(e.reachedSeq), rank: e.position } as never)
          : (ctx.loadPlayer(e.playerId).then((p) => p ?? { id: e.playerId, username: e.username, score: 0n, reachedSeq: 0n }) as never),
    }),
  }),
});

export const LeaderboardRef = builder.objectRef<Leaderboard>('Leaderboard').implement({
  description: 'One page of a board, period and segment, at one version.',
  fields: (t) => ({
    board: t.field({ type: BoardRef, description: 'The board.', resolve: (b) => b.board }),
    period: t.field({ type: PeriodRef, description: 'The period shown.', resolve: (b, _a, ctx) => withTtl(b.period, ctx.services.config.actionToken.ttlSeconds) }),
    segment: t.string({ nullable: true, description: 'The segment shown (segmented boards), else null.', resolve: (b) => b.segment }),
    totalPlayers: t.exposeInt('totalPlayers', { description: 'Players with an entry on this board, period and segment.' }),
    seq: t.field({
      type: 'SafeInt',
      description: 'Version of these entries: never decreases, is the same for the same board state on every instance, and changes whenever these entries change.',
      resolve: (b) => b.seq,
    }),
    entries: t.field({
      type: [LeaderboardEntryRef],
      description: 'Rows, best first.',
      resolve: (b) => b.entries.map((e) => ({ ...e, rankMode: b.rankMode, board: b.board.id, globalRow: b.board.id === GLOBAL_BOARD && !b.friendsOnly })),
    }),
    updatedAt: t.field({ type: 'DateTime', description: 'When this snapshot was read.', resolve: (b) => b.updatedAt }),
  }),
});

/** A standing together with what it is a standing on. */
export interface StandingShape {
  board: BoardDefinition;
  view: ResolvedView;
  standing: CachedStanding;
  rankMode: RankMode;
}

export const StandingRef = builder.objectRef<StandingShape>('Standing').implement({
  description: "A player's place on one board, period and segment.",
  fields: (t) => ({
    board: t.field({ type: BoardRef, description: 'The board.', resolve: (s) => s.board }),
    period: t.field({ type: PeriodRef, description: 'The period.', resolve: (s, _a, ctx) => withTtl(s.view.periodInfo, ctx.services.config.actionToken.ttlSeconds) }),
    segment: t.string({ nullable: true, description: 'The segment, on segmented boards.', resolve: (s) => s.view.segment }),
    rank: t.int({ description: 'Rank by the requested rankMode.', resolve: (s) => rankIn(s.standing, s.rankMode) }),
    position: t.int({ description: '1-based position (unique).', resolve: (s) => s.standing.position }),
    score: t.field({ type: 'SafeInt', description: 'Score on this board and period.', resolve: (s) => s.standing.score }),
    totalPlayers: t.int({ description: 'Players with an entry here.', resolve: (s) => s.standing.total }),
    seq: t.field({ type: 'SafeInt', description: 'Version of this board view when read.', resolve: (s) => s.standing.seq }),
  }),
});

export function checkFirst(first: number | null | undefined, fallback = 10): number {
  const n = first ?? fallback;
  if (!Number.isInteger(n) || n < 1 || n > MAX_BOARD_SIZE) throw badInput(`first must be between 1 and ${MAX_BOARD_SIZE}`);
  return n;
}

function checkRange(name: string, value: number | null | undefined, fallback: number, max: number): number {
  const n = value ?? fallback;
  if (!Number.isInteger(n) || n < 0 || n > max) throw badInput(`${name} must be between 0 and ${max}`);
  return n;
}

export function viewArgsOf(args: { board?: string | number | null; period?: string | null; segment?: string | null }): ViewArgs {
  return { board: args.board == null ? null : String(args.board), period: args.period, segment: args.segment };
}

/** The caller's own attribute value, from their verified JWT (UNAUTHENTICATED without one). */
export function viewerSegment(ctx: Context): OwnSegment {
  return async (attribute) => (await ctx.viewer()).attributes[attribute] ?? null;
}

const FIRST_DESCRIPTION = `How many rows (1..${MAX_BOARD_SIZE}).`;

builder.queryFields((t) => ({
  leaderboard: t.field({
    type: LeaderboardRef,
    description: 'A page of a board (default: the top 10 of the global board).',
    args: {
      board: t.arg.id({ defaultValue: GLOBAL_BOARD, description: 'Board id (default "global").' }),
      period: t.arg.string({ description: 'A period key from Board.periods; null: the current period.' }),
      segment: t.arg.string({ description: "Segmented boards: the segment; null: the viewer's own." }),
      first: t.arg.int({ defaultValue: 10, description: FIRST_DESCRIPTION }),
      offset: t.arg.int({ defaultValue: 0, description: `Rows to skip (0..${MAX_OFFSET}).` }),
      rankMode: t.arg({ type: RankModeEnum, defaultValue: 'ORDINAL', description: 'How ranks count ties.' }),
    },
    resolve: async (_root, args, ctx) => {
      const first = checkFirst(args.first);
      const offset = checkRange('offset', args.offset, 0, MAX_OFFSET);
      const { board, view } = await resolveView(ctx.services.definitions, viewArgsOf(args), viewerSegment(ctx));
      const page = await ctx.services.ranking.page(view, offset, first);
      return pageToLeaderboard(board, view, page, first, args.rankMode ?? 'ORDINAL');
    },
  }),
  leaderboardAround: t.field({
    type: LeaderboardRef,
    description: 'The entries around a player (default: the viewer), shifted at either end so the window is full and holds the player; a player with no entry gets the top.',
    args: {
      board: t.arg.id({ defaultValue: GLOBAL_BOARD, description: 'Board id (default "global").' }),
      period: t.arg.string({ description: 'A period key from Board.periods; null: the current period.' }),
      segment: t.arg.string({ description: "Segmented boards: the segment; null: the viewer's own." }),
      player: t.arg.id({ description: 'Default: the viewer (needs a JWT).' }),
      above: t.arg.int({ defaultValue: 5, description: `Rows above the player (0..${MAX_AROUND}).` }),
      below: t.arg.int({ defaultValue: 5, description: `Rows below the player (0..${MAX_AROUND}).` }),
      rankMode: t.arg({ type: RankModeEnum, defaultValue: 'ORDINAL', description: 'How ranks count ties.' }),
    },
    resolve: async (_root, args, ctx) => {
      const above = checkRange('above', args.above, 5, MAX_AROUND);
      const below = checkRange('below', args.below, 5, MAX_AROUND);
      const playerId = args.player != null ? String(args.player) : (await ctx.viewer()).playerId;
      if (playerId.length > 128) throw badInput('player id is too long');
      const { board, view } = await resolveView(ctx.services.definitions, viewArgsOf(args), viewerSegment(ctx));
      const page = await ctx.services.ranking.around(view, playerId, above, below);
      return pageToLeaderboard(board, view, { ...page, prefixSeqs: [] }, above + below + 1, args.rankMode ?? 'ORDINAL');
    },
  }),
}));

builder.subscriptionField('leaderboardChanged', (t) =>
  t.field({
    type: LeaderboardRef,
    description:
      'The top `first` of a board, live: the current board at once, then a new one whenever it changes (a lone change at once; bursts coalesced, the last event always the final state). With `period: null` it follows the current period.',
    args: {
      board: t.arg.id({ defaultValue: GLOBAL_BOARD, description: 'Board id (default "global").' }),
      period: t.arg.string({ description: 'A period key from Board.periods; null: the current period.' }),
      segment: t.arg.string({ description: "Segmented boards: the segment; null: the viewer's own." }),
      first: t.arg.int({ defaultValue: 10, description: FIRST_DESCRIPTION }),
      rankMode: t.arg({ type: RankModeEnum, defaultValue: 'ORDINAL', description: 'How ranks count ties.' }),
    },
    subscribe: async (_root, args, ctx) => {
      const first = checkFirst(args.first);
      const { board, view } = await resolveView(ctx.services.definitions, viewArgsOf(args), viewerSegment(ctx));
      return ctx.services.boardFeed.subscribe({ board: board.id, period: args.period ?? null, segment: view.segment, first, rankMode: args.rankMode ?? 'ORDINAL' }, ctx.signal);
    },
    resolve: (board: Leaderboard) => board,
  }),
);
