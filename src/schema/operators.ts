import { OPERATOR_ROLE } from '../auth/player-jwt.js';
import { readAuditLog, type AuditEntryRow, type AuditPage } from '../resolvers/operators/audit.js';
import { changeVisibility, rebuildRankings, voidAction, type VisibilityChange, type VoidResult } from '../resolvers/operators/moderation.js';
import { SEARCH_MAX_LENGTH, SEARCH_MAX_RESULTS, searchPlayerIds } from '../resolvers/operators/search.js';
import { builder } from './builder.js';
import { PlayerRef } from './player.js';

/** Operator-only operations: moderation, voids, rebuilds and the audit log. */

const visibility: [name: string, change: VisibilityChange, description: string][] = [
  ['hidePlayer', 'HIDE', 'Takes a player off every board, period, around and friends view for everyone else (scores kept; reversible).'],
  ['unhidePlayer', 'UNHIDE', 'Puts a hidden player back on the boards (unless also banned).'],
  ['banPlayer', 'BAN', 'Hides a player and refuses their tickets and credits with PLAYER_BANNED, including tickets issued before the ban.'],
  ['unbanPlayer', 'UNBAN', 'Lifts a ban: the player scores again and is back on the boards (unless also hidden).'],
];

for (const [name, change, description] of visibility) {
  builder.mutationField(name, (t) =>
    t.prismaField({
      type: 'Player',
      description: `${description} Operators only; writes an audit row with the reason.`,
      args: {
        player: t.arg.id({ required: true, description: 'Player id.' }),
        reason: t.arg.string({ required: true, description: 'Why (required, 1..500 characters); kept in the audit log.' }),
      },
      resolve: async (_query, _root, { player, reason }, ctx) => changeVisibility(ctx.services, await ctx.operator(), String(player), change, reason),
    }),
  );
}

const VoidActionPayloadRef = builder.objectRef<VoidResult>('VoidActionPayload').implement({
  description: 'Outcome of voidAction.',
  fields: (t) => ({
    actionId: t.exposeID('actionId', { description: 'The action voided.' }),
    scoreDelta: t.exposeInt('scoreDelta', { description: 'The change applied to the all-time score: negative (-10 for a 10-point credit).' }),
    replayed: t.exposeBoolean('replayed', { description: 'True when the action had already been voided (nothing was subtracted this time).' }),
    player: t.prismaField({
      type: 'Player',
      description: 'The player whose credit it was, as they are now.',
      resolve: (query, v, _args, ctx) => ctx.services.prisma.player.findUniqueOrThrow({ ...query, where: { id: v.playerId } }),
    }),
  }),
});

builder.mutationField('voidAction', (t) =>
  t.field({
    type: VoidActionPayloadRef,
    description:
      'Takes back one credited action: subtracts it from the all-time score and every board entry it touched, as a compensating audit row (never a delete). A second call is a replay. Operators only.',
    args: {
      actionId: t.arg.id({ required: true, description: 'The actionId of the credit (UUID).' }),
      reason: t.arg.string({ required: true, description: 'Why (required, 1..500 characters); kept in the audit log.' }),
    },
    resolve: async (_root, { actionId, reason }, ctx) => voidAction(ctx.services, await ctx.operator(), String(actionId), reason),
  }),
);

builder.mutationField('rebuildRankings', (t) =>
  t.boolean({
    description: 'Rebuilds the cached standings of a board (null: every board) from Postgres, each view swapped in whole. Operators only.',
    args: { board: t.arg.id({ description: 'Board id; null: all boards.' }) },
    resolve: async (_root, { board }, ctx) => {
      await rebuildRankings(ctx.services, await ctx.operator(), board == null ? null : String(board));
      return true;
    },
  }),
);

const AuditEntryRef = builder.objectRef<AuditEntryRow>('AuditEntry').implement({
  description: 'One audited event: a score change (CREDIT, VOID, IMPORT) or an operator act (HIDE, UNHIDE, BAN, UNBAN, CONFIG, REBUILD).',
  fields: (t) => ({
    id: t.id({ description: 'Position in the log (higher is newer).', resolve: (e) => String(e.id) }),
    kind: t.exposeString('kind', { description: 'CREDIT, VOID, IMPORT, HIDE, UNHIDE, BAN, UNBAN, CONFIG or REBUILD.' }),
    at: t.field({ type: 'DateTime', description: 'When it happened.', resolve: (e) => e.at }),
    player: t.field({
      type: PlayerRef,
      nullable: true,
      description: 'The player concerned, if any.',
      resolve: (e, _args, ctx) => (e.playerId ? ctx.loadPlayer(e.playerId) : null),
    }),
    actor: t.exposeString('actor', { nullable: true, description: "The operator's `sub` (or the import/config file); null for a player's own credit." }),
    reason: t.exposeString('reason', { nullable: true, description: "The operator's reason." }),
    actionId: t.exposeID('actionId', { nullable: true, description: 'CREDIT: the action; VOID: the action it took back.' }),
    actionType: t.exposeString('actionType', { nullable: true, description: 'The action type of a CREDIT or VOID.' }),
    delta: t.exposeInt('delta', { nullable: true, description: 'Change to the all-time score.' }),
    oldScore: t.field({ type: 'SafeInt', nullable: true, description: 'All-time score before.', resolve: (e) => (e.oldScore === null ? null : Number(e.oldScore)) }),
    newScore: t.field({
      type: 'SafeInt',
      nullable: true,
      description: 'All-time score after (oldScore + delta).',
      resolve: (e) => (e.newScore === null ? null : Number(e.newScore)),
    }),
  }),
});

const AuditPageRef = builder.objectRef<AuditPage>('AuditPage').implement({
  description: 'A page of the audit log, newest first.',
  fields: (t) => ({
    entries: t.field({ type: [AuditEntryRef], description: 'At most `first` entries.', resolve: (p) => p.entries }),
    endCursor: t.exposeString('endCursor', { nullable: true, description: 'Pass as `after` for the next page.' }),
    hasNextPage: t.exposeBoolean('hasNextPage', { description: 'Whether older entries follow.' }),
  }),
});

builder.queryField('auditLog', (t) =>
  t.field({
    type: AuditPageRef,
    description: 'The audit log, newest first, with cursor pagination; filters combine with `after`. Operators only.',
    args: {
      player: t.arg.id({ description: 'Only this player.' }),
      actionId: t.arg.id({ description: 'Only this action (its credit and its void).' }),
      first: t.arg.int({ defaultValue: 50, description: 'Page size, 1..100.' }),
      after: t.arg.string({ description: 'endCursor of the previous page.' }),
    },
    resolve: async (_root, args, ctx) => {
      await ctx.operator();
      return readAuditLog(ctx.services.prisma, {
        player: args.player == null ? null : String(args.player),
        actionId: args.actionId == null ? null : String(args.actionId),
        first: args.first,
        after: args.after,
      });
    },
  }),
);

builder.queryField('players', (t) =>
  t.prismaField({
    type: ['Player'],
    description: `Finds players by id prefix or username (case-insensitive substring), hidden and banned ones included: an exact id first, then an exact username, then by score. Operators only; search 1..${SEARCH_MAX_LENGTH} characters, first 1..${SEARCH_MAX_RESULTS}.`,
    args: {
      search: t.arg.string({ required: true, description: 'Part of a username, or the start of a player id.' }),
      first: t.arg.int({ defaultValue: 20, description: `At most this many players, 1..${SEARCH_MAX_RESULTS}.` }),
    },
    resolve: async (query, _root, { search, first }, ctx) => {
      await ctx.operator();
      const ids = await searchPlayerIds(ctx.services.prisma, { search, first });
      if (ids.length === 0) return [];
      const found = await ctx.services.prisma.player.findMany({ ...query, where: { id: { in: ids } } });
      const byId = new Map(found.map((p) => [p.id, p]));
      return ids.flatMap((id) => byId.get(id) ?? []);
    },
  }),
);

export { OPERATOR_ROLE };
