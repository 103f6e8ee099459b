import { ensurePlayer, playerRank } from '../resolvers/players/players.js';
import { builder } from './builder.js';

export const PlayerRef = builder.prismaObject('Player', {
  description: 'A player. Created on their first authenticated request; id is the JWT `sub`.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'The JWT `sub` of the player.' }),
    username: t.exposeString('username', { description: 'Display name (JWT `preferred_username`, else `name`, else `sub`).' }),
    score: t.field({
      type: 'SafeInt',
      description: 'Total points credited by the server.',
      resolve: (p) => Number(p.score),
    }),
    rank: t.int({
      nullable: true,
      description: '1-based position on the leaderboard; null until the player has scored.',
      resolve: (p, _args, ctx) => ('rank' in p && typeof p.rank === 'number' ? p.rank : playerRank(ctx.services, p)),
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
      await ensurePlayer(ctx.services, viewer);
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


