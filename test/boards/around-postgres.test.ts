import { expect, it } from 'vitest';
import { UpsertBoardDocument } from '../../sdk/generated/graphql.js';
import { periodByKey } from '../../src/resolvers/boards/periods.js';
import type { ResolvedView } from '../../src/resolvers/boards/ranking.js';
import { expectNoGraphQLErrors } from '../support/app.js';
import { describeBackends, type Fixture } from '../support/suite.js';

/**
 * Around-me of a live view served from Postgres (the view is cold: first read before
 * any rebuild) must be the window the ranking cache gives once warm: the same
 * entries, positions and ranks, with ties on both sides of the player and the
 * window shifted at either end. Postgres walks the ranking index from the player;
 * the cache is an independent implementation of the same order.
 */

let unique = 0;

/** 14 players: runs of ties (50 ×3, 30 ×4, 10 ×3) between single scores. */
const SCORES = [70, 50, 50, 50, 40, 30, 30, 30, 30, 20, 10, 10, 10, 5];

describeBackends('around-me from Postgres equals the warm cache', (f) => {
  async function coldBoardWith(f: Fixture): Promise<{ view: ResolvedView; players: string[] }> {
    const id = `around-pg-${process.pid}-${++unique}`;
    const op = await f.operator();
    expectNoGraphQLErrors(await f.app.gql(UpsertBoardDocument, { input: { id, window: 'ALL_TIME' } }, op.token));
    const players = SCORES.map((_, i) => f.playerId(`a${i}`));
    const { prisma } = f.app.app.services;
    for (const [i, score] of SCORES.entries()) {
      await prisma.$executeRaw`INSERT INTO players (id, username) VALUES (${players[i]}, ${`name-${i}`})`;
      // reached_seq in reverse file order for the ties, so the order is not just insertion order.
      await prisma.$executeRaw`
        INSERT INTO board_entries (board_id, period_key, segment, player_id, score, reached_seq)
        VALUES (${id}, 'all', '', ${players[i]}, ${score}, nextval('action_credits_id_seq') + ${1000 - i})`;
    }
    const board = (await f.app.app.services.definitions.get(id))!;
    return { view: { board: id, period: 'all', segment: null, periodInfo: periodByKey(board, 'all') }, players };
  }

  const probes: [player: number, above: number, below: number][] = [
    [2, 2, 2], // inside the run of 50s
    [7, 1, 3], // inside the run of 30s, more below
    [0, 3, 3], // the top: the window shifts down
    [13, 4, 1], // the bottom: the window shifts up
    [11, 0, 0], // just the player, inside a tie
    [5, 20, 20], // wider than the board
  ];
  for (const [player, above, below] of probes) {
    it(`player ${player}, above ${above}, below ${below}`, async () => {
      const { view, players } = await coldBoardWith(f);
      const { ranking, rankingCache } = f.app.app.services;
      expect(await rankingCache.seq(view)).toBeNull();
      const fromPostgres = await ranking.around(view, players[player]!, above, below);
      await ranking.scheduleRebuild(view, 'test');
      expect(await rankingCache.seq(view)).not.toBeNull();
      const fromCache = await ranking.around(view, players[player]!, above, below);
      const shape = (p: typeof fromCache) => ({ total: p.total, entries: p.entries.map((e) => [e.playerId, e.username, e.score, e.position, e.competitionRank, e.denseRank]) });
      expect(shape(fromPostgres)).toEqual(shape(fromCache));
      expect(fromCache.entries.some((e) => e.playerId === players[player])).toBe(true);
      expect(fromCache.entries).toHaveLength(Math.min(above + below + 1, SCORES.length));
    });
  }
});
