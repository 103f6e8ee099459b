import { Writable } from 'node:stream';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeaderboardDocument } from '../../sdk/generated/graphql.js';
import { expectNoGraphQLErrors, startInstance, waitFor, type Instance } from '../support/app.js';
import { createLogger } from '../../src/logger.js';
import { buildApp } from '../../src/server.js';
import { ADMIN_DATABASE_URL, createBackend, realBackendsAvailable, type Backend } from '../support/backends.js';
import { completeTask } from '../support/play.js';
import { PrivateRedis } from '../support/redis-server.js';

const sum = async (instances: Instance[], metric: 'reconcileRuns' | 'cacheRebuilds', labels: Record<string, string>) => {
  let total = 0;
  for (const i of instances) {
    const { values } = await i.app.services.metrics[metric].get();
    total += values.filter((v) => Object.entries(labels).every(([k, want]) => (v.labels as Record<string, unknown>)[k] === want)).reduce((n, v) => n + v.value, 0);
  }
  return total;
};

/**
 * Redis comes back empty after an outage: every instance notices at once. One
 * of them rebuilds, under the lock, logged and counted; the others see the lock
 * and leave it. One rebuild takes one epoch.
 */
describe.runIf(await realBackendsAvailable())('reconcile after a Redis outage [real Postgres, private Redis, 3 instances]', () => {
  let redis: PrivateRedis;
  let backend: Backend;
  const instances: Instance[] = [];

  beforeAll(async () => {
    redis = await PrivateRedis.start();
    backend = await createBackend('real', { REDIS_URL: redis.url, RECONCILE_INTERVAL_SECONDS: '0' });
    for (let i = 0; i < 3; i++) instances.push(await startInstance(backend));
  });
  afterAll(async () => {
    await Promise.allSettled(instances.map((i) => i.stop()));
    await redis?.kill();
    await backend?.dispose();
  });

  const epoch = async () => Number((await instances[0]!.app.services.prisma.$queryRaw<[{ v: bigint }]>`SELECT last_value AS v FROM board_epoch_seq`)[0].v);

  it('Redis restarted empty: one locked rebuild (one new epoch), the other instances skip it; the board is right again', async () => {
    const token = await instances[0]!.token({ id: `outage-${Date.now()}`, username: 'outage' });
    await completeTask(instances[0]!, token);
    const epochBefore = await epoch();
    const rebuildsBefore = await sum(instances, 'cacheRebuilds', {});

    await redis.kill();
    await redis.up();
    // Every instance has handled the reconnect: done (won the lock) or locked (another one had it).
    await waitFor(async () => (await sum(instances, 'reconcileRuns', { trigger: 'redis-reconnect' })) >= 3, 30_000, 'every instance to handle the reconnect');
    expect(await sum(instances, 'reconcileRuns', { trigger: 'redis-reconnect', outcome: 'done' })).toBe(1);
    expect(await sum(instances, 'reconcileRuns', { trigger: 'redis-reconnect', outcome: 'locked' })).toBe(2);
    expect((await sum(instances, 'cacheRebuilds', {})) - rebuildsBefore).toBe(1);
    expect((await epoch()) - epochBefore).toBe(1);

    const truth = (await instances[0]!.app.services.ranking.allFromDatabase({ board: 'global', period: 'all', segment: null }))
      .sort((a, b) => b.score - a.score || a.reachedSeq - b.reachedSeq || (a.playerId < b.playerId ? -1 : 1))
      .slice(0, 100)
      .map((e) => `${e.playerId}:${e.score}`);
    for (const i of instances) {
      const board = expectNoGraphQLErrors(await i.gql(LeaderboardDocument, { first: 100 })).leaderboard;
      expect(board.entries.map((e) => `${e.player.id}:${e.score}`)).toEqual(truth);
    }
  }, 90_000);
});

/**
 * The reconcile that follows a Redis outage used to run with its errors thrown
 * away. When it fails (here: Postgres refuses connections just then), the
 * failure is logged with what triggered it, and counted.
 */
describe.runIf(await realBackendsAvailable())('reconcile after a Redis outage fails: logged, not dropped [real Postgres, private Redis]', () => {
  let redis: PrivateRedis;
  let backend: Backend;
  let instance: Instance;
  const lines: { msg?: string; trigger?: string; err?: string }[] = [];

  beforeAll(async () => {
    redis = await PrivateRedis.start();
    backend = await createBackend('real', { REDIS_URL: redis.url, RECONCILE_INTERVAL_SECONDS: '0' });
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line) as (typeof lines)[number]);
        done();
      },
    });
    instance = await startInstance(backend, {}, (config) => buildApp(config, createLogger('warn', sink)));
  });
  afterAll(async () => {
    await instance?.stop();
    await redis?.kill();
    await backend?.dispose();
  });

  it('Postgres refuses connections when Redis comes back: "reconcile failed" is logged with its trigger, and counted', async () => {
    const dbName = new URL(backend.env.DATABASE_URL!).pathname.slice(1);
    const admin = new pg.Client({ connectionString: ADMIN_DATABASE_URL });
    await admin.connect();
    try {
      await redis.kill();
      await admin.query(`ALTER DATABASE ${dbName} ALLOW_CONNECTIONS false`);
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [dbName]);
      await redis.up();
      await waitFor(() => lines.some((l) => l.msg === 'reconcile failed; will retry' && l.trigger === 'redis-reconnect'), 30_000, 'the failure in the log');
      expect(await sum([instance], 'reconcileRuns', { trigger: 'redis-reconnect', outcome: 'failed' })).toBe(1);
    } finally {
      await admin.query(`ALTER DATABASE ${dbName} ALLOW_CONNECTIONS true`);
      await admin.end();
    }
  });
});
