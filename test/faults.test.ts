import { spawn } from 'node:child_process';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { LeaderboardChangedDocument, LeaderboardDocument, type LeaderboardChangedSubscription } from '../sdk/generated/graphql.js';
import { collect, expectNoGraphQLErrors, startInstance, waitFor, type Instance } from './support/app.js';
import { auditChain } from './support/audit.js';
import { createBackend, realBackendsAvailable, type Backend } from './support/backends.js';
import { expectNothingLostOrDoubled, progress, startLoad, UNREACHABLE_QUOTA } from './support/load.js';
import { freePort, PrivateRedis } from './support/redis-server.js';

/** What must be withstood, "Faults": nothing lost, nothing counted twice. Real Postgres, private Redis. */
const realAvailable = await realBackendsAvailable();
type Board = LeaderboardChangedSubscription['leaderboardChanged'];
const view = (b: Board) => b.entries.map((e) => `${e.rank}:${e.player.id}:${e.score}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.runIf(realAvailable)('faults', () => {
  let redis: PrivateRedis;
  let backend: Backend;
  let instances: Instance[] = [];

  beforeAll(async () => {
    redis = await PrivateRedis.start();
    backend = await createBackend('real', { REDIS_URL: redis.url, RECONCILE_INTERVAL_SECONDS: '2', ...UNREACHABLE_QUOTA });
    instances = [await startInstance(backend), await startInstance(backend)];
  });
  afterAll(async () => {
    await Promise.allSettled(instances.map((i) => i.stop()));
    await redis?.kill();
    await backend?.dispose();
  });

  const players = async (n: number, name: string) =>
    Promise.all(
      Array.from({ length: n }, async (_, i) => {
        const id = `${name}-${i}-${Math.random().toString(36).slice(2, 8)}`;
        return { id, token: await instances[0]!.token({ id, username: `${name}${i}` }) };
      }),
    );

  it('Redis killed for 5 s under write load on two instances: nothing lost or doubled; reads fall back; subscribers end on the right board', async () => {
    const ps = await players(8, 'redisfault');
    const subs = instances.flatMap((i) => [0, 1].map(() => collect(i.ws(), LeaderboardChangedDocument, { first: 10 })));
    await waitFor(() => subs.every((s) => s.events.length >= 1));

    const load = startLoad(
      instances,
      ps.map((p) => p.token),
    );
    await progress(load, 20, 'load before the fault');
    await redis.kill();
    // While Redis is down, reads are served from Postgres.
    await sleep(500);
    const during = await instances[1]!.gql(LeaderboardDocument, { first: 10 });
    expect(during.errors).toBeUndefined();
    expect(during.data!.leaderboard.entries.length).toBeGreaterThan(0);
    await sleep(4_500); // the outage lasts 5 s in all
    await redis.up();
    await progress(load, 20, 'load after Redis came back');
    const stats = await load.stop();
    expect(stats.credited).toBeGreaterThan(20);
    await expectNothingLostOrDoubled(
      instances[0]!,
      ps.map((p) => p.id),
      stats,
    );

    // The cache is rebuilt from Postgres and every subscriber converges on the truth.
    const truth = expectNoGraphQLErrors(await instances[0]!.gql(LeaderboardDocument, { first: 10 })).leaderboard;
    const sql = await instances[0]!.app.services.prisma.player.findMany({ orderBy: [{ score: 'desc' }, { reachedSeq: 'asc' }], take: 10, where: { score: { gt: 0 } } });
    expect(truth.entries.map((e) => e.player.id)).toEqual(sql.map((p) => p.id));
    await waitFor(() => subs.every((s) => JSON.stringify(view(s.events.at(-1)!.leaderboardChanged)) === JSON.stringify(view(truth))), 15_000, 'subscribers on the truth');
    for (const s of subs) {
      const seqs = s.events.map((e) => e.leaderboardChanged.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b)); // never backwards, even across the Redis loss
    }
    subs.forEach((s) => s.unsubscribe());
  }, 60_000);

  it('Postgres connections killed under load: retryable failures only, a retry never double-credits', async () => {
    const ps = await players(6, 'pgfault');
    const load = startLoad(
      instances,
      ps.map((p) => p.token),
    );
    const admin = new pg.Client({ connectionString: backend.env.DATABASE_URL });
    await admin.connect();
    for (let i = 0; i < 5; i++) {
      await progress(load, 3, `load before termination ${i + 1}`);
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
    }
    await admin.end();
    await progress(load, 10, 'load after the terminations');
    const stats = await load.stop();
    expect(stats.credited).toBeGreaterThan(10);
    await expectNothingLostOrDoubled(
      instances[0]!,
      ps.map((p) => p.id),
      stats,
    );
  }, 60_000);
});

describe.runIf(realAvailable)('graceful shutdown', () => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await createBackend('real', UNREACHABLE_QUOTA);
  });
  afterAll(async () => backend?.dispose());

  it('SIGTERM under load: stops accepting, finishes in-flight mutations, closes sockets with 1001, exits 0', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { ...process.env, ...backend.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const base = `http://127.0.0.1:${port}`;
    await waitFor(async () => (await fetch(`${base}/readyz`).catch(() => null))?.status === 200, 60_000, 'server up');

    // An instance handle for our helpers (token signing, typed requests) pointed at the child.
    const probe = await startInstance(backend);
    const child$ = {
      ...probe,
      url: base,
      wsUrl: `ws://127.0.0.1:${port}/graphql`,
      raw: (body: object | string, init?: { token?: string }) =>
        fetch(`${base}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(init?.token ? { authorization: `Bearer ${init.token}` } : {}) },
          body: typeof body === 'string' ? body : JSON.stringify(body),
        }),
    };
    child$.gql = async (doc, variables, token) => (await child$.raw({ query: (await import('graphql')).print(doc), variables }, { token })).json();

    const ws = new WebSocket(child$.wsUrl, 'graphql-transport-ws');
    const wsClosed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
    await new Promise((r) => ws.on('open', r));
    ws.send(JSON.stringify({ type: 'connection_init' }));

    const ps = await Promise.all([0, 1, 2, 3].map(async (i) => ({ id: `term-${i}`, token: await probe.token({ id: `term-${i}` }) })));
    const load = startLoad(
      [child$],
      ps.map((p) => p.token),
    );
    await progress(load, 10, 'load before SIGTERM');
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(await wsClosed).toBe(1001);
    const stats = await load.stop().catch(() => null);
    // Whatever was answered as credited is in the database, exactly once.
    const credits = await probe.app.services.prisma.actionCredit.count({ where: { playerId: { in: ps.map((p) => p.id) } } });
    expect(credits).toBeGreaterThanOrEqual(stats?.credited ?? 0);
    for (const p of ps) await auditChain(probe, p.id);
    await probe.stop();
  }, 90_000);
});
