import { spawn } from 'node:child_process';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { LeaderboardChangedDocument, LeaderboardDocument, type LeaderboardChangedSubscription } from '../sdk/generated/graphql.js';
import { codes, collect, expectNoGraphQLErrors, startInstance, waitFor, type Instance } from './support/app.js';
import { auditChain } from './support/audit.js';
import { createBackend, realBackendsAvailable, type Backend } from './support/backends.js';
import { issue, submitRaw } from './support/play.js';
import { freePort, PrivateRedis } from './support/redis-server.js';

/** THREATS.md "Faults": nothing lost, nothing counted twice. Real Postgres, private Redis. */
const realAvailable = await realBackendsAvailable();
type Board = LeaderboardChangedSubscription['leaderboardChanged'];
const view = (b: Board) => b.entries.map((e) => `${e.rank}:${e.player.id}:${e.score}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface LoadStats {
  credited: number;
  replayed: number;
  unavailable: number;
  otherErrors: string[];
}

/**
 * Players act in a loop over the instances. Each ticket is retried (same ticket)
 * until it is accepted, exactly like a well-behaved client after SERVICE_UNAVAILABLE.
 */
async function load(instances: Instance[], tokens: string[], until: () => boolean): Promise<LoadStats> {
  const stats: LoadStats = { credited: 0, replayed: 0, unavailable: 0, otherErrors: [] };
  let n = 0;
  await Promise.all(
    tokens.map(async (token) => {
      while (!until()) {
        const at = () => instances[n++ % instances.length]!;
        let ticket;
        try {
          ticket = await issue(at(), token);
        } catch (error) {
          if (/SERVICE_UNAVAILABLE/.test(String(error))) stats.unavailable++;
          else stats.otherErrors.push(String(error).slice(0, 300));
          await sleep(50);
          continue;
        }
        for (let attempt = 0; attempt < 200; attempt++) {
          const res = await submitRaw(at(), token, ticket).catch((e) => ({ errors: [{ message: String(e), extensions: { code: 'NETWORK' } }] }) as never);
          if (!res.errors) {
            if (res.data!.submitAction.replayed) stats.replayed++;
            else stats.credited++;
            break;
          }
          const code = codes(res)[0];
          if (code === 'SERVICE_UNAVAILABLE' || code === 'NETWORK') stats.unavailable++;
          else stats.otherErrors.push(JSON.stringify(res.errors).slice(0, 300));
          await sleep(50);
        }
      }
    }),
  );
  return stats;
}

async function expectNothingLostOrDoubled(instance: Instance, playerIds: string[], stats: LoadStats) {
  const prisma = instance.app.services.prisma;
  const credits = await prisma.actionCredit.count({ where: { playerId: { in: playerIds } } });
  const sum = await prisma.actionCredit.aggregate({ where: { playerId: { in: playerIds } }, _sum: { delta: true } });
  const scores = await prisma.player.aggregate({ where: { id: { in: playerIds } }, _sum: { score: true } });
  expect(stats.otherErrors).toEqual([]);
  // Every ticket ends accepted exactly once: as credited, or as a replay when the
  // credit committed but its response was lost (the client retried the same ticket).
  expect(credits).toBe(stats.credited + stats.replayed);
  expect(Number(scores._sum.score)).toBe(sum._sum.delta); // sum of deltas = scores
  for (const id of playerIds) await auditChain(instance, id); // unbroken chains
}

describe.runIf(realAvailable)('faults', () => {
  let redis: PrivateRedis;
  let backend: Backend;
  let instances: Instance[] = [];

  beforeAll(async () => {
    redis = await PrivateRedis.start();
    backend = await createBackend('real', { REDIS_URL: redis.url, RECONCILE_INTERVAL_SECONDS: '2' });
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

    let stop = false;
    const running = load(instances, ps.map((p) => p.token), () => stop);
    await sleep(1_500);
    await redis.kill();
    // While Redis is down, reads are served from Postgres.
    await sleep(500);
    const during = await instances[1]!.gql(LeaderboardDocument, { first: 10 });
    expect(during.errors).toBeUndefined();
    expect(during.data!.leaderboard.entries.length).toBeGreaterThan(0);
    await sleep(4_500);
    await redis.up();
    await sleep(2_000);
    stop = true;
    const stats = await running;
    expect(stats.credited).toBeGreaterThan(20);
    await expectNothingLostOrDoubled(instances[0]!, ps.map((p) => p.id), stats);

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
    let stop = false;
    const running = load(instances, ps.map((p) => p.token), () => stop);
    const admin = new pg.Client({ connectionString: backend.env.DATABASE_URL });
    await admin.connect();
    for (let i = 0; i < 5; i++) {
      await sleep(400);
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
    }
    await admin.end();
    await sleep(1_500);
    stop = true;
    const stats = await running;
    expect(stats.credited).toBeGreaterThan(10);
    await expectNothingLostOrDoubled(instances[0]!, ps.map((p) => p.id), stats);
  }, 60_000);
});

describe.runIf(realAvailable)('graceful shutdown', () => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await createBackend('real');
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
    const child$ = { ...probe, url: base, wsUrl: `ws://127.0.0.1:${port}/graphql`, raw: (body: object | string, init?: { token?: string }) =>
      fetch(`${base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...(init?.token ? { authorization: `Bearer ${init.token}` } : {}) }, body: typeof body === 'string' ? body : JSON.stringify(body) }) } as Instance;
    child$.gql = async (doc, variables, token) => (await child$.raw({ query: (await import('graphql')).print(doc), variables }, { token })).json();

    const ws = new WebSocket(child$.wsUrl, 'graphql-transport-ws');
    const wsClosed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
    await new Promise((r) => ws.on('open', r));
    ws.send(JSON.stringify({ type: 'connection_init' }));

    const ps = await Promise.all([0, 1, 2, 3].map(async (i) => ({ id: `term-${i}`, token: await probe.token({ id: `term-${i}` }) })));
    let stop = false;
    const running = load([child$], ps.map((p) => p.token), () => stop);
    await sleep(1_500);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(await wsClosed).toBe(1001);
    stop = true;
    const stats = await running.catch(() => null);
    // Whatever was answered as credited is in the database, exactly once.
    const credits = await probe.app.services.prisma.actionCredit.count({ where: { playerId: { in: ps.map((p) => p.id) } } });
    expect(credits).toBeGreaterThanOrEqual(stats?.credited ?? 0);
    for (const p of ps) await auditChain(probe, p.id);
    await probe.stop();
  }, 90_000);
});
