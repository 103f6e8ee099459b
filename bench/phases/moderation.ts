import pg from 'pg';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { signDevPlayerJwt } from '../../src/auth/player-jwt.js';
import { GqlClient, ISSUE, type Ticket } from '../lib/gql-client.js';
import { nowMs } from '../lib/proc.js';
import { rebuildsDone, waitForRebuild } from '../lib/servers.js';
import { median } from '../lib/stats.js';
import { ratioRow, startServerFor, stopServerFor, type BenchContext, type PhaseResult } from '../lib/context.js';

/**
 * Moderation on a large board: how long until every live subscriber has the
 * corrected board after `hidePlayer`, and after `unhidePlayer`.
 *
 * SETUP, NOT MEASURED: 1,000,000 players (--quick: 100,000) on an ALL_TIME
 * board, inserted with plain SQL (players + board_entries), then the view is
 * warmed by one credit through the product's path (a rebuild from Postgres,
 * timed and reported).
 *
 * MEASURED, with S graphql-ws subscribers to the board's top 10 on the server:
 * each round, a fresh player earns enough points to enter the top 10 (the
 * baseline: an ordinary credit that changes the top 10, delivered to every
 * subscriber), then an operator hides them (every subscriber must get a top 10
 * without them), then shows them again (every subscriber must get them back). Figures:
 * the median over the rounds, from sending the mutation until the last
 * subscriber has the board; the ratio is hide / credit in the same run.
 */

const BOARD = 'bench-moderation';
const TYPE = 'BENCH_MOD';
const SUBSCRIBERS = 100;
const ROUNDS = 5;
const SUB = `subscription S($b: ID!) { leaderboardChanged(board: $b, first: 10) { seq entries { player { id } } } }`;
const SUBMIT = 'mutation S($input: SubmitActionInput!) { submitAction(input: $input) { newScore standings { board { id } position totalPlayers } } }';
const HIDE = 'mutation H($p: ID!, $r: String!) { hidePlayer(player: $p, reason: $r) { id hidden } }';
const UNHIDE = 'mutation U($p: ID!, $r: String!) { unhidePlayer(player: $p, reason: $r) { id hidden } }';

type Top = string[];

export async function moderationPhase(ctx: BenchContext): Promise<PhaseResult> {
  const players = ctx.quick ? 100_000 : 1_000_000;
  const server = await startServerFor(ctx, 'moderation');
  // Long timeout: the warm-up credit waits for a rebuild of the whole view (over a minute at 1M on two busy cores).
  const client = new GqlClient(server.url, 8, 600_000);
  const subscribers: { client: Client; latest: Top }[] = [];
  try {
    const cfg = ctx.infra.config.jwt;
    const admin = await signDevPlayerJwt(cfg, { id: 'bench-mod-admin', username: 'bench-mod-admin', roles: ['admin'] });
    const op = <T>(query: string, variables: Record<string, unknown>, jwt?: string) => client.op<T>(query, variables, jwt);
    await op('mutation T($input: ActionTypeInput!) { upsertActionType(input: $input) { code } }', { input: { code: TYPE, points: 1_000_000 } }, admin);
    await op(
      'mutation B($input: BoardInput!) { upsertBoard(input: $input) { id } }',
      { input: { id: BOARD, title: 'Moderation bench', window: 'ALL_TIME', actionTypes: [TYPE] } },
      admin,
    );

    const fillT0 = nowMs();
    const db = new pg.Client({ connectionString: ctx.infra.appDbUrl });
    await db.connect();
    try {
      await db.query(`INSERT INTO players (id, username) SELECT 'mod-' || g, 'mod' || g FROM generate_series(1, $1::int) g`, [players]);
      // Scores 1..500,000 (ties), below what one bench credit gives (1,000,000).
      await db.query(
        `INSERT INTO board_entries (board_id, period_key, segment, player_id, score, reached_seq)
         SELECT $2, 'all', '', 'mod-' || g, 1 + (g::bigint * 7919) % 500000, nextval('action_credits_id_seq') FROM generate_series(1, $1::int) g`,
        [players, BOARD],
      );
      await db.query('ANALYZE players');
      await db.query('ANALYZE board_entries');
    } finally {
      await db.end();
    }
    const fillMs = nowMs() - fillT0;
    ctx.log(`  setup: ${players.toLocaleString('en-US')} players on one board by SQL in ${(fillMs / 1000).toFixed(1)} s (not measured)`);

    const credit = async (id: string) => {
      const jwt = await signDevPlayerJwt(cfg, { id, username: id });
      const ticket = (await op<{ issueActionToken: Ticket }>(ISSUE, { t: TYPE }, jwt)).issueActionToken;
      return op<{ submitAction: { standings: { board: { id: string }; position: number; totalPlayers: number }[] } }>(
        SUBMIT,
        { input: { actionId: ticket.actionId, actionType: ticket.actionType, token: ticket.token } },
        jwt,
      );
    };
    const coldBefore = await rebuildsDone(server.url, 'cold');
    const warmT0 = nowMs();
    const warmed = await credit('mod-warm');
    const creditMs = nowMs() - warmT0;
    const standing = warmed.submitAction.standings.find((s) => s.board.id === BOARD);
    if (!standing || standing.totalPlayers !== players + 1) throw new Error(`warm-up credit: ${JSON.stringify(warmed.submitAction.standings)}`);
    // The credit is answered from Postgres at once; the view warms in the background.
    await waitForRebuild(server.url, 'cold', coldBefore);
    const warmMs = nowMs() - warmT0;
    ctx.log(
      `  warm-up: the first credit on the cold ${players.toLocaleString('en-US')}-player view answered in ${(creditMs / 1000).toFixed(2)} s; ` +
        `the view was warm (rebuilt from Postgres) ${(warmMs / 1000).toFixed(1)} s after it was sent`,
    );

    const wsUrl = `${server.url.replace('http', 'ws')}/graphql`;
    const waiters = new Set<() => void>();
    for (let i = 0; i < SUBSCRIBERS; i++) {
      const sub = { client: createClient({ url: wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, lazy: false }), latest: [] as Top };
      sub.client.subscribe<{ leaderboardChanged: { entries: { player: { id: string } }[] } }>(
        { query: SUB, variables: { b: BOARD } },
        {
          next: (r) => {
            if (r.data) sub.latest = r.data.leaderboardChanged.entries.map((e) => e.player.id);
            for (const w of waiters) w();
          },
          error: (e) => ctx.log(`  subscriber error: ${JSON.stringify(e).slice(0, 200)}`),
          complete: () => undefined,
        },
      );
      subscribers.push(sub);
    }
    /** Resolves when every subscriber's latest top 10 satisfies `ok`; the hrtime it happened. */
    const allHave = (ok: (top: Top) => boolean, what: string) =>
      new Promise<number>((resolve, reject) => {
        const check = () => {
          if (subscribers.every((s) => ok(s.latest))) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(nowMs());
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`not every subscriber got ${what} within 60 s`));
        }, 60_000);
        waiters.add(check);
        check();
      });
    await allHave((top) => top.length === 10 && top[0] === 'mod-warm', 'the first board');

    const times = { credit: [] as number[], hide: [] as number[], unhide: [] as number[] };
    for (let round = 0; round < ROUNDS; round++) {
      const id = `mod-climber-${round}`;
      let t0 = nowMs();
      let done = allHave((top) => top.includes(id), `${id} in the top 10`);
      await credit(id);
      times.credit.push((await done) - t0);
      t0 = nowMs();
      done = allHave((top) => top.length === 10 && !top.includes(id), `the board without ${id}`);
      await op(HIDE, { p: id, r: 'bench' }, admin);
      times.hide.push((await done) - t0);
      t0 = nowMs();
      done = allHave((top) => top.includes(id), `${id} back in the top 10`);
      await op(UNHIDE, { p: id, r: 'bench' }, admin);
      times.unhide.push((await done) - t0);
      ctx.log(
        `  round ${round + 1}: credit ${times.credit.at(-1)!.toFixed(1)} ms, hide ${times.hide.at(-1)!.toFixed(1)} ms, unhide ${times.unhide.at(-1)!.toFixed(1)} ms (until all ${SUBSCRIBERS} subscribers have the board)`,
      );
    }
    const m = { credit: median(times.credit), hide: median(times.hide), unhide: median(times.unhide) };
    const size = ctx.quick ? '100k' : '1M';
    return {
      rows: [
        ratioRow({
          key: `moderation-hide-${size}`,
          figure: `moderation ${size}: hidePlayer until all ${SUBSCRIBERS} subscribers have the corrected top 10 (median of ${ROUNDS})`,
          unit: 'ms',
          ours: m.hide,
          baseline: m.credit,
          target: null,
          note: `baseline: an ordinary credit that changes the top 10, same subscribers and run; unhide ${m.unhide.toFixed(1)} ms`,
        }),
        {
          key: `moderation-warm-${size}`,
          figure: `moderation ${size}: first credit on the cold view until the view is warm (rebuild from Postgres)`,
          unit: 'ms',
          ours: warmMs,
          baseline: null,
          ratio: null,
          target: null,
        },
      ],
      details: { players, subscribers: SUBSCRIBERS, rounds: ROUNDS, fillMs, creditMs, warmMs, times, medians: m },
    };
  } finally {
    for (const s of subscribers) await s.client.dispose();
    client.close();
    await stopServerFor(ctx, server);
  }
}
