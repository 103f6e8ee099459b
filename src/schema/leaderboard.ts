import type { RankedEntry } from '../resolvers/boards/ranking-cache.js';
import { badInput } from '../errors.js';
import { MAX_BOARD_SIZE, readBoard, type Leaderboard } from '../resolvers/boards/ranking.js';
import { builder } from './builder.js';
import { PlayerRef } from './player.js';

const LeaderboardEntryRef = builder.objectRef<RankedEntry>('LeaderboardEntry').implement({
  description: 'One row of the leaderboard.',
  fields: (t) => ({
    rank: t.exposeInt('rank', { description: '1-based position: score descending, equal scores by who reached them first.' }),
    score: t.field({ type: 'SafeInt', description: 'The player\'s score.', resolve: (e) => e.score }),
    player: t.field({
      type: PlayerRef,
      description: 'The player on this row.',
      // Served from the board itself: no database round trip per row.
      resolve: (e) =>
        ({ id: e.playerId, username: e.username, score: BigInt(e.score), reachedSeq: BigInt(e.reachedSeq), rank: e.rank }) as never,
    }),
  }),
});

export const LeaderboardRef = builder.objectRef<Leaderboard>('Leaderboard').implement({
  description: 'The top of the board at one version.',
  fields: (t) => ({
    seq: t.field({
      type: 'SafeInt',
      description:
        'Version of this board: never decreases, is the same for the same board on every instance, and changes whenever these entries change.',
      resolve: (b) => b.seq,
    }),
    entries: t.field({ type: [LeaderboardEntryRef], description: 'Rows, best first.', resolve: (b) => b.entries }),
    updatedAt: t.field({ type: 'DateTime', description: 'When this snapshot was read.', resolve: (b) => b.updatedAt }),
  }),
});

const FIRST_DESCRIPTION = `How many rows (1..${MAX_BOARD_SIZE}).`;

function checkFirst(first: number | null | undefined): number {
  const n = first ?? 10;
  if (!Number.isInteger(n) || n < 1 || n > MAX_BOARD_SIZE) throw badInput(`first must be between 1 and ${MAX_BOARD_SIZE}`);
  return n;
}

builder.queryField('leaderboard', (t) =>
  t.field({
    type: LeaderboardRef,
    description: 'The top `first` players.',
    args: { first: t.arg.int({ defaultValue: 10, description: FIRST_DESCRIPTION }) },
    resolve: (_root, { first }, ctx) => readBoard(ctx.services, checkFirst(first)),
  }),
);

builder.subscriptionField('leaderboardChanged', (t) =>
  t.field({
    type: LeaderboardRef,
    description:
      'The top `first` players, live: the current board at once, then a new one whenever it changes (bursts coalesced; the last event is always the final state).',
    args: { first: t.arg.int({ defaultValue: 10, description: FIRST_DESCRIPTION }) },
    subscribe: (_root, { first }, ctx) => ctx.services.boardFeed.subscribe(checkFirst(first), ctx.signal),
    resolve: (board: Leaderboard) => board,
  }),
);
