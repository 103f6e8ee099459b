import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeaderboardChangedDocument, LeaderboardDocument, type LeaderboardChangedSubscription } from '../../sdk/generated/graphql.js';
import { codes, collect, expectNoGraphQLErrors, startInstance, waitFor, type Instance } from '../support/app.js';
import { createBackend, realBackendsAvailable, type Backend } from '../support/backends.js';
import { issue, submitRaw } from '../support/play.js';
import { PrivateRedis } from '../support/redis-server.js';

type Board = LeaderboardChangedSubscription['leaderboardChanged'];
const scoreOf = (b: Board, id: string) => b.entries.find((e) => e.player.id === id)?.score;

/**
 * While Redis (cache and bus) is down, boards are served from Postgres. Live
 * boards must keep moving then: their seq moves with every credit (the same on
 * every instance), and never goes below what the cache had given.
 */
describe.runIf(await realBackendsAvailable())('live boards while the ranking cache is down [real Postgres, private Redis]', () => {
  let redis: PrivateRedis;
  let backend: Backend;
  let instances: Instance[] = [];

  beforeAll(async () => {
    redis = await PrivateRedis.start();
    backend = await createBackend('real', { REDIS_URL: redis.url, RECONCILE_INTERVAL_SECONDS: '0' });
    instances = [await startInstance(backend), await startInstance(backend)];
  });
  afterAll(async () => {
    await Promise.allSettled(instances.map((i) => i.stop()));
    await redis?.kill();
    await backend?.dispose();
  });

  /** One action, its ticket retried like a client does after SERVICE_UNAVAILABLE. */
  async function act(instance: Instance, token: string) {
    for (let attempt = 0; attempt < 100; attempt++) {
      const ticket = await issue(instance, token).catch(() => undefined);
      if (!ticket) continue;
      for (let retry = 0; retry < 100; retry++) {
        const res = await submitRaw(instance, token, ticket);
        if (!res.errors) return res.data!.submitAction;
        expect(codes(res)).toEqual(['SERVICE_UNAVAILABLE']);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    throw new Error('no action got through');
  }

  it('credits during the outage reach every live board, with a seq that moves, the same on both instances, never lower', async () => {
    const id = `down-${Math.random().toString(36).slice(2, 8)}`;
    const token = await instances[0]!.token({ id, username: 'down' });
    const subs = instances.map((i) => collect(i.ws(), LeaderboardChangedDocument, { first: 10 }));
    const first = await act(instances[0]!, token);
    await waitFor(() => subs.every((s) => s.events.some((e) => scoreOf(e.leaderboardChanged, id) === first.newScore)), 15_000, 'the first credit on every live board');
    const seqBefore = Math.max(...subs.map((s) => s.events.at(-1)!.leaderboardChanged.seq));

    await redis.kill();
    const during = await act(instances[1]!, token);
    expect(during.newScore).toBeGreaterThan(first.newScore);
    // Served from Postgres, with no change notice (the bus is down too).
    await waitFor(
      () => subs.every((s) => s.events.some((e) => scoreOf(e.leaderboardChanged, id) === during.newScore)),
      20_000,
      'the credit made during the outage on every live board',
    );
    const seqs = subs.map((s) => s.events.find((e) => scoreOf(e.leaderboardChanged, id) === during.newScore)!.leaderboardChanged.seq);
    expect(seqs[0]).toBeGreaterThan(seqBefore);
    expect(seqs[1]).toBe(seqs[0]);
    // A query agrees with the live board.
    const query = expectNoGraphQLErrors(await instances[0]!.gql(LeaderboardDocument, { first: 10 })).leaderboard;
    expect(query.entries.find((e) => e.player.id === id)?.score).toBe(during.newScore);

    await redis.up();
    const after = await act(instances[0]!, token);
    await waitFor(() => subs.every((s) => s.events.some((e) => scoreOf(e.leaderboardChanged, id) === after.newScore)), 20_000, 'the credit after the outage on every live board');
    for (const s of subs) {
      const list = s.events.map((e) => e.leaderboardChanged.seq);
      expect(list).toEqual([...list].sort((a, b) => a - b)); // never backwards across the outage
    }
    subs.forEach((s) => s.unsubscribe());
  }, 120_000);
});
