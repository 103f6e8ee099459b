import { Fleet } from '../lib/fleet.js';
import { GqlClient, LEADERBOARD_SUBSCRIPTION } from '../lib/gql-client.js';
import { playerJwt } from '../lib/infra.js';
import { formatNoise, NoiseMeter, type NoiseReport } from '../lib/noise.js';
import { cpuMs, nowMs, rssBytes, sleep } from '../lib/proc.js';
import { startRawWs, type RunningServer } from '../lib/servers.js';
import { median } from '../lib/stats.js';
import { ratioRow, startServerFor, stopServerFor, type BenchContext, type PhaseResult, type Row } from '../lib/context.js';
import type { ProfileSummary } from '../lib/profile.js';

/**
 * Fan-out: with N subscribers connected, the time from sending submitAction
 * (for the #1 player, so the top 10 changes) to the LAST subscriber receiving
 * the new board; vs a raw `ws` server broadcasting the same bytes to N sockets
 * (time from the trigger request to the last socket receiving).
 * Memory: server RSS after connecting N (and delivering the trials) minus RSS
 * before, divided by N; same for raw ws.
 *
 * Coalescing included: the server runs with the bench's usual window (50 ms,
 * as in production). Delivery is leading-edge, so a change after a quiet spell
 * (each trial) goes out at once; the window only delays a change that follows
 * another within it. BENCH_FANOUT_COALESCE_MS overrides it (0 = no window).
 */
export const FANOUT_COALESCE_MS = process.env.BENCH_FANOUT_COALESCE_MS ?? '50';

interface Trial {
  lastMs: number;
  p50Ms: number | null;
  firstMs: number | null;
  responseMs: number;
  received: number;
}

interface SideResult {
  trials: Trial[];
  fanoutMs: number;
  rssBeforeBytes: number;
  rssAfterBytes: number;
  bytesPerSubscriber: number;
  openMs: number;
  ready: number;
  failed: number;
  serverCpuMsPerTrial: number;
  clientCpuMsPerTrial: number;
  serverNofile: number;
  clientNofile: number[];
  unexpectedCloses: number;
  protocolErrors: number;
  firstError: string;
  template?: string;
  trialWindow: { fromMs: number; toMs: number };
  noise: NoiseReport;
}

/**
 * RSS after the process settled and ran full GCs (SIGUSR2, see procs/gc-on-signal.mjs):
 * the lowest of three readings, since V8 gives pages back over several GCs.
 */
async function settleRss(pid: number): Promise<number> {
  let best = Infinity;
  await sleep(300);
  for (let i = 0; i < 3; i++) {
    process.kill(pid, 'SIGUSR2');
    await sleep(600);
    best = Math.min(best, rssBytes(pid));
  }
  return best;
}

async function side(
  ctx: BenchContext,
  n: number,
  trials: number,
  server: RunningServer,
  mode: 'gql' | 'raw',
  trigger: () => Promise<{ prepare?: () => Promise<void>; fire: () => Promise<unknown> }>,
): Promise<SideResult> {
  // Warm the server's code paths with a few subscribers and events first.
  const warm = await Fleet.start(20, 1);
  await warm.open(server.url, mode, LEADERBOARD_SUBSCRIPTION, 20);
  for (let i = 0; i < 3; i++) {
    const t = await trigger();
    await t.prepare?.();
    const hits = await warm.arm(20_000);
    await t.fire();
    await hits.done;
  }
  await warm.close();
  const rssBefore = await settleRss(server.pid);

  const fleet = await Fleet.start(n, ctx.clientProcs(n));
  const opened = await fleet.open(server.url, mode, LEADERBOARD_SUBSCRIPTION, 100);
  ctx.log(
    `  ${mode}: ${opened.ready}/${n} subscribers ready in ${opened.ms.toFixed(0)} ms over ${fleet.sizes.length} client process(es)${opened.failed ? `, ${opened.failed} FAILED: ${opened.firstError}` : ''}`,
  );
  await sleep(500);

  const results: Trial[] = [];
  let serverCpu = 0;
  let clientCpu = 0;
  const trialFrom = nowMs();
  const meter = new NoiseMeter();
  for (let i = 0; i < trials; i++) {
    const t = await trigger();
    await t.prepare?.();
    const hits = await fleet.arm(60_000);
    const s0 = cpuMs(server.pid);
    const c0 = fleet.pids.reduce((a, p) => a + cpuMs(p), 0);
    const t0 = nowMs();
    await t.fire();
    const responseMs = nowMs() - t0;
    const h = await hits.done;
    await sleep(100);
    serverCpu += cpuMs(server.pid) - s0;
    clientCpu += fleet.pids.reduce((a, p) => a + cpuMs(p), 0) - c0;
    results.push({
      lastMs: (h.last ?? NaN) - t0,
      p50Ms: h.p50 === null ? null : h.p50 - t0,
      firstMs: h.first === null ? null : h.first - t0,
      responseMs,
      received: h.count,
    });
    await sleep(150);
  }
  const trialWindow = { fromMs: trialFrom, toMs: nowMs() };
  const noise = meter.report();
  const rssAfter = await settleRss(server.pid);
  const info = await fleet.info();
  await fleet.close();
  const fanoutMs = median(results.map((r) => r.lastMs));
  ctx.log(
    `  ${mode}: N=${n} fan-out to last: median ${fanoutMs.toFixed(1)} ms [${results.map((r) => r.lastMs.toFixed(0)).join(', ')}], ` +
      `RSS +${((rssAfter - rssBefore) / n / 1024).toFixed(1)} KiB/subscriber`,
  );
  ctx.log(`    trials: ${formatNoise(noise)}`);
  return {
    trials: results,
    fanoutMs,
    rssBeforeBytes: rssBefore,
    rssAfterBytes: rssAfter,
    bytesPerSubscriber: (rssAfter - rssBefore) / n,
    openMs: opened.ms,
    ready: opened.ready,
    failed: opened.failed,
    serverCpuMsPerTrial: serverCpu / trials,
    clientCpuMsPerTrial: clientCpu / trials,
    serverNofile: server.nofile,
    clientNofile: opened.clientNofile,
    unexpectedCloses: info.unexpectedCloses,
    protocolErrors: info.protocolErrors,
    firstError: info.firstError || opened.firstError,
    template: opened.sample,
    trialWindow,
    noise,
  };
}

export async function fanoutPhase(ctx: BenchContext, sizes: number[]): Promise<PhaseResult> {
  const trials = ctx.quick ? 5 : 9;
  const rows: Row[] = [];
  const details: Record<string, unknown> = { coalesceMs: Number(FANOUT_COALESCE_MS), trials };
  const profiles: Record<string, ProfileSummary> = {};
  const jwt = await playerJwt(ctx.infra.config, 'bench-trigger', 'trigger');

  for (const n of sizes) {
    // --- ours
    const server = await startServerFor(ctx, `fanout-${n}`, { LEADERBOARD_COALESCE_MS: FANOUT_COALESCE_MS });
    const client = new GqlClient(server.url, 4);
    const ours = await side(ctx, n, trials, server, 'gql', async () => {
      const ticket = await client.issue(jwt);
      return { fire: () => client.submit(jwt, ticket) };
    });
    client.close();
    const profile = await stopServerFor(ctx, server, ours.trialWindow);
    if (profile) profiles[`fanout-${n}`] = profile;

    // --- raw ws, broadcasting the bytes our server sent
    const raw = await startRawWs(ours.template ?? '{"seq":0}');
    const rawClient = new GqlClient(raw.url, 4);
    let seq = 1_000;
    const base = await side(ctx, n, trials, raw, 'raw', async () => ({
      fire: () => rawClient.raw('', undefined, `/broadcast?seq=${++seq}`),
    }));
    rawClient.close();
    await raw.stop();

    rows.push(
      ratioRow({
        key: `fanout-${n}`,
        figure: `fan-out: submitAction -> last of N=${n} has board`,
        unit: 'ms',
        ours: ours.fanoutMs,
        baseline: base.fanoutMs,
        target: { op: '<=', value: 1.3, on: 'ratio' }, // at every N (1,000, 5,000, 10,000), coalescing included
        note:
          `median of ${trials} (min ${Math.min(...ours.trials.map((t) => t.lastMs)).toFixed(0)} vs ${Math.min(...base.trials.map((t) => t.lastMs)).toFixed(0)} ms); ` +
          `coalesce ${FANOUT_COALESCE_MS} ms; ${ours.ready}/${n} vs ${base.ready}/${n} ready; ` +
          `server CPU per event per subscriber ${((ours.serverCpuMsPerTrial * 1000) / n).toFixed(1)} vs ${((base.serverCpuMsPerTrial * 1000) / n).toFixed(1)} us; ` +
          `connect ${ours.openMs.toFixed(0)} vs ${base.openMs.toFixed(0)} ms`,
      }),
      ratioRow({
        key: `memory-${n}`,
        figure: `memory per subscriber, N=${n} (RSS delta / N)`,
        unit: 'KiB',
        ours: ours.bytesPerSubscriber / 1024,
        baseline: base.bytesPerSubscriber / 1024,
        target: { op: '<=', value: 1.5, on: 'ratio' }, // per subscriber, against a raw ws socket
      }),
    );
    const { template: _t, trialWindow: _w, ...oursDetails } = ours;
    const { template: _b, trialWindow: _v, ...baseDetails } = base;
    details[`N=${n}`] = { ours: oursDetails, baseline: baseDetails, clientProcesses: ctx.clientProcs(n) };
  }
  return { rows, details, profiles };
}
