import { badInput } from '../errors.js';
import { GLOBAL_BOARD } from '../resolvers/boards/definitions.js';
import { resolveView } from '../resolvers/boards/views.js';
import { RankModeEnum } from './board.js';
import { builder } from './builder.js';
import { StandingRef } from './leaderboard.js';

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
        return (await ctx.services.ranking.standing(view, p.id))?.position ?? null;
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
        const standing = await ctx.services.ranking.standing(view, p.id);
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
    description: 'A player by id; null when unknown.',
    args: { id: t.arg.id({ required: true }) },
    resolve: (query, _root, { id }, ctx) =>
      String(id).length > 128 ? null : ctx.services.prisma.player.findUnique({ ...query, where: { id: String(id) } }),
  }),
}));
