import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BoardDocument, BoardLeaderboardDocument, PlayerStandingDocument, UpsertBoardDocument } from '../../sdk/generated/graphql.js';
import { finalizeDuePeriods } from '../../src/resolvers/boards/finalize.js';
import { expectNoGraphQLErrors, startInstance, waitFor, type Instance } from '../support/app.js';
import { clusterBackendAvailable, createBackend, type Backend } from '../support/backends.js';
import { issue, submit } from '../support/play.js';

const ANCHOR_MS = Date.UTC(2026, 0, 1);
const LENGTH_MS = 2_000;
const claims = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { iat: number }; // v2 ticket: issue time in ms

/**
 * History reads (final standings, past periods) go to the read replica; a
 * replica that has not replayed a freeze yet, or that stops, costs no read:
 * the primary answers, and /metrics shows it. Engines: a private Postgres
 * primary with a streaming replica, and a Redis Cluster, started by the test.
 */
describe.runIf(clusterBackendAvailable())('history reads on a read replica [cluster backend]', () => {
  let backend: Backend;
  let app: Instance;
  let boardId: string;
  let periodKey: string;
  let dbName: string;

  const counter = async (metric: 'replicaReads' | 'replicaFallbacks', labels: Record<string, string> = {}) => {
    const { values } = await app.app.services.metrics[metric].get();
    return values.filter((v) => Object.entries(labels).every(([k, want]) => (v.labels as Record<string, unknown>)[k] === want)).reduce((n, v) => n + v.value, 0);
  };
  const page = async () => expectNoGraphQLErrors(await app.gql(BoardLeaderboardDocument, { board: boardId, period: periodKey, first: 10 })).leaderboard;
  const rows = (b: Awaited<ReturnType<typeof page>>) => b.entries.map((e) => `${e.position}:${e.player.id}:${e.score}`);
  const onReplica = async (sql: string) => {
    const c = new pg.Client({ connectionString: backend.pg!.replicaUrl(dbName) });
    await c.connect();
    await c.query(sql);
    await c.end();
  };

  beforeAll(async () => {
    // The response cache off: every read here must reach the history reads it is about.
    backend = await createBackend('cluster', { ACTION_TOKEN_TTL_SECONDS: '1', RECONCILE_INTERVAL_SECONDS: '0', RESPONSE_CACHE_ENTRIES: '0' });
    dbName = new URL(backend.env.DATABASE_URL!).pathname.slice(1);
    app = await startInstance(backend);
    const op = await app.token({ id: 'replica-op', roles: ['admin'] });
    boardId = `replica-${process.pid}`;
    expectNoGraphQLErrors(
      await app.gql(UpsertBoardDocument, { input: { id: boardId, window: 'CUSTOM', periodSeconds: LENGTH_MS / 1000, anchor: new Date(ANCHOR_MS).toISOString() } }, op),
    );
    // Three players with distinct scores in one period (the ticket's issue time picks it).
    const players = await Promise.all(['ra', 'rb', 'rc'].map(async (n) => ({ id: `${n}-${process.pid}`, token: await app.token({ id: `${n}-${process.pid}` }) })));
    let index = -1;
    for (let attempt = 0; index < 0; attempt++) {
      const tickets = await Promise.all([0, 0, 0, 1, 1, 2].map((p) => issue(app, players[p]!.token)));
      const periods = new Set(tickets.map((t) => Math.floor((claims(t.token).iat - ANCHOR_MS) / LENGTH_MS)));
      if (periods.size === 1) {
        index = [...periods][0]!;
        for (const [i, p] of [0, 0, 0, 1, 1, 2].entries()) await submit(app, players[p]!.token, tickets[i]!);
      } else if (attempt >= 5) throw new Error('could not issue six tickets within one 2 s period');
    }
    periodKey = String(index);
    // Final: the period ended and every ticket issued inside it has expired.
    await waitFor(() => Date.now() >= ANCHOR_MS + (index + 1) * LENGTH_MS + 1_000, 10_000, 'the period to be final');
  });
  afterAll(async () => {
    await app?.stop();
    await backend?.dispose();
  });

  it('a freeze the replica has not replayed falls back to the primary; once replayed, the replica answers the same board', async () => {
    const before = rows(await page()); // final, not frozen yet: the primary, from the live rows
    expect(before).toHaveLength(3);
    await onReplica('SELECT pg_wal_replay_pause()');
    expect(await finalizeDuePeriods(app.app.services)).toBeGreaterThanOrEqual(1);
    const lagging = await counter('replicaFallbacks', { reason: 'lagging', what: 'final-standings' });
    expect(rows(await page())).toEqual(before);
    expect(await counter('replicaFallbacks', { reason: 'lagging', what: 'final-standings' })).toBeGreaterThan(lagging);

    await onReplica('SELECT pg_wal_replay_resume()');
    await backend.pg!.caughtUp(dbName);
    const reads = await counter('replicaReads', { what: 'final-standings' });
    expect(rows(await page())).toEqual(before);
    const standing = expectNoGraphQLErrors(await app.gql(PlayerStandingDocument, { id: `ra-${process.pid}`, board: boardId, period: periodKey })).player!.standing!;
    expect([standing.position, standing.totalPlayers]).toEqual([1, 3]);
    expect((await counter('replicaReads', { what: 'final-standings' })) - reads).toBe(2);
    // The past-periods listing agrees with the primary, wherever it was answered.
    const listed = expectNoGraphQLErrors(await app.gql(BoardDocument, { id: boardId, first: 100 })).board!.periods.map((p) => p.key);
    expect(listed).toContain(periodKey);
    // /metrics shows the replica.
    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    expect(metrics).toMatch(/scoreboard_replica_reads_total\{what="final-standings"\} \d+/);
    expect(metrics).toMatch(/scoreboard_replica_lag_seconds \d/);
  });

  it('the replica stops under read load: no read fails, the primary answers; it comes back and answers again', async () => {
    const expected = rows(await page());
    let done = 0;
    const failures: string[] = [];
    let stopping = false;
    const TOTAL = 400;
    const worker = async () => {
      while (done < TOTAL && !stopping) {
        const res = await app.gql(BoardLeaderboardDocument, { board: boardId, period: periodKey, first: 10 });
        if (res.errors || JSON.stringify(rows(res.data!.leaderboard)) !== JSON.stringify(expected)) failures.push(JSON.stringify(res.errors ?? res.data));
        done++;
      }
    };
    const load = Promise.all([worker(), worker(), worker(), worker()]);
    await waitFor(() => done >= 40, 30_000, 'reads before the stop');
    const fallbacksBefore = await counter('replicaFallbacks');
    await backend.pg!.stopReplica();
    const doneAtStop = done;
    await waitFor(() => done >= doneAtStop + 100 || done >= TOTAL, 60_000, 'reads after the stop');
    stopping = true;
    await load;
    expect(failures).toEqual([]);
    expect(await counter('replicaFallbacks')).toBeGreaterThan(fallbacksBefore);
    expect(await fetch(`${app.url}/metrics`).then((r) => r.text())).toMatch(/scoreboard_replica_up 0/);

    await backend.pg!.startReplica();
    const reads = await counter('replicaReads');
    await waitFor(
      async () => {
        expect(rows(await page())).toEqual(expected);
        return (await counter('replicaReads')) > reads;
      },
      30_000,
      'the replica to answer again',
    );
  });
});
