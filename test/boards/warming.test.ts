import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { openDatabase, type Database } from '../../src/db/database.js';
import { redisLocks } from '../../src/db/locks.js';
import { createLogger } from '../../src/logger.js';
import { GLOBAL_BOARD } from '../../src/resolvers/boards/definitions.js';
import { periodByKey } from '../../src/resolvers/boards/periods.js';
import { compareEntries, type BoardEntry } from '../../src/resolvers/boards/ranking-cache.js';
import type { ResolvedView } from '../../src/resolvers/boards/ranking.js';
import { createSharedRanking } from '../../src/services.js';
import { startInstance, waitFor, type Instance } from '../support/app.js';
import { createBackend, realBackendsAvailable, type Backend } from '../support/backends.js';
import { completeTask } from '../support/play.js';

/**
 * A large board warms while the instance already serves. Made deterministic
 * without timing: this test process is "another instance" in the middle of
 * rebuilding the global view. It holds the view's rebuild lease (so the
 * instance under test waits for it instead of rebuilding itself), has begun
 * its rebuild and read the truth, and finishes only when the test says so.
 * Meanwhile the instance is ready, reads come from Postgres, and a credit is
 * answered at once; after the swap the credit is on the cached board, and a
 * subscriber gets it.
 */

const PLAYERS = 30;
const TOP = 'query { leaderboard(first: 10) { seq totalPlayers entries { rank score player { id } } } }';
const AROUND = 'query A($p: ID!) { leaderboardAround(player: $p, above: 2, below: 2) { totalPlayers entries { rank score player { id } } } }';
const STANDING = 'query S($id: ID!) { player(id: $id) { standing { position rank score totalPlayers } } }';
const SUBSCRIBE = `subscription { leaderboardChanged(first: ${PLAYERS}) { seq entries { score player { id } } } }`;

describe.runIf(await realBackendsAvailable())('a view warming while the instance serves [real Postgres + Redis]', () => {
  let backend: Backend;
  let db: Database;
  let redis: Redis;
  let view: ResolvedView;
  let other: NonNullable<Awaited<ReturnType<typeof createSharedRanking>>>;
  let instance: Instance;
  let release: (() => Promise<void>) | undefined;
  let token: string;
  /** The truth as "the other instance" read it, before the credit below. */
  let staleTruth: BoardEntry[];
  const id = (i: number) => `warm-${String(i).padStart(2, '0')}`;

  beforeAll(async () => {
    backend = await createBackend('real', { RECONCILE_INTERVAL_SECONDS: '0' });
    const config = loadConfig(backend.env);
    db = await openDatabase(config.database);
    await db.migrate();
    // Scores 10, 20, ..., 300: warm-30 leads, warm-01 is last.
    const c = new pg.Client({ connectionString: backend.env.DATABASE_URL });
    await c.connect();
    await c.query(
      `INSERT INTO players (id, username, score, reached_seq)
       SELECT 'warm-' || lpad(g::text, 2, '0'), 'warm' || g, 10 * g, nextval('action_credits_id_seq') FROM generate_series(1, $1::int) g`,
      [PLAYERS],
    );
    await c.query(`INSERT INTO board_entries (board_id, period_key, segment, player_id, score, reached_seq) SELECT 'global', 'all', '', id, score, reached_seq FROM players`);
    await c.end();

    other = (await createSharedRanking(config, db, createLogger('silent')))!;
    view = { board: GLOBAL_BOARD, period: 'all', segment: null, periodInfo: periodByKey(await other.definitions.require(GLOBAL_BOARD), 'all') };
    // The lease every instance takes before rebuilding this view (BoardRanking.rebuild).
    redis = new Redis(config.redis.url!);
    release = await redisLocks(redis, config.redis.keyPrefix).tryLock('rebuild:{global|all|}', 120_000);
    expect(release).toBeDefined();
    token = await other.ranking.cache.beginRebuild(view);
    staleTruth = await other.ranking.allFromDatabase(view);
    expect(staleTruth).toHaveLength(PLAYERS);

    // Not waiting for its warming: that is what this suite holds back.
    instance = await startInstance(backend, {}, undefined, { warm: false });
  });
  afterAll(async () => {
    await release?.();
    await instance?.stop();
    await other?.close();
    redis?.disconnect();
    await db?.close();
    await backend?.dispose();
  });

  const query = async <T>(q: string, variables?: Record<string, unknown>) => {
    const res = await instance.raw({ query: q, variables });
    const body = (await res.json()) as { data?: T; errors?: unknown[] };
    if (body.errors) throw new Error(JSON.stringify(body.errors));
    return body.data!;
  };

  it('is ready while the view is cold and its rebuild is held by another instance', async () => {
    const res = await fetch(`${instance.url}/readyz`);
    expect(res.status).toBe(200);
    expect((await res.json()).warm).toBe(false);
    expect(await instance.app.services.rankingCache.seq(view)).toBeNull();
  });

  it('serves top-10, around-me and standing from Postgres meanwhile, correctly', async () => {
    const top = await query<{ leaderboard: { totalPlayers: number; entries: { rank: number; score: number; player: { id: string } }[] } }>(TOP);
    expect(top.leaderboard.totalPlayers).toBe(PLAYERS);
    expect(top.leaderboard.entries.map((e) => [e.rank, e.player.id, e.score])).toEqual(Array.from({ length: 10 }, (_, i) => [i + 1, id(PLAYERS - i), 10 * (PLAYERS - i)]));
    // warm-10 is 21st: the window is 19th..23rd.
    const around = await query<{ leaderboardAround: { entries: { rank: number; player: { id: string } }[] } }>(AROUND, { p: id(10) });
    expect(around.leaderboardAround.entries.map((e) => [e.rank, e.player.id])).toEqual([
      [19, id(12)],
      [20, id(11)],
      [21, id(10)],
      [22, id(9)],
      [23, id(8)],
    ]);
    const standing = await query<{ player: { standing: unknown } }>(STANDING, { id: id(10) });
    expect(standing.player.standing).toEqual({ position: 21, rank: 21, score: 100, totalPlayers: PLAYERS });
    // Still cold: nothing above was served by the cache.
    expect(await instance.app.services.rankingCache.seq(view)).toBeNull();
  });

  it('answers a credit at once from Postgres, and the change reaches the swapped-in view and subscribers', async () => {
    const updates: { seq: number; entries: { score: number; player: { id: string } }[] }[] = [];
    const ws = instance.ws();
    const unsubscribe = ws.subscribe<{ leaderboardChanged: (typeof updates)[number] }>(
      { query: SUBSCRIBE },
      { next: (m) => void (m.data && updates.push(m.data.leaderboardChanged)), error: () => {}, complete: () => {} },
    );
    await waitFor(() => updates.length > 0, 10_000, 'the first snapshot');

    // warm-01 (10 points, last) gains 10: 20 points, tied with warm-02 who reached it first.
    const token01 = await instance.token({ id: id(1), username: 'warm1' });
    const credit = await completeTask(instance, token01);
    expect(credit.newScore).toBe(20);
    expect(credit.rank).toBe(PLAYERS); // tied with warm-02, who reached 20 first
    // Answered while the other instance still holds the rebuild: the view is still cold.
    expect(await instance.app.services.rankingCache.seq(view)).toBeNull();
    // Around-me from Postgres at the bottom: the window shifts up to stay full, and the tie at 20
    // keeps warm-02 (who reached it first) ahead, from either player.
    for (const p of [id(1), id(2)]) {
      const around = await query<{ leaderboardAround: { entries: { rank: number; score: number; player: { id: string } }[] } }>(AROUND, { p });
      expect(around.leaderboardAround.entries.map((e) => [e.rank, e.player.id, e.score])).toEqual([
        [26, id(5), 50],
        [27, id(4), 40],
        [28, id(3), 30],
        [29, id(2), 20],
        [30, id(1), 20],
      ]);
    }
    expect(await instance.app.services.rankingCache.seq(view)).toBeNull();

    // The other instance finishes its rebuild with the truth it read before the credit.
    const [{ epoch }] = await db.prisma.$queryRaw<[{ epoch: bigint }]>`SELECT nextval('board_epoch_seq') AS epoch`;
    await other.ranking.cache.rebuild(view, Number(epoch), staleTruth, null, token);
    await release!();
    release = undefined;
    await other.ranking.publishChanged([view]);

    const cached = await instance.app.services.rankingCache.standing(view, id(1));
    expect(cached).toEqual(expect.objectContaining({ score: 20, position: PLAYERS }));
    expect((await instance.app.services.rankingCache.all(view)).map((e) => [e.playerId, e.score])).toEqual(
      staleTruth
        .map((e) => (e.playerId === id(1) ? { ...e, score: 20, reachedSeq: Number.MAX_SAFE_INTEGER } : e))
        .sort(compareEntries)
        .map((e) => [e.playerId, e.score]),
    );
    // The seq served with the credit is not above what the cache serves now.
    const top = await query<{ leaderboard: { seq: number } }>(TOP);
    expect(top.leaderboard.seq).toBeGreaterThanOrEqual(credit.seq);
    const standing = await query<{ player: { standing: unknown } }>(STANDING, { id: id(1) });
    expect(standing.player.standing).toEqual({ position: PLAYERS, rank: PLAYERS, score: 20, totalPlayers: PLAYERS });
    // A subscriber gets the swapped-in board with the credit, at a seq above every one before.
    const last = await waitFor(() => updates.find((u) => u.seq > updates[0]!.seq), 10_000, 'the board after the swap');
    expect(last.seq).toBeGreaterThanOrEqual(credit.seq);
    expect(last.entries.find((e) => e.player.id === id(1))?.score).toBe(20);
    unsubscribe();
  });
});
