import type { Context } from '../context.js';
import { OPERATOR_ROLE } from '../auth/player-jwt.js';
import { badInput } from '../errors.js';
import { GLOBAL_BOARD } from '../resolvers/boards/definitions.js';
import { resolveView } from '../resolvers/boards/views.js';
import { RankModeEnum } from './board.js';
import { builder } from './builder.js';
import { StandingRef } from './leaderboard.js';

/** Hidden or banned: on no board anyone else sees. (Rows built by hand, e.g. a credit's payload, say so explicitly.) */
function isHidden(p: { hidden?: boolean; banned?: boolean }): boolean {
  return p.hidden === true || p.banned === true;
}

/** Whether the caller may see a player's moderation state: the player themself or an operator. */
async function seesModeration(ctx: Context, playerId: string): Promise<boolean> {
  const viewer = await ctx.viewer().catch(() => null);
  return !!viewer && (viewer.playerId === playerId || viewer.roles.includes(OPERATOR_ROLE));
}

export const PlayerRef = builder.prismaObject('Player', {
  description: 'A player. Created on their first authenticated request; id is the JWT `sub`.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'The JWT `sub` of the player.' }),
    username: t.exposeString('username', { description: 'Display name (JWT `preferred_username`, else `name`, else `sub`).' }),
    score: t.field({
      type: 'SafeInt',
      description: 'All-time points credited by the server.',
      resolve: (p) => Number(p.score),
    }),
    rank: t.int({
      nullable: true,
      description: '1-based position on the global board; null until the player has scored.',
      resolve: async (p, _args, ctx) => {
        if ('rank' in p && typeof p.rank === 'number') return p.rank;
        if (Number(p.score) <= 0) return null;
        const global = await ctx.services.definitions.require(GLOBAL_BOARD);
        const { view } = await resolveView(ctx.services.definitions, { board: global.id }, async () => null);
        return (await ctx.services.ranking.standing(view, p.id, { hidden: isHidden(p) }))?.position ?? null;
      },
    }),
    attribute: t.string({
      nullable: true,
      description: 'A player attribute (PLAYER_ATTRIBUTE_CLAIMS, e.g. "country") as of their last authenticated request.',
      args: { name: t.arg.string({ required: true }) },
      resolve: (p, { name }) => {
        if (name.length > 40) throw badInput('attribute name is too long');
        const attrs = (p.attributes ?? {}) as Record<string, unknown>;
        const value = attrs[name];
        return typeof value === 'string' ? value : null;
      },
    }),
    hidden: t.boolean({
      description: 'Hidden by an operator (off every board for everyone else). Only operators and the player see true; everyone else only ever sees visible players.',
      resolve: async (p, _args, ctx) => p.hidden === true && (await seesModeration(ctx, p.id)),
    }),
    banned: t.boolean({
      description: 'Banned by an operator (hidden, and no tickets or credits). Only operators and the player see true.',
      resolve: async (p, _args, ctx) => p.banned === true && (await seesModeration(ctx, p.id)),
    }),
    standing: t.field({
      type: StandingRef,
      nullable: true,
      description: "The player's standing on a board (default global, current period, their own segment); null without an entry there.",
      args: {
        board: t.arg.id({ defaultValue: GLOBAL_BOARD, description: 'Board id.' }),
        period: t.arg.string({ description: 'A period key; null: the current period.' }),
        segment: t.arg.string({ description: "Segmented boards: the segment; null: this player's own." }),
        rankMode: t.arg({ type: RankModeEnum, defaultValue: 'ORDINAL', description: 'How ranks count ties.' }),
      },
      resolve: async (p, args, ctx) => {
        const own = async (attribute: string) => {
          const value = ((p.attributes ?? {}) as Record<string, unknown>)[attribute];
          return typeof value === 'string' ? value : ctx.services.players.attribute(p.id, attribute);
        };
        const { board, view } = await resolveView(
          ctx.services.definitions,
          { board: args.board == null ? null : String(args.board), period: args.period, segment: args.segment },
          own,
        );
        const standing = await ctx.services.ranking.standing(view, p.id, { hidden: isHidden(p) });
        return standing ? { board, view, standing, rankMode: args.rankMode ?? 'ORDINAL' } : null;
      },
    }),
  }),
});

builder.queryFields((t) => ({
  me: t.prismaField({
    type: 'Player',
    nullable: true,
    description: 'The authenticated player (UNAUTHENTICATED without a valid JWT).',
    resolve: async (query, _root, _args, ctx) => {
      const viewer = await ctx.viewer();
      await ctx.services.players.ensure(viewer);
      return ctx.services.prisma.player.findUnique({ ...query, where: { id: viewer.playerId } });
    },
  }),
  player: t.prismaField({
    type: 'Player',
    nullable: true,
    description: 'A player by id; null when unknown, or hidden or banned (except to operators and to the player themself).',
    args: { id: t.arg.id({ required: true }) },
    resolve: async (query, _root, { id }, ctx) => {
      if (String(id).length > 128) return null;
      const player = await ctx.services.prisma.player.findUnique({ ...query, where: { id: String(id) } });
      if (!player || !isHidden(player)) return player;
      // Only a hidden player's own JWT or an operator's sees them; anyone else gets null (a bad JWT too).
      return (await seesModeration(ctx, player.id)) ? player : null;
    },
  }),
}));
