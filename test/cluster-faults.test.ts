import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeaderboardChangedDocument, LeaderboardDocument, type LeaderboardChangedSubscription } from '../sdk/generated/graphql.js';
import { codes, collect, expectNoGraphQLErrors, startInstance, waitFor, type Instance } from './support/app.js';
import { clusterBackendAvailable, createBackend, type Backend } from './support/backends.js';
import { expectNothingLostOrDoubled, progress, startLoad, UNREACHABLE_QUOTA } from './support/load.js';
import { completeTask } from './support/play.js';

type Board = LeaderboardChangedSubscription['leaderboardChanged'];
const view = (b: Board) => b.entries.map((e) => `${e.rank}:${e.player.id}:${e.score}`);

/**
 * One master of a 3-master Redis Cluster (no replicas) is killed under write
 * load on two instances, and restarted empty after a while: its slots have no
 * master meanwhile (the cluster reports itself down). Nothing may be lost or
 * counted twice; reads answer the right board (from Postgres) or
 * SERVICE_UNAVAILABLE, never a wrong one; the bus and the limiter recover.
 */
describe.runIf(clusterBackendAvailable())('Redis Cluster: a master killed under write load [cluster backend, 2 instances]', () => {
  let backend: Backend;
  let instances: Instance[] = [];

  beforeAll(async () => {
    backend = await createBackend('cluster', { RECONCILE_INTERVAL_SECONDS: '2', ...UNREACHABLE_QUOTA });
    instances = [await startInstance(backend), await startInstance(backend)];
  });
  afterAll(async () => {
    await Promise.allSettled(instances.map((i) => i.stop()));
    await backend?.dispose();
  });

  /** Every read of the global board during the fault: a board whose order Postgres confirms, or SERVICE_UNAVAILABLE. */
  async function readDuringFault(instance: Instance, problems: string[]) {
    const res = await instance.gql(LeaderboardDocument, { first: 10 });
    if (res.errors) {
      if (codes(res).some((c) => c !== 'SERVICE_UNAVAILABLE')) problems.push(JSON.stringify(res.errors));
      return;
    }
    const scores = res.data!.leaderboard.entries.map((e) => e.score);
    if (JSON.stringify(scores) !== JSON.stringify([...scores].sort((a, b) => b - a))) problems.push(`unordered ${JSON.stringify(scores)}`);
    // Scores only grow: a board may lag the truth, never show more than it.
    const ids = res.data!.leaderboard.entries.map((e) => e.player.id);
    const truth = await instance.app.services.prisma.player.findMany({ where: { id: { in: ids } }, select: { id: true, score: true } });
    for (const e of res.data!.leaderboard.entries) {
      if (e.score > Number(truth.find((t) => t.id === e.player.id)?.score ?? 0)) problems.push(`score above the truth for ${e.player.id}`);
    }
  }

  it('no credit lost or doubled; reads right or SERVICE_UNAVAILABLE; bus and limiter recover after the restart', async () => {
    const ps = await Promise.all(
      Array.from({ length: 6 }, async (_, i) => {
        const id = `cf-${i}-${Math.random().toString(36).slice(2, 8)}`;
        return { id, token: await instances[0]!.token({ id, username: `cf${i}` }) };
      }),
    );
    const subs = instances.map((i) => collect(i.ws(), LeaderboardChangedDocument, { first: 10 }));
    await waitFor(() => subs.every((s) => s.events.length >= 1), 20_000, 'snapshots');

    const load = startLoad(
      instances,
      ps.map((p) => p.token),
    );
    await progress(load, 20, 'load before the fault');
    // The master holding the global board's cache keys.
    const prefix = backend.env.REDIS_KEY_PREFIX!;
    const victim = await backend.cluster!.portOf(`${prefix}v:{global|all|}:z`);
    await backend.cluster!.kill(victim);
    const problems: string[] = [];
    const unavailableBefore = load.stats.unavailable;
    // While the slot has no master: reads on both instances, until the load has been refused or served a few times.
    for (let i = 0; i < 20; i++) await readDuringFault(instances[i % 2]!, problems);
    await waitFor(() => load.stats.unavailable > unavailableBefore || load.stats.credited + load.stats.replayed > 0, 30_000, 'writes during the fault');
    await backend.cluster!.restart(victim);
    await progress(load, 20, 'load after the master came back');
    const stats = await load.stop();
    expect(problems).toEqual([]);
    await expectNothingLostOrDoubled(
      instances[0]!,
      ps.map((p) => p.id),
      stats,
    );

    // The cache is rebuilt and every subscriber converges on the truth (the bus carries notices again).
    const sql = await instances[0]!.app.services.prisma.player.findMany({
      orderBy: [{ score: 'desc' }, { reachedSeq: 'asc' }, { id: 'asc' }],
      take: 10,
      where: { score: { gt: 0 } },
    });
    await waitFor(
      async () => {
        const board = expectNoGraphQLErrors(await instances[1]!.gql(LeaderboardDocument, { first: 10 })).leaderboard;
        return JSON.stringify(board.entries.map((e) => e.player.id)) === JSON.stringify(sql.map((p) => p.id));
      },
      30_000,
      'the board to match Postgres',
    );
    const after = await completeTask(instances[0]!, ps[0]!.token);
    await waitFor(
      () => subs.every((s) => s.events.some((e) => e.leaderboardChanged.entries.some((x) => x.player.id === ps[0]!.id && x.score === after.newScore))),
      30_000,
      'a credit after the restart on every live board',
    );
    for (const s of subs) {
      const seqs = s.events.map((e) => e.leaderboardChanged.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      expect(view(s.events.at(-1)!.leaderboardChanged).length).toBeGreaterThan(0);
    }
    // The limiter decides in Redis again: an action costs no fallback. (Right after the
    // restart the last failure may be less than the limiter's retry pause ago, and the
    // calls within that pause are decided by the insurance: an action until one costs none.)
    const fallbacks = async () => (await instances[1]!.app.services.metrics.rateLimiterFallbacks.get()).values.reduce((n, v) => n + v.value, 0);
    await waitFor(
      async () => {
        const before = await fallbacks();
        await completeTask(instances[1]!, ps[1]!.token);
        return (await fallbacks()) === before;
      },
      30_000,
      'an action decided in Redis again',
    );
    subs.forEach((s) => s.unsubscribe());
  }, 180_000);
});
