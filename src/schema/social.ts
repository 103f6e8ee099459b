import { badInput } from '../errors.js';
import { GLOBAL_BOARD } from '../resolvers/boards/definitions.js';
import { resolveView } from '../resolvers/boards/views.js';
import type { StandingEvent } from '../resolvers/live/standing-feed.js';
import { ACHIEVEMENT_KINDS, type AchievementDefinition, type PlayerAchievementState } from '../resolvers/social/achievements.js';
import { acceptFriend, friendsStandings, listFriends, removeFriend, requestFriend, type FriendshipResult } from '../resolvers/social/friends.js';
import { BoardRef, RankModeEnum } from './board.js';
import { builder } from './builder.js';
import { checkFirst, LeaderboardRef, StandingRef, viewArgsOf, viewerSegment } from './leaderboard.js';
import { PlayerRef } from './player.js';

/** Players' social layer: friends, friends boards, achievements, and the viewer's own live standing and unlocks. */

// ---------------------------------------------------------------------------
// Friends

const FriendshipStatusEnum = builder.enumType('FriendshipStatus', {
  description: 'PENDING_OUT: the viewer asked; PENDING_IN: the other player asked the viewer; ACCEPTED: friends (mutual).',
  values: { PENDING_OUT: { value: 'PENDING_OUT' }, PENDING_IN: { value: 'PENDING_IN' }, ACCEPTED: { value: 'ACCEPTED' } } as const,
});

const FriendshipRef = builder.objectRef<FriendshipResult>('Friendship').implement({
  description: "The viewer's friendship with one other player.",
  fields: (t) => ({
    player: t.field({
      type: PlayerRef,
      description: 'The other player.',
      resolve: async (f, _args, ctx) => (await ctx.loadPlayer(f.playerId)) as never,
    }),
    status: t.field({ type: FriendshipStatusEnum, description: 'Where the friendship stands, seen from the viewer.', resolve: (f) => f.status }),
    since: t.field({ type: 'DateTime', description: 'When it reached its current status.', resolve: (f) => f.since }),
  }),
});

builder.mutationFields((t) => ({
  requestFriend: t.field({
    type: FriendshipRef,
    description:
      'Asks a player to be friends (needs a JWT); accepts instead when that player already asked the viewer. Yourself: BAD_USER_INPUT; unknown, hidden or banned: NOT_FOUND; at most 1,000 friends (BAD_USER_INPUT).',
    args: { player: t.arg.id({ required: true, description: "The other player's id." }) },
    resolve: async (_root, args, ctx) => requestFriend(ctx.services, await ctx.viewer(), String(args.player)),
  }),
  acceptFriend: t.field({
    type: FriendshipRef,
    description: 'Accepts a pending request from that player (needs a JWT); NOT_FOUND without one.',
    args: { player: t.arg.id({ required: true, description: "The other player's id." }) },
    resolve: async (_root, args, ctx) => acceptFriend(ctx.services, await ctx.viewer(), String(args.player)),
  }),
  removeFriend: t.boolean({
    description: 'Ends a friendship, or declines or withdraws a request (needs a JWT); false when there was nothing to remove.',
    args: { player: t.arg.id({ required: true, description: "The other player's id." }) },
    resolve: async (_root, args, ctx) => removeFriend(ctx.services, await ctx.viewer(), String(args.player)),
  }),
}));

builder.queryFields((t) => ({
  friends: t.field({
    type: [FriendshipRef],
    description: "The viewer's friendships of every status, accepted first (needs a JWT). Hidden and banned players do not appear.",
    resolve: async (_root, _args, ctx) => listFriends(ctx.services, await ctx.viewer()),
  }),
  friendsLeaderboard: t.field({
    type: LeaderboardRef,
    description:
      'The viewer and their accepted friends on a board, ranked within that set (needs a JWT). Its cost grows with the friend count, never with the board. Hidden and banned players do not appear.',
    args: {
      board: t.arg.id({ defaultValue: GLOBAL_BOARD, description: 'Board id (default "global").' }),
      period: t.arg.string({ description: 'A period key from Board.periods; null: the current period.' }),
      first: t.arg.int({ defaultValue: 100, description: 'How many rows (1..100).' }),
      rankMode: t.arg({ type: RankModeEnum, defaultValue: 'ORDINAL', description: 'How ranks count ties (within the friends).' }),
    },
    resolve: async (_root, args, ctx) => {
      const viewer = await ctx.viewer();
      const first = checkFirst(args.first, 100);
      // Segmented boards: the viewer's own segment.
      const { board, view } = await resolveView(ctx.services.definitions, viewArgsOf({ board: args.board, period: args.period }), viewerSegment(ctx));
      const [{ entries, total }, seq] = await Promise.all([friendsStandings(ctx.services, viewer, view), ctx.services.ranking.viewSeq(view)]);
      return {
        board,
        period: view.periodInfo,
        segment: view.segment,
        seq,
        totalPlayers: total,
        entries: entries.slice(0, first),
        rankMode: args.rankMode ?? 'ORDINAL',
        updatedAt: new Date(),
        friendsOnly: true,
      };
    },
  }),
}));

// ---------------------------------------------------------------------------
// Achievements

const AchievementKindEnum = builder.enumType('AchievementKind', {
  description:
    'SCORE_AT_LEAST: score on the board (current period) >= threshold; ACTION_COUNT: credited actions of actionType >= threshold; RANK_AT_MOST: position <= threshold on the board (ALL_TIME: when reached; windowed: when a period becomes final).',
  values: Object.fromEntries(ACHIEVEMENT_KINDS.map((k) => [k, { value: k }])) as Record<(typeof ACHIEVEMENT_KINDS)[number], { value: (typeof ACHIEVEMENT_KINDS)[number] }>,
});

export const AchievementRef = builder.objectRef<AchievementDefinition>('Achievement').implement({
  description: 'A goal defined by operators and evaluated by the server; each player unlocks it at most once.',
  fields: (t) => ({
    code: t.exposeString('code', { description: 'Identifier: [A-Z][A-Z0-9_]{0,39}.' }),
    title: t.exposeString('title', { description: 'Display title.' }),
    description: t.exposeString('description', { description: 'What it takes, for players.' }),
    kind: t.field({ type: AchievementKindEnum, description: 'What is measured.', resolve: (a) => a.kind }),
    board: t.field({
      type: BoardRef,
      description: 'The board it is measured on (ACTION_COUNT: the board it is listed with).',
      resolve: async (a, _args, ctx) => ctx.services.definitions.require(a.board),
    }),
    threshold: t.exposeInt('threshold', { description: 'The score, count or position to reach (>= 1).' }),
    actionType: t.string({ nullable: true, description: 'ACTION_COUNT: the action type counted; else null.', resolve: (a) => a.actionType }),
    enabled: t.exposeBoolean('enabled', { description: 'Disabled achievements are not evaluated and not listed for players.' }),
  }),
});

const PlayerAchievementRef = builder.objectRef<PlayerAchievementState>('PlayerAchievement').implement({
  description: "One player's progress on one achievement.",
  fields: (t) => ({
    achievement: t.field({ type: AchievementRef, description: 'The achievement.', resolve: (p) => p.achievement }),
    progress: t.exposeInt('progress', {
      description: 'Progress towards the target, capped at it: best score this period, actions counted; RANK_AT_MOST: the target once unlocked, else 0.',
    }),
    target: t.exposeInt('target', { description: 'The threshold to reach.' }),
    unlockedAt: t.field({ type: 'DateTime', nullable: true, description: 'When it was unlocked; null: not yet.', resolve: (p) => p.unlockedAt }),
  }),
});

builder.objectField(PlayerRef, 'achievements', (t) =>
  t.field({
    type: [PlayerAchievementRef],
    description: "Every enabled achievement with this player's progress, unlocked or not.",
    resolve: (p, _args, ctx) => ctx.services.achievements.forPlayer(p.id),
  }),
);

builder.queryField('achievements', (t) =>
  t.field({
    type: [AchievementRef],
    description: 'The enabled achievements.',
    resolve: (_root, _args, ctx) => ctx.services.achievements.list(),
  }),
);

const AchievementInput = builder.inputType('AchievementInput', {
  description: 'An achievement definition. Omitted fields keep their value on an update (or take the default on create).',
  fields: (t) => ({
    code: t.string({ required: true, description: 'Identifier: [A-Z][A-Z0-9_]{0,39}.' }),
    title: t.string({ description: 'Display title, 1..100 characters (default: the code).' }),
    description: t.string({ description: 'Up to 500 characters (default empty).' }),
    kind: t.field({ type: AchievementKindEnum, description: 'Required for a new achievement.' }),
    board: t.id({ description: 'An existing board (default "global").' }),
    threshold: t.int({ description: 'Required for a new achievement: >= 1 (RANK_AT_MOST: 1..10000).' }),
    actionType: t.string({ description: 'ACTION_COUNT only, and required there: an existing action type.' }),
    enabled: t.boolean({ description: 'Disabled achievements are not evaluated (default true).' }),
  }),
});

builder.mutationField('upsertAchievement', (t) =>
  t.field({
    type: AchievementRef,
    description: 'Creates or updates an achievement (operators only). Unknown board or action type, or a threshold below 1: BAD_USER_INPUT.',
    args: { input: t.arg({ type: AchievementInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const operator = await ctx.operator();
      const saved = await ctx.services.achievements.upsert(
        { ...input, board: input.board == null ? input.board : String(input.board) },
        (codes) => ctx.services.actionTypes.existing(codes),
        operator.playerId,
      );
      ctx.services.metrics.configChanges.inc({ what: 'achievement', source: 'mutation' });
      ctx.services.logger.info({ actor: operator.playerId, achievement: saved.code }, 'achievement upserted');
      return saved;
    },
  }),
);

// ---------------------------------------------------------------------------
// Live: the viewer's own standing and unlocks

const StandingChangeRef = builder.objectRef<StandingEvent>('StandingChange').implement({
  description: "The viewer's standing on one board view, sent first as it is, then whenever their rank changes.",
  fields: (t) => ({
    standing: t.field({
      type: StandingRef,
      nullable: true,
      description: "The viewer's standing now; null: no entry on this board view (yet).",
      resolve: (ev) => (ev.standing ? { board: ev.board, view: ev.view, standing: ev.standing, rankMode: ev.rankMode } : null),
    }),
    previousRank: t.int({ nullable: true, description: 'The rank in the previous event (null in the first event, or when there was no entry).', resolve: (ev) => ev.previousRank }),
    overtakenBy: t.field({
      type: [PlayerRef],
      description: 'Up to 5 players who moved above the viewer since the previous event, most recent last.',
      resolve: async (ev, _args, ctx) => {
        const players = await Promise.all(ev.overtakenBy.map((id) => ctx.loadPlayer(id)));
        return players.filter((p): p is NonNullable<typeof p> => p !== null && !p.hidden && !p.banned) as never;
      },
    }),
    seq: t.field({ type: 'SafeInt', description: 'Version of the board view when read.', resolve: (ev) => ev.seq }),
  }),
});

builder.subscriptionFields((t) => ({
  myStandingChanged: t.field({
    type: StandingChangeRef,
    description:
      "The viewer's own standing on a board view (needs a JWT, in connection_init over WebSocket): the current one at once, then an event whenever their rank changes, by their own action or by others passing them or falling behind.",
    args: {
      board: t.arg.id({ defaultValue: GLOBAL_BOARD, description: 'Board id (default "global").' }),
      period: t.arg.string({ description: 'A period key; null: the current period (followed across boundaries).' }),
      segment: t.arg.string({ description: "Segmented boards: the segment; null: the viewer's own." }),
      rankMode: t.arg({ type: RankModeEnum, defaultValue: 'ORDINAL', description: 'How ranks count ties.' }),
    },
    subscribe: async (_root, args, ctx) => {
      const viewer = await ctx.viewer();
      const { board, view } = await resolveView(ctx.services.definitions, viewArgsOf(args), viewerSegment(ctx));
      return ctx.services.standingFeed.subscribe(
        { playerId: viewer.playerId, board: board.id, period: args.period ?? null, segment: view.segment, rankMode: args.rankMode ?? 'ORDINAL' },
        ctx.signal,
      );
    },
    resolve: (ev: StandingEvent) => ev,
  }),
  achievementUnlocked: t.field({
    type: PlayerAchievementRef,
    description: "The viewer's own unlocks as they happen, on any instance (needs a JWT). Sends nothing until one happens.",
    subscribe: async (_root, _args, ctx) => {
      const viewer = await ctx.viewer();
      return ctx.services.achievementFeed.subscribe(viewer.playerId, ctx.signal);
    },
    resolve: async (notice: { player: string; code: string; unlockedAt: string }, _args, ctx) => {
      const achievement = (await ctx.services.achievements.byCodes([notice.code])).get(notice.code);
      if (!achievement) throw badInput(`Unknown achievement "${notice.code}"`);
      return { achievement, progress: achievement.threshold, target: achievement.threshold, unlockedAt: new Date(notice.unlockedAt) };
    },
  }),
}));
