import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { openDatabase } from '../../src/db/database.js';
import { createLogger } from '../../src/logger.js';
import { BoardDefinitions } from '../../src/resolvers/boards/definitions.js';
import { InProcessBus } from '../../src/resolvers/live/bus.js';
import { creditAction, planCredit } from '../../src/resolvers/scoring/credit.js';
import { GqlClient } from '../lib/gql-client.js';
import { playerJwt } from '../lib/infra.js';
import { formatNoise, NoiseMeter } from '../lib/noise.js';
import { cpuMs, nowMs, sleep } from '../lib/proc.js';
import { percentile } from '../lib/stats.js';
import { ratioRow, startServerFor, stopServerFor, type BenchContext, type PhaseResult } from '../lib/context.js';

/**
 * Write: complete actions/s (issueActionToken + submitAction over keep-alive
 * HTTP, 16 players in parallel, each its own JWT, one action at a time each)
 * vs the server's own credit statement (creditAction: one CTE that looks the
 * action up, bumps the player and the board entries and writes the audit row),
 * imported from the server's code and run through the same `pg` pool the server
 * uses (16 connections), without the server around it.
 */
export const CONCURRENCY = 16;

interface LoopStats {
  done: number;
  errors: number;
  firstError: string;
  latencies: number[];
}

/** Runs `step` in `workers` parallel loops until `untilMs` (and at most `maxPerWorker` each). */
export async function loops(workers: number, untilMs: number, step: (w: number) => Promise<void>, maxPerWorker = 1_000_000): Promise<LoopStats> {
  const stats: LoopStats = { done: 0, errors: 0, firstError: '', latencies: [] };
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      for (let i = 0; i < maxPerWorker && nowMs() < untilMs; i++) {
        const t0 = nowMs();
        try {
          await step(w);
          stats.done++;
          if (stats.latencies.length < 200_000) stats.latencies.push(nowMs() - t0);
        } catch (error) {
          stats.errors++;
          stats.firstError ||= (error as Error).message;
          if (stats.errors > 1000) throw new Error(`too many errors: ${stats.firstError}`, { cause: error });
          await sleep(5);
        }
      }
    }),
  );
  return stats;
}

export async function writePhase(ctx: BenchContext): Promise<PhaseResult> {
  const warmupMs = ctx.quick ? 2_000 : 3_000;
  const durationMs = ctx.quick ? 6_000 : 20_000;

  // --- ours
  // All 16 bench players come from 127.0.0.1: the per-address HTTP budget (production
  // default 50 requests/s) would measure that limiter, not the write path.
  const server = await startServerFor(ctx, 'write', { HTTP_RATE_LIMIT_PER_IP: '0' });
  const client = new GqlClient(server.url, CONCURRENCY * 2);
  const players = Array.from({ length: CONCURRENCY }, (_, i) => `bench-w-${i + 1}`);
  const jwts = await Promise.all(players.map((id) => playerJwt(ctx.infra.config, id)));
  const action = async (w: number) => {
    const jwt = jwts[w]!;
    const ticket = await client.issue(jwt);
    await client.submit(jwt, ticket);
  };
  await loops(CONCURRENCY, nowMs() + warmupMs, action);
  const cpu0 = cpuMs(server.pid);
  const oursMeter = new NoiseMeter();
  const fromMs = nowMs();
  const ours = await loops(CONCURRENCY, fromMs + durationMs, action);
  const toMs = nowMs();
  const cpu1 = cpuMs(server.pid);
  const oursNoise = oursMeter.report();
  client.close();
  const profile = await stopServerFor(ctx, server, { fromMs, toMs });
  const oursRate = ours.done / ((toMs - fromMs) / 1000);
  ctx.log(`  ours: ${ours.done} actions in ${(toMs - fromMs).toFixed(0)} ms = ${oursRate.toFixed(1)}/s, errors ${ours.errors} ${ours.firstError}`);
  ctx.log(`    ${formatNoise(oursNoise)}`);

  // --- baseline: the credit statement through pg, same concurrency
  const setup = new pg.Client({ connectionString: ctx.infra.baselineDbUrl });
  await setup.connect();
  await setup.query(`INSERT INTO players (id, username) SELECT 'bench-w-' || g, 'bench-w-' || g FROM generate_series(1, $1::int) g ON CONFLICT DO NOTHING`, [CONCURRENCY]);
  await setup.end();
  // The server's own statement, imported (never copied): what it costs without HTTP, GraphQL and the cache.
  const baseline = await openDatabase({ url: ctx.infra.baselineDbUrl, poolSize: CONCURRENCY, dataDir: '.' });
  const definitions = new BoardDefinitions({ prisma: baseline.prisma, bus: new InProcessBus(), logger: createLogger('silent'), attributeClaims: [] });
  const boards = await definitions.list();
  const credit = async (w: number) => {
    const plan = planCredit(boards, 'COMPLETE_TASK', Date.now(), {});
    const outcome = await creditAction(baseline.sql, { playerId: players[w]!, actionId: randomUUID(), actionType: 'COMPLETE_TASK', issuedAt: new Date(), plan });
    if (outcome.kind !== 'credited') throw new Error(`credit statement: ${outcome.kind}`);
  };
  await loops(CONCURRENCY, nowMs() + warmupMs, credit);
  const baseMeter = new NoiseMeter();
  const b0 = nowMs();
  const base = await loops(CONCURRENCY, b0 + durationMs, credit);
  const b1 = nowMs();
  const baseNoise = baseMeter.report();
  await baseline.close();
  const baseRate = base.done / ((b1 - b0) / 1000);
  ctx.log(`  pg:   ${base.done} statements in ${(b1 - b0).toFixed(0)} ms = ${baseRate.toFixed(1)}/s, errors ${base.errors}`);
  ctx.log(`    ${formatNoise(baseNoise)}`);

  return {
    rows: [
      ratioRow({
        key: 'write',
        figure: 'write: complete actions/s (issue+submit, 16 players)',
        unit: '/s',
        ours: oursRate,
        baseline: baseRate,
        target: { op: '>=', value: 0.25, stretch: 0.5, on: 'ratio' },
        note: "baseline: the server's credit statement (imported creditAction) through pg, 16 pooled connections",
      }),
    ],
    details: {
      durationMs,
      ours: {
        actions: ours.done,
        errors: ours.errors,
        firstError: ours.firstError,
        perSecond: oursRate,
        latencyMs: { p50: percentile(ours.latencies, 50), p99: percentile(ours.latencies, 99) },
        serverCpuMsPerAction: (cpu1 - cpu0) / ours.done,
        serverCpuUtilization: (cpu1 - cpu0) / (toMs - fromMs),
        noise: oursNoise,
      },
      baseline: {
        statements: base.done,
        errors: base.errors,
        perSecond: baseRate,
        latencyMs: { p50: percentile(base.latencies, 50), p99: percentile(base.latencies, 99) },
        noise: baseNoise,
      },
    },
    profiles: profile ? { write: profile } : undefined,
  };
}
