import { parseArgs } from 'node:util';
import pg from 'pg';
import { buildApp } from '../src/server.js';
import { signDevPlayerJwt } from '../src/auth/player-jwt.js';
import { viewId } from '../src/resolvers/boards/ranking-cache.js';
import type { ResolvedView } from '../src/resolvers/boards/ranking.js';
import { currentPeriod } from '../src/resolvers/boards/views.js';
import type { StandingEvent } from '../src/resolvers/live/standing-feed.js';
import { createInfra } from './lib/infra.js';
import { fmt, percentile } from './lib/stats.js';

/**
 * `npx tsx bench/social.ts` — the social layer's two speed figures, on the
 * real backends (PostgreSQL + Redis), the server in this process:
 *
 * 1. myStandingChanged: N subscribers (1,000 and 10,000) on one board, and
 *    score changes at 100/s, each crossing exactly 5 subscribed players (the
 *    affected count held constant). A change is what a credit does after its
 *    commit: the ranking-cache update and the BOARD_CHANGED notice with the move,
 *    through Redis. Reported: server CPU per change (this process, user + system:
 *    cache update, notice, selection of the affected, their re-reads and
 *    deliveries), and the delivery latency from the notice to each event (p50, p99).
 *    Subscriptions are taken from the feed directly (no sockets): the figure is
 *    the selection and re-read cost, not WebSocket serialization. The entry is
 *    also written to Postgres (outside the measured process), so the periodic
 *    reconcile finds nothing to repair.
 * 2. friendsLeaderboard for a player with 1,000 friends on a 1,000,000-player
 *    board, over HTTP: p50 and p99.
 *
 *   --sizes 1000,10000   subscriber counts
 *   --changes 1000       score changes per size (at 100/s)
 *   --board-players 1000000
 */
const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1000,10000' },
    changes: { type: 'string', default: '1000' },
    'board-players': { type: 'string', default: '1000000' },
    requests: { type: 'string', default: '300' },
  },
});
const sizes = values.sizes.split(',').map(Number);
const CHANGES = Number(values.changes);
const BOARD_PLAYERS = Number(values['board-players']);
const REQUESTS = Number(values.requests);
const CROSSED = 5;
const RATE = 100;

const infra = await createInfra();
const app = await buildApp(infra.config);
const url = await app.start(0, '127.0.0.1');
const services = app.services;
const db = new pg.Client({ connectionString: infra.appDbUrl });
await db.connect();
/** The changes' writes run concurrently (100/s): a pool, not the one client. */
const writes = new pg.Pool({ connectionString: infra.appDbUrl, max: 4 });

try {
  console.log(`myStandingChanged: ${RATE} changes/s, each crossing ${CROSSED} subscribers`);
  console.log('subscribers | changes | CPU per change (ms) | delivery p50 (ms) | delivery p99 (ms) | events | re-reads');
  for (const n of sizes) await standings(n);
  await friendsBoard();
} finally {
  await db.end();
  await writes.end();
  await app.stop();
  await infra.dispose();
}

async function standings(n: number) {
  const board = `bench-standings-${n}`;
  await db.query(`INSERT INTO boards (id, title, board_window) VALUES ($1, $1, 'ALL_TIME')`, [board]);
  services.definitions.invalidate();
  const def = await services.definitions.require(board);
  const view: ResolvedView = { board, period: 'all', segment: null, periodInfo: currentPeriod(def) };
  // Subscribers at 10, 20, ..., 10n; movers between them at 10i + 5, every (n / CHANGES)-th gap.
  const step = Math.max(1, Math.floor(n / CHANGES));
  await db.query(`INSERT INTO players (id, username) SELECT $1 || '-s' || g, 's' || g FROM generate_series(1, $2::int) g`, [board, n]);
  await db.query(`INSERT INTO players (id, username) SELECT $1 || '-m' || g, 'm' || g FROM generate_series(1, $2::int) g`, [board, CHANGES]);
  await db.query(
    `INSERT INTO board_entries (board_id, period_key, segment, player_id, score, reached_seq)
     SELECT $1, 'all', '', $1 || '-s' || g, 10 * g, g FROM generate_series(1, $2::int) g
     UNION ALL
     SELECT $1, 'all', '', $1 || '-m' || g, 10 * (((g - 1) * $4::int) % ($2::int - $3::int)) + 5, $2::int + g FROM generate_series(1, $5::int) g`,
    [board, n, CROSSED, step, CHANGES],
  );
  await services.ranking.scheduleRebuild(view, 'bench');

  const arrivals: number[] = [];
  let expected = 0;
  let received = 0;
  const sentAt = new Map<string, number>();
  const iterators: AsyncIterableIterator<StandingEvent>[] = [];
  let initial = 0;
  for (let i = 1; i <= n; i++) {
    const it = services.standingFeed.subscribe({ playerId: `${board}-s${i}`, board, period: null, segment: null, rankMode: 'ORDINAL' });
    iterators.push(it);
    void (async () => {
      let first = true;
      for await (const ev of it) {
        if (first) {
          first = false;
          initial++;
          continue;
        }
        const mover = ev.overtakenBy.at(-1);
        const t0 = mover ? sentAt.get(mover) : undefined;
        if (t0 !== undefined) arrivals.push(performance.now() - t0);
        received++;
      }
    })();
  }
  while (initial < n) await new Promise((r) => setTimeout(r, 20));

  const readsBefore = services.standingFeed.stats().reads;
  const cpuBefore = process.cpuUsage();
  let sent = 0;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      if (sent >= CHANGES) {
        clearInterval(timer);
        resolve();
        return;
      }
      const g = ++sent;
      const player = `${board}-m${g}`;
      const from = 10 * (((g - 1) * step) % (n - CROSSED)) + 5;
      const to = from + 10 * CROSSED;
      const crossed = Math.min(CROSSED, n - Math.floor(from / 10));
      expected += crossed;
      const seq = n + CHANGES + g;
      // What a credit does: the entry in Postgres (the truth, so reconcile finds no drift), then after
      // the commit the cache and the notice with the move.
      void writes
        .query(`UPDATE board_entries SET score = $1, reached_seq = $2 WHERE board_id = $3 AND period_key = 'all' AND segment = '' AND player_id = $4`, [to, seq, board, player])
        .then(() => {
          sentAt.set(player, performance.now());
          return services.ranking.apply(view, { playerId: player, username: `m${g}`, score: to, reachedSeq: seq });
        })
        .then(() => services.ranking.publishChanged([view], [{ view: viewId(view), player, from: { score: from, seq: n + g }, to: { score: to, seq } }]));
    }, 1000 / RATE);
  });
  // Every change processed: all expected events in, or (several passes merged into one event) the feed quiet for 1 s.
  let lastReads = -1;
  let quietSince = Date.now();
  while (received < expected && Date.now() - quietSince < 1_000) {
    await new Promise((r) => setTimeout(r, 50));
    const r = services.standingFeed.stats().reads;
    if (r !== lastReads) {
      lastReads = r;
      quietSince = Date.now();
    }
  }
  const cpu = process.cpuUsage(cpuBefore);
  const reads = services.standingFeed.stats().reads - readsBefore;
  for (const it of iterators) await it.return!();
  console.log(
    `${n} | ${CHANGES} | ${fmt((cpu.user + cpu.system) / 1000 / CHANGES, 3)} | ${fmt(percentile(arrivals, 50))} | ${fmt(percentile(arrivals, 99))} | ${received}/${expected} | ${reads}`,
  );
}

async function friendsBoard() {
  const board = 'bench-million';
  console.log(`\nfriendsLeaderboard: 1,000 friends on a ${BOARD_PLAYERS.toLocaleString('en')}-player board, ${REQUESTS} requests over HTTP`);
  const started = Date.now();
  await db.query(`INSERT INTO boards (id, title, board_window) VALUES ($1, $1, 'ALL_TIME')`, [board]);
  await db.query(`INSERT INTO players (id, username) SELECT 'mp' || g, 'mp' || g FROM generate_series(1, $1::int) g`, [BOARD_PLAYERS]);
  await db.query(
    `INSERT INTO board_entries (board_id, period_key, segment, player_id, score, reached_seq)
     SELECT $1, 'all', '', 'mp' || g, 1 + (g::bigint * 7919) % 100000, g FROM generate_series(1, $2::int) g`,
    [board, BOARD_PLAYERS],
  );
  // The viewer is mp1; friends: 1,000 players spread over the board.
  const spread = Math.floor(BOARD_PLAYERS / 1000);
  await db.query(
    `INSERT INTO friendships (player_id, friend_id, status)
     SELECT 'mp1', 'mp' || (2 + (g - 1) * $1::int), 'ACCEPTED' FROM generate_series(1, 1000) g
     UNION ALL
     SELECT 'mp' || (2 + (g - 1) * $1::int), 'mp1', 'ACCEPTED' FROM generate_series(1, 1000) g`,
    [spread],
  );
  await db.query('ANALYZE players; ANALYZE board_entries; ANALYZE friendships');
  console.log(`seeded in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  services.definitions.invalidate();
  const token = await signDevPlayerJwt(infra.config.jwt, { id: 'mp1', username: 'mp1' });
  const body = JSON.stringify({ query: `{ friendsLeaderboard(board: "${board}", first: 100) { totalPlayers entries { position score player { id } } } }` });
  const once = async () => {
    const t = performance.now();
    const res = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body });
    const json = (await res.json()) as { data?: { friendsLeaderboard: { totalPlayers: number } }; errors?: unknown };
    if (!json.data) throw new Error(JSON.stringify(json.errors));
    return { ms: performance.now() - t, total: json.data.friendsLeaderboard.totalPlayers };
  };
  for (let i = 0; i < 20; i++) await once(); // warm-up
  const times: number[] = [];
  let total = 0;
  for (let i = 0; i < REQUESTS; i++) {
    const r = await once();
    times.push(r.ms);
    total = r.total;
  }
  const plan = await db.query(
    `EXPLAIN (ANALYZE, COSTS OFF) WITH members AS (SELECT 'mp1'::text AS id UNION ALL SELECT friend_id FROM friendships WHERE player_id = 'mp1' AND status = 'ACCEPTED')
     SELECT be.player_id, p.username, be.score, be.reached_seq FROM members m
     CROSS JOIN LATERAL (SELECT player_id, score, reached_seq, hidden FROM board_entries
       WHERE board_id = $1 AND period_key = 'all' AND segment = '' AND player_id = m.id LIMIT 1) be
     CROSS JOIN LATERAL (SELECT username FROM players WHERE id = be.player_id LIMIT 1) p
     WHERE NOT be.hidden OR be.player_id = 'mp1'`,
    [board],
  );
  if (process.env.BENCH_PLAN) console.log(plan.rows.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n'));
  console.log(`players in the set: ${total}; p50 ${fmt(percentile(times, 50))} ms, p99 ${fmt(percentile(times, 99))} ms (sequential, ${REQUESTS} requests)`);
}
