import pg from 'pg';
import { signDevPlayerJwt } from '../../src/auth/player-jwt.js';
import { GqlClient, ISSUE, type Ticket } from '../lib/gql-client.js';
import { formatNoise, NoiseMeter, type NoiseReport } from '../lib/noise.js';
import { cpuMs, nowMs, sleep } from '../lib/proc.js';
import { percentile } from '../lib/stats.js';
import { ratioRow, startServerFor, stopServerFor, type BenchContext, type PhaseResult, type Row } from '../lib/context.js';
import { rebuildsDone, waitForRebuild, type RunningServer } from '../lib/servers.js';
import { CONCURRENCY, loops } from './write.js';

/**
 * Boards: what operator-defined boards cost.
 *
 * 1. Write: complete actions/s (issueActionToken + submitAction, 16 players,
 *    one action at a time each, exactly as the write phase) with only the
 *    `global` board, and with 5 boards matching every action (global + DAILY +
 *    WEEKLY + MONTHLY + ALL_TIME segmented by `country`, players spread over 10
 *    countries), on the same server in the same run, windows interleaved
 *    1-5-5-1 (10 s each, quick 4 s), so a linear drift in machine noise cancels
 *    out. The extra boards are switched on and off with `upsertBoard(enabled)`.
 *    Figure: rate(5 boards) / rate(global only), target >= 0.7.
 * 2. Reads on a 100,000-player board, by request count at 10 connections:
 *    `leaderboardAround(above: 5, below: 5)` and `player(id) { standing }` for
 *    random players of the board, (a) from the ranking cache: the current
 *    period of a live ALL_TIME board, warmed by one credit through the real
 *    credit path (which rebuilds the cold view from Postgres: timed too), and
 *    (b) from Postgres: period "0" of a CUSTOM board with 1-hour periods
 *    anchored 48 h ago, final, hence always read from Postgres.
 *    SETUP, NOT MEASURED: the 100,000 players and both boards' entries are
 *    inserted with plain SQL (players + board_entries), not through credits.
 */

const COUNTRIES = ['DE', 'FR', 'US', 'GB', 'JP', 'BR', 'IN', 'ES', 'IT', 'CA'];
const EXTRA_BOARDS = [
  { id: 'bench-daily', window: 'DAILY' },
  { id: 'bench-weekly', window: 'WEEKLY' },
  { id: 'bench-monthly', window: 'MONTHLY' },
  { id: 'bench-country', window: 'ALL_TIME', segmentBy: 'country' },
] as const;
const BIG_PLAYERS = 100_000;
const BIG_TYPE = 'BENCH_BIG';
const BIG_LIVE = 'bench-big-live';
const BIG_PAST = 'bench-big-past';
const READ_CONNECTIONS = 10;

const UPSERT_BOARD = 'mutation B($input: BoardInput!) { upsertBoard(input: $input) { id enabled } }';
const UPSERT_TYPE = 'mutation T($input: ActionTypeInput!) { upsertActionType(input: $input) { code points } }';
const SUBMIT_STANDINGS =
  'mutation S($input: SubmitActionInput!) { submitAction(input: $input) { newScore standings { board { id } period { key } segment position totalPlayers } } }';
const AROUND =
  'query A($b: ID!, $p: String, $pl: ID!) { leaderboardAround(board: $b, period: $p, player: $pl, above: 5, below: 5) { seq totalPlayers entries { rank score player { id username } } } }';
const STANDING = 'query S($id: ID!, $b: ID!, $p: String) { player(id: $id) { standing(board: $b, period: $p) { rank position score totalPlayers } } }';

type Stats = { p50: number; p90: number; p99: number; max: number; mean: number };
const stats = (xs: number[]): Stats => ({
  p50: percentile(xs, 50),
  p90: percentile(xs, 90),
  p99: percentile(xs, 99),
  max: percentile(xs, 100),
  mean: xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length),
});

/** `total` requests over `connections` parallel loops (count-bounded); latency of each. */
async function byCount(total: number, connections: number, request: (i: number) => Promise<void>) {
  const latencies: number[] = [];
  let next = 0;
  let errors = 0;
  let firstError = '';
  await Promise.all(
    Array.from({ length: connections }, async () => {
      for (let i = next++; i < total; i = next++) {
        const t0 = nowMs();
        try {
          await request(i);
          latencies.push(nowMs() - t0);
        } catch (error) {
          errors++;
          firstError ||= (error as Error).message;
          if (errors > 50) throw new Error(`too many errors: ${firstError}`, { cause: error });
        }
      }
    }),
  );
  return { latencies, errors, firstError };
}

/** Deterministic spread of players over the whole board (every position equally likely). */
const pick = (i: number) => `big-${1 + ((i * 48_271 + 12_345) % BIG_PLAYERS)}`;

export async function boardsPhase(ctx: BenchContext): Promise<PhaseResult> {
  const warmupMs = ctx.quick ? 1_500 : 3_000;
  const windowMs = ctx.quick ? 4_000 : 10_000;
  // Interleaved (1-5-5-1): on a shared machine the noise drifts within seconds;
  // one window each (1 then 5) gave ratios from 0.8 to 1.3 for the same code.
  const order: ('one' | 'five')[] = ['one', 'five', 'five', 'one'];
  const cachedRequests = ctx.quick ? 500 : 2_000;
  const pgRequests = ctx.quick ? 100 : 300;
  const readWarmup = 50;

  const server = await startServerFor(ctx, 'boards');
  try {
    return await measure(ctx, server, { warmupMs, windowMs, order, cachedRequests, pgRequests, readWarmup });
  } catch (error) {
    const code = server.proc.child.exitCode ?? server.proc.child.signalCode;
    ctx.log(`  boards phase failed; server ${code === null ? 'still running' : `exited (${code})`}, its stderr:\n${server.proc.stderrTail()}`);
    await server.stop().catch(() => undefined);
    throw error;
  }
}

interface Plan {
  warmupMs: number;
  windowMs: number;
  order: ('one' | 'five')[];
  cachedRequests: number;
  pgRequests: number;
  readWarmup: number;
}

async function measure(ctx: BenchContext, server: RunningServer, plan: Plan): Promise<PhaseResult> {
  const { warmupMs, windowMs, order, cachedRequests, pgRequests, readWarmup } = plan;
  const client = new GqlClient(server.url, CONCURRENCY * 2);
  const cfg = ctx.infra.config.jwt;
  const admin = await signDevPlayerJwt(cfg, { id: 'bench-admin', username: 'bench-admin', roles: ['admin'] });
  const op = <T>(query: string, variables: Record<string, unknown>, jwt?: string) => client.op<T>(query, variables, jwt);
  const setEnabled = (enabled: boolean) => Promise.all(EXTRA_BOARDS.map((b) => op(UPSERT_BOARD, { input: { id: b.id, enabled } }, admin)));

  // ---------------------------------------------------------------- writes
  for (const b of EXTRA_BOARDS) {
    await op(UPSERT_BOARD, { input: { ...b, title: b.id, enabled: false } }, admin);
  }
  const players = Array.from({ length: CONCURRENCY }, (_, i) => ({ id: `bench-b-${i + 1}`, country: COUNTRIES[i % COUNTRIES.length]! }));
  const jwts = await Promise.all(players.map((p) => signDevPlayerJwt(cfg, { id: p.id, username: p.id, attributes: { country: p.country } })));
  const action = async (w: number) => {
    const jwt = jwts[w]!;
    await client.submit(jwt, await client.issue(jwt));
  };
  // Which boards one credit lands on (checked once per configuration).
  const landsOn = async () => {
    const t = await client.issue(jwts[0]!);
    const r = await op<{ submitAction: { standings: { board: { id: string } }[] } }>(
      SUBMIT_STANDINGS,
      { input: { actionId: t.actionId, actionType: t.actionType, token: t.token } },
      jwts[0],
    );
    return r.submitAction.standings.map((s) => s.board.id);
  };

  const windows: {
    config: 'one' | 'five';
    actions: number;
    ms: number;
    errors: number;
    firstError: string;
    p50: number;
    p99: number;
    serverCpuMsPerAction: number;
    noise: NoiseReport;
  }[] = [];
  let current: 'one' | 'five' | undefined;
  const landed: Record<string, string[]> = {};
  for (const config of order) {
    if (config !== current) {
      await setEnabled(config === 'five');
      current = config;
      landed[config] = await landsOn();
      const want = config === 'five' ? 5 : 1;
      if (landed[config].length !== want) throw new Error(`a credit landed on ${landed[config].join(', ')}; expected ${want} boards`);
      await loops(CONCURRENCY, nowMs() + warmupMs, action);
    }
    const cpu0 = cpuMs(server.pid);
    const meter = new NoiseMeter();
    const t0 = nowMs();
    const r = await loops(CONCURRENCY, t0 + windowMs, action);
    const t1 = nowMs();
    const w = {
      config,
      actions: r.done,
      ms: t1 - t0,
      errors: r.errors,
      firstError: r.firstError,
      p50: percentile(r.latencies, 50),
      p99: percentile(r.latencies, 99),
      serverCpuMsPerAction: (cpuMs(server.pid) - cpu0) / Math.max(1, r.done),
      noise: meter.report(),
    };
    windows.push(w);
    ctx.log(
      `  write, ${config === 'one' ? 'global only' : '5 boards   '}: ${w.actions} actions in ${w.ms.toFixed(0)} ms = ${((1000 * w.actions) / w.ms).toFixed(1)}/s ` +
        `(p50 ${w.p50.toFixed(1)} ms, p99 ${w.p99.toFixed(1)} ms, server CPU ${w.serverCpuMsPerAction.toFixed(2)} ms/action), errors ${w.errors} ${w.firstError}`,
    );
    ctx.log(`    ${formatNoise(w.noise)}`);
  }
  const rate = (c: 'one' | 'five') => {
    const ws = windows.filter((w) => w.config === c);
    return (1000 * ws.reduce((a, w) => a + w.actions, 0)) / ws.reduce((a, w) => a + w.ms, 0);
  };
  const cpuPer = (c: 'one' | 'five') => {
    const ws = windows.filter((w) => w.config === c);
    return ws.reduce((a, w) => a + w.serverCpuMsPerAction * w.actions, 0) / ws.reduce((a, w) => a + w.actions, 0);
  };
  const oneRate = rate('one');
  const fiveRate = rate('five');
  ctx.log(`  write: 5 boards ${fiveRate.toFixed(1)}/s vs global only ${oneRate.toFixed(1)}/s = ${(fiveRate / oneRate).toFixed(2)}x`);
  await setEnabled(false);

  // ---------------------------------------------------------------- 100k board: setup (not measured)
  await op(UPSERT_TYPE, { input: { code: BIG_TYPE, points: 1 } }, admin);
  const anchor = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000 - 48 * 3_600_000);
  await op(UPSERT_BOARD, { input: { id: BIG_LIVE, window: 'ALL_TIME', actionTypes: [BIG_TYPE] } }, admin);
  await op(UPSERT_BOARD, { input: { id: BIG_PAST, window: 'CUSTOM', periodSeconds: 3600, anchor: anchor.toISOString(), actionTypes: [BIG_TYPE] } }, admin);
  const fillT0 = nowMs();
  const db = new pg.Client({ connectionString: ctx.infra.appDbUrl });
  await db.connect();
  try {
    await db.query(
      `INSERT INTO players (id, username, attributes)
       SELECT 'big-' || g, 'big' || g, jsonb_build_object('country', ($2::text[])[1 + g % 10]) FROM generate_series(1, $1::int) g`,
      [BIG_PLAYERS, COUNTRIES],
    );
    // Scores 1..50,000 (about 2 players per score: ties), reached in id order.
    for (const [board, period] of [
      [BIG_LIVE, 'all'],
      [BIG_PAST, '0'],
    ] as const) {
      await db.query(
        `INSERT INTO board_entries (board_id, period_key, segment, player_id, score, reached_seq)
         SELECT $2, $3, '', 'big-' || g, 1 + (g::bigint * 7919) % 50000, nextval('action_credits_id_seq')
         FROM generate_series(1, $1::int) g`,
        [BIG_PLAYERS, board, period],
      );
    }
    await db.query('ANALYZE players');
    await db.query('ANALYZE board_entries');
  } finally {
    await db.end();
  }
  const fillMs = nowMs() - fillT0;
  const fillDoneAt = nowMs();
  ctx.log(
    `  setup: ${BIG_PLAYERS.toLocaleString('en-US')} players + 2 x ${BIG_PLAYERS.toLocaleString('en-US')} board entries by SQL in ${(fillMs / 1000).toFixed(1)} s (setup, not measured)`,
  );

  // Warm the live board's view by one credit through the product's path: the view
  // is cold, so this credit rebuilds it from Postgres (100k entries into Redis).
  const bigJwt = await signDevPlayerJwt(cfg, { id: 'big-1', username: 'big1', attributes: { country: COUNTRIES[1]! } });
  const coldBefore = await rebuildsDone(server.url, 'cold');
  const warmT0 = nowMs();
  const ticket = (await op<{ issueActionToken: Ticket }>(ISSUE, { t: BIG_TYPE }, bigJwt)).issueActionToken;
  const warmed = await op<{ submitAction: { standings: { board: { id: string }; period: { key: string }; totalPlayers: number }[] } }>(
    SUBMIT_STANDINGS,
    { input: { actionId: ticket.actionId, actionType: ticket.actionType, token: ticket.token } },
    bigJwt,
  );
  const live = warmed.submitAction.standings.find((s) => s.board.id === BIG_LIVE);
  if (live?.totalPlayers !== BIG_PLAYERS) throw new Error(`warming credit: ${JSON.stringify(warmed.submitAction.standings)}`);
  // The credit is answered from Postgres at once; the view warms in the background.
  await waitForRebuild(server.url, 'cold', coldBefore);
  const warmMs = nowMs() - warmT0;
  ctx.log(`  warm-up: the first credit on the cold 100k view until the view was warm (rebuilt from Postgres): ${warmMs.toFixed(0)} ms`);

  // A final period is read from Postgres; since 7b9bac4 the server's periodic job
  // (RECONCILE_INTERVAL_SECONDS, default 60) freezes its positions once, after which
  // reads are index lookups. Measure that steady state: wait for the freeze.
  const frozenT0 = nowMs();
  const frozenAt = await waitFrozen(ctx.infra.appDbUrl, BIG_PAST, '0', 180_000);
  const frozenAfterMs = frozenAt === null ? null : frozenAt - fillDoneAt;
  ctx.log(
    frozenAfterMs === null
      ? '  WARNING: the past period was not frozen within 180 s: its reads take the unfrozen Postgres path'
      : `  the past period was frozen by the server's periodic job ${(frozenAfterMs / 1000).toFixed(0)} s after the fill (waited ${((nowMs() - frozenT0) / 1000).toFixed(0)} s)`,
  );

  // ---------------------------------------------------------------- reads
  const readClient = new GqlClient(server.url, READ_CONNECTIONS);
  const series = [
    { key: 'around-cache', what: 'leaderboardAround', path: 'cache', board: BIG_LIVE, period: null, n: cachedRequests },
    { key: 'standing-cache', what: 'standing', path: 'cache', board: BIG_LIVE, period: null, n: cachedRequests },
    {
      key: 'around-pg',
      what: 'leaderboardAround',
      path: frozenAfterMs === null ? 'Postgres, NOT frozen' : 'Postgres, frozen final period',
      board: BIG_PAST,
      period: '0',
      n: frozenAfterMs === null ? pgRequests : cachedRequests,
    },
    {
      key: 'standing-pg',
      what: 'standing',
      path: frozenAfterMs === null ? 'Postgres, NOT frozen' : 'Postgres, frozen final period',
      board: BIG_PAST,
      period: '0',
      n: frozenAfterMs === null ? pgRequests : cachedRequests,
    },
  ];
  const reads: Record<string, unknown> = {};
  /** hrtime window of the cached reads (profiled with --profile). */
  const cacheWindow = { fromMs: Infinity, toMs: 0 };
  const readRows: Row[] = [];
  for (const s of series) {
    const request = async (i: number) => {
      const player = pick(i);
      if (s.what === 'leaderboardAround') {
        const r = await readClient.op<{ leaderboardAround: { totalPlayers: number; entries: { player: { id: string } }[] } }>(AROUND, { b: s.board, p: s.period, pl: player });
        const lb = r.leaderboardAround;
        if (lb.totalPlayers < BIG_PLAYERS || lb.entries.length !== 11 || !lb.entries.some((e) => e.player.id === player)) {
          throw new Error(`leaderboardAround(${player}): ${lb.totalPlayers} players, ${lb.entries.length} entries`);
        }
      } else {
        const r = await readClient.op<{ player: { standing: { totalPlayers: number; position: number } | null } | null }>(STANDING, { id: player, b: s.board, p: s.period });
        const st = r.player?.standing;
        if (!st || st.totalPlayers < BIG_PLAYERS || st.position < 1) throw new Error(`standing(${player}): ${JSON.stringify(r.player)}`);
      }
    };
    await byCount(readWarmup, READ_CONNECTIONS, (i) => request(1_000_000 + i));
    const cpu0 = cpuMs(server.pid);
    const meter = new NoiseMeter();
    const t0 = nowMs();
    const r = await byCount(s.n, READ_CONNECTIONS, request);
    const ms = nowMs() - t0;
    if (s.path === 'cache') {
      cacheWindow.fromMs = Math.min(cacheWindow.fromMs, t0);
      cacheWindow.toMs = nowMs();
    }
    const cpu = cpuMs(server.pid) - cpu0;
    const noise = meter.report();
    const st = stats(r.latencies);
    const detail = {
      requests: s.n,
      ok: r.latencies.length,
      errors: r.errors,
      firstError: r.firstError,
      connections: READ_CONNECTIONS,
      seconds: ms / 1000,
      perSecond: (1000 * r.latencies.length) / ms,
      latencyMs: st,
      serverCpuMsPerRequest: cpu / Math.max(1, r.latencies.length),
      postgresCores: noise.cores.postgres,
      redisCores: noise.cores.redis,
      noise,
    };
    reads[s.key] = detail;
    ctx.log(
      `  ${s.what} from ${s.path}: ${r.latencies.length}/${s.n} ok in ${(ms / 1000).toFixed(1)} s (${detail.perSecond.toFixed(0)}/s), ` +
        `p50 ${st.p50.toFixed(1)} ms, p99 ${st.p99.toFixed(1)} ms, max ${st.max.toFixed(1)} ms; server CPU ${detail.serverCpuMsPerRequest.toFixed(2)} ms/req, ` +
        `postgres ${noise.cores.postgres.toFixed(2)} cores, errors ${r.errors} ${r.firstError}`,
    );
    ctx.log(`    ${formatNoise(noise)}`);
    if (r.errors) throw new Error(`${s.key}: ${r.errors} errors, first: ${r.firstError}`);
    for (const p of ['p50', 'p99'] as const) {
      readRows.push({
        key: `boards-${s.key}-${p}`,
        figure: `boards 100k: ${s.what} ${p}, ${s.path} (${READ_CONNECTIONS} conns)`,
        unit: 'ms',
        ours: st[p],
        baseline: null,
        ratio: null,
        target: null,
        note: p === 'p99' ? `${s.n} requests, ${detail.perSecond.toFixed(0)} req/s, server CPU ${detail.serverCpuMsPerRequest.toFixed(2)} ms/req` : undefined,
      });
    }
  }
  readClient.close();
  client.close();
  const profile = await stopServerFor(ctx, server, cacheWindow);

  return {
    rows: [
      ratioRow({
        key: 'boards-write',
        figure: 'boards: write actions/s, 5 boards vs global only (16 players)',
        unit: '/s',
        ours: fiveRate,
        baseline: oneRate,
        target: { op: '>=', value: 0.7, on: 'ratio' },
        note: `baseline: same server and run with only the global board; server CPU ${cpuPer('five').toFixed(2)} vs ${cpuPer('one').toFixed(2)} ms/action (CPU ratio ${(cpuPer('one') / cpuPer('five')).toFixed(2)}x)`,
      }),
      ...readRows,
      {
        key: 'boards-warm-100k',
        figure: 'boards 100k: first credit on the cold view until the view is warm (rebuild from Postgres)',
        unit: 'ms',
        ours: warmMs,
        baseline: null,
        ratio: null,
        target: null,
      },
    ],
    details: {
      write: {
        windowMs,
        order,
        extraBoards: EXTRA_BOARDS,
        countries: COUNTRIES,
        landsOn: landed,
        globalOnlyPerSecond: oneRate,
        fiveBoardsPerSecond: fiveRate,
        ratio: fiveRate / oneRate,
        serverCpuMsPerAction: { globalOnly: cpuPer('one'), fiveBoards: cpuPer('five') },
        /** Server CPU per action, global only / 5 boards: less sensitive to other people's load than the rates. */
        cpuRatio: cpuPer('one') / cpuPer('five'),
        windows,
      },
      big: {
        players: BIG_PLAYERS,
        setup: 'players + board_entries inserted by SQL (setup, not measured)',
        fillMs,
        warmCreditMs: warmMs,
        liveBoard: BIG_LIVE,
        pastBoard: { id: BIG_PAST, period: '0', periodSeconds: 3600, anchor: anchor.toISOString(), frozenAfterFillMs: frozenAfterMs },
        reads,
      },
    },
    profiles: profile ? { 'boards: cached leaderboardAround + standing, 100k board': profile } : undefined,
  };
}

/** Polls until the period has its board_final_periods row; the hrtime (ms) it was seen, or null. */
async function waitFrozen(url: string, board: string, period: string, maxMs: number): Promise<number | null> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const until = nowMs() + maxMs;
    while (nowMs() < until) {
      const { rows } = await c.query('SELECT 1 FROM board_final_periods WHERE board_id = $1 AND period_key = $2', [board, period]);
      if (rows.length) return nowMs();
      await sleep(500);
    }
    return null;
  } finally {
    await c.end();
  }
}
