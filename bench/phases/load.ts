import pg from 'pg';
import { Fleet } from '../lib/fleet.js';
import { GqlClient, LEADERBOARD_QUERY, LEADERBOARD_SUBSCRIPTION } from '../lib/gql-client.js';
import { playerJwt, sqlTop } from '../lib/infra.js';
import { nowMs, sleep } from '../lib/proc.js';
import { startServerFor, stopServerFor, type BenchContext, type PhaseResult } from '../lib/context.js';

/**
 * The seed's load test: 1,000 subscribers while 100 actions/s are credited
 * (issue + submit, 20 players contending for the top 10) for 30 s (quick: 10 s).
 * Latency, per subscriber per action that landed in the top 10: from the
 * submitAction response to that subscriber holding a board with
 * seq >= the action's returned seq. Afterwards every subscriber's last board
 * is compared with the truth (SQL top 10, and the leaderboard query).
 */
export const LOAD_SUBSCRIBERS = 1_000;
export const LOAD_RATE = 100;
const LOAD_PLAYERS = 20;

export async function loadPhase(ctx: BenchContext): Promise<PhaseResult> {
  const durationS = ctx.quick ? 10 : 30;
  const total = LOAD_RATE * durationS;

  // Put the load players right at the top (behind the trigger player) so
  // their actions keep reshuffling the top 10.
  const c = new pg.Client({ connectionString: ctx.infra.appDbUrl });
  await c.connect();
  const { rows } = await c.query<{ max: string }>("SELECT max(score) AS max FROM players WHERE id <> 'bench-trigger'");
  const base = Number(rows[0]?.max ?? 0) + 10;
  const players = Array.from({ length: LOAD_PLAYERS }, (_, i) => `bench-load-${i + 1}`);
  for (const [i, id] of players.entries()) {
    await c.query(
      `INSERT INTO players (id, username, score, reached_seq) VALUES ($1, $1, $2, nextval('action_credits_id_seq'))
       ON CONFLICT (id) DO NOTHING`,
      [id, base + 10 * (i % 5)],
    );
    // Every board, the global one included, is read from board_entries (as in seedPlayers).
    await c.query(
      `INSERT INTO board_entries (board_id, period_key, segment, player_id, score, reached_seq)
       SELECT 'global', 'all', '', id, score, reached_seq FROM players WHERE id = $1
       ON CONFLICT DO NOTHING`,
      [id],
    );
  }
  await c.end();

  const server = await startServerFor(ctx, 'load');
  const client = new GqlClient(server.url, 256);
  const jwts = await Promise.all(players.map((id) => playerJwt(ctx.infra.config, id)));
  const fleet = await Fleet.start(LOAD_SUBSCRIBERS, ctx.clientProcs(LOAD_SUBSCRIBERS));
  const opened = await fleet.open(server.url, 'gql', LEADERBOARD_SUBSCRIPTION, 100);
  if (opened.ready !== LOAD_SUBSCRIBERS) throw new Error(`only ${opened.ready}/${LOAD_SUBSCRIBERS} subscribers ready (${opened.failed} failed): ${opened.firstError}`);
  ctx.log(`  ${opened.ready} subscribers ready in ${opened.ms.toFixed(0)} ms`);
  await sleep(300);
  await fleet.record(true);

  /** ms: the whole action (issue + submit); submitMs: the submitAction request alone. */
  const actions: { seq: number; tResp: number; rank: number; ms: number; submitMs: number }[] = [];
  let errors = 0;
  let firstError = '';
  let inflight = 0;
  let maxInflight = 0;
  const interval = 1000 / LOAD_RATE;
  const start = nowMs();
  const hardDeadline = start + durationS * 1000 + 20_000;
  const tasks: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const wait = start + i * interval - nowMs();
    if (wait > 0) await sleep(wait);
    while (inflight >= 200 && nowMs() < hardDeadline) await sleep(1);
    if (nowMs() > hardDeadline) break;
    inflight++;
    maxInflight = Math.max(maxInflight, inflight);
    const jwt = jwts[i % LOAD_PLAYERS]!;
    tasks.push(
      (async () => {
        const t0 = nowMs();
        try {
          const ticket = await client.issue(jwt);
          const tIssued = nowMs();
          const res = await client.submit(jwt, ticket);
          const tResp = nowMs();
          actions.push({ seq: res.seq, tResp, rank: res.rank, ms: tResp - t0, submitMs: tResp - tIssued });
        } catch (error) {
          errors++;
          firstError ||= (error as Error).message;
        } finally {
          inflight--;
        }
      })(),
    );
  }
  await Promise.all(tasks);
  const endMs = nowMs();
  const achieved = actions.length / ((endMs - start) / 1000);
  ctx.log(`  ${actions.length} actions in ${(endMs - start).toFixed(0)} ms (${achieved.toFixed(1)}/s), errors ${errors} ${firstError}`);

  // Settle: let the last coalesced event reach everyone.
  await sleep(ctx.infra.config.leaderboard.coalesceMs + 1_500);
  await fleet.record(false);

  const submit = percentiles(actions.map((a) => a.submitMs));
  const whole = percentiles(actions.map((a) => a.ms));
  ctx.log(`  submitAction p50 ${submit.p50.toFixed(1)} ms, p99 ${submit.p99.toFixed(1)} ms; whole action p99 ${whole.p99.toFixed(1)} ms`);
  const visible = actions.filter((a) => a.rank <= 10);
  const lat = await fleet.latencies(visible.map((a) => [a.seq, a.tResp]));
  const p50 = lat.percentile(50);
  const p99 = lat.percentile(99);
  ctx.log(
    `  latency response -> subscriber has seq: p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms over ${lat.total} (subscriber, action) pairs; ` +
      `${lat.before} already there at response, ${lat.missing} never seen`,
  );

  // Truth: SQL, and the query API.
  const truthRows = await sqlTop(ctx.infra.appDbUrl, 10);
  const truth = truthRows.map((r, i) => `${i + 1}:${r.id}:${r.score}`).join('|');
  const q = await client.op<{ leaderboard: { seq: number; entries: { rank: number; score: number; player: { id: string } }[] } }>(LEADERBOARD_QUERY, undefined);
  const queried = q.leaderboard.entries.map((e) => `${e.rank}:${e.player.id}:${e.score}`).join('|');
  const checked = await fleet.check(truth);
  const info = await fleet.info();
  ctx.log(
    `  final boards: ${checked.mismatched}/${checked.total} subscribers differ from SQL truth; query API ${queried === truth ? 'matches' : 'DIFFERS from'} SQL; ` +
      `subscriber seqs ${JSON.stringify(checked.seqs)} vs query seq ${q.leaderboard.seq}`,
  );
  await fleet.close();
  client.close();
  const profile = await stopServerFor(ctx, server, { fromMs: start, toMs: endMs });

  return {
    rows: [
      {
        key: 'load-rate',
        figure: `load: credited actions/s achieved (offered ${LOAD_RATE}/s)`,
        unit: '/s',
        ours: achieved,
        baseline: null,
        ratio: null,
        target: { op: '>=', value: LOAD_RATE * 0.95, on: 'ours' },
        note: `${actions.length}/${total} actions; whole action p50 ${whole.p50.toFixed(0)} ms`,
      },
      {
        key: 'load-submit-p99',
        figure: `load: submitAction latency p99 (${LOAD_SUBSCRIBERS} subs, ${LOAD_RATE}/s)`,
        unit: 'ms',
        ours: submit.p99,
        baseline: null,
        ratio: null,
        target: { op: '<=', value: 100, on: 'ours' },
        note: `submitAction p50 ${submit.p50.toFixed(1)} ms, max ${submit.max.toFixed(1)} ms; whole action (issue + submit) p99 ${whole.p99.toFixed(1)} ms`,
      },
      {
        key: 'load-p50',
        figure: `load: response -> subscriber sees seq, p50 (${LOAD_SUBSCRIBERS} subs, ${LOAD_RATE}/s, ${durationS}s)`,
        unit: 'ms',
        ours: p50,
        baseline: null,
        ratio: null,
        target: null,
        note: `coalesce ${ctx.infra.config.leaderboard.coalesceMs} ms; ${lat.total} pairs`,
      },
      {
        key: 'load-p99',
        figure: 'load: response -> subscriber sees seq, p99',
        unit: 'ms',
        ours: p99,
        baseline: null,
        ratio: null,
        target: null,
        note: `${lat.missing} (subscriber, action) pairs never seen`,
      },
      {
        key: 'load-mismatch',
        figure: 'load: subscribers whose final board != SQL truth',
        unit: 'subs',
        ours: checked.mismatched,
        baseline: null,
        ratio: null,
        target: { op: '==', value: 0, on: 'ours' },
        note: `query API ${queried === truth ? '==' : '!='} SQL`,
      },
    ],
    details: {
      durationS,
      subscribers: LOAD_SUBSCRIBERS,
      targetRate: LOAD_RATE,
      achievedRate: achieved,
      actions: actions.length,
      actionsInTop10: visible.length,
      errors,
      firstError,
      maxInflight,
      actionLatencyMs: whole,
      submitLatencyMs: submit,
      latency: { p50, p90: lat.percentile(90), p99, max: lat.percentile(100), pairs: lat.total, beforeResponse: lat.before, neverSeen: lat.missing },
      final: {
        mismatched: checked.mismatched,
        total: checked.total,
        example: checked.example,
        seqs: checked.seqs,
        truth,
        queried,
        querySeq: q.leaderboard.seq,
        queryMatchesSql: queried === truth,
      },
      subscriberErrors: { unexpectedCloses: info.unexpectedCloses, protocolErrors: info.protocolErrors, firstError: info.firstError },
    },
    profiles: profile ? { load: profile } : undefined,
  };
}

function percentiles(xs: number[]) {
  const s = xs.slice().sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? NaN;
  return { p50: at(50), p99: at(99), max: at(100) };
}
