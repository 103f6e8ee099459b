import { Fleet } from '../lib/fleet.js';
import { GqlClient, LEADERBOARD_SUBSCRIPTION } from '../lib/gql-client.js';
import { playerJwt } from '../lib/infra.js';
import { cpuMs, nowMs, sleep } from '../lib/proc.js';
import { startServerFor, stopServerFor, type BenchContext, type PhaseResult } from '../lib/context.js';

/**
 * Issue 4: server CPU per subscriber per board change. With S subscribers,
 * credit K actions that each change the top 10 (the #1 player scores), spaced
 * out so each produces exactly one event; server utime+stime before/after,
 * minus the same K actions with 0 subscribers, divided by K * S.
 */
export const CPU_SUBSCRIBERS = 1_000;

export async function cpuPhase(ctx: BenchContext): Promise<PhaseResult> {
  const k = ctx.quick ? 15 : 60;
  const server = await startServerFor(ctx, 'cpu');
  const coalesceMs = ctx.infra.config.leaderboard.coalesceMs;
  const spacingMs = coalesceMs + 120;
  const client = new GqlClient(server.url, 4);
  const jwt = await playerJwt(ctx.infra.config, 'bench-trigger', 'trigger');

  const run = async (count: number) => {
    await sleep(300);
    const c0 = cpuMs(server.pid);
    const t0 = nowMs();
    for (let i = 0; i < count; i++) {
      const started = nowMs();
      const ticket = await client.issue(jwt);
      const res = await client.submit(jwt, ticket);
      if (res.rank !== 1) throw new Error(`trigger player is not #1 (rank ${res.rank})`);
      const left = spacingMs - (nowMs() - started);
      if (left > 0) await sleep(left);
    }
    await sleep(spacingMs);
    return { cpuMs: cpuMs(server.pid) - c0, wallMs: nowMs() - t0 };
  };

  await run(10); // warm-up
  const idle = await run(k);
  const fleet = await Fleet.start(CPU_SUBSCRIBERS, ctx.clientProcs(CPU_SUBSCRIBERS));
  const opened = await fleet.open(server.url, 'gql', LEADERBOARD_SUBSCRIPTION, 100);
  if (opened.ready !== CPU_SUBSCRIBERS) throw new Error(`only ${opened.ready}/${CPU_SUBSCRIBERS} subscribers ready (${opened.failed} failed): ${opened.firstError}`);
  await run(5); // warm the delivery path
  // Under load two actions can land in one coalescing window (one event): divide
  // by the board events actually delivered, not by K.
  const m0 = (await fleet.info()).msgs;
  const fromMs = nowMs();
  const loaded = await run(k);
  const toMs = nowMs();
  const m1 = (await fleet.info()).msgs;
  const loaded2 = await run(k); // a second pair, to see the noise
  const m2 = (await fleet.info()).msgs;
  await fleet.close();
  await sleep(300);
  const idle2 = await run(k);
  client.close();
  const profile = await stopServerFor(ctx, server, { fromMs, toMs });

  const per = (loadedCpu: number, idleCpu: number, delivered: number) => ((loadedCpu - idleCpu) * 1000) / delivered;
  const usPerSubChange = per(loaded.cpuMs, idle.cpuMs, m1 - m0);
  const usPerSubChange2 = per(loaded2.cpuMs, idle2.cpuMs, m2 - m1);
  ctx.log(
    `  K=${k}: 0 subs ${idle.cpuMs.toFixed(0)}/${idle2.cpuMs.toFixed(0)} ms CPU, ${CPU_SUBSCRIBERS} subs ${loaded.cpuMs.toFixed(0)}/${loaded2.cpuMs.toFixed(0)} ms CPU, ` +
      `board messages delivered ${m1 - m0}/${m2 - m1} (K x S = ${k * CPU_SUBSCRIBERS}) -> ${usPerSubChange.toFixed(2)} / ${usPerSubChange2.toFixed(2)} us per subscriber per change`,
  );
  const mean = (usPerSubChange + usPerSubChange2) / 2;
  return {
    rows: [
      {
        key: 'cpu-per-sub-change',
        figure: `server CPU per subscriber per change (S=${CPU_SUBSCRIBERS}, K=${k})`,
        unit: 'us',
        ours: mean,
        baseline: null,
        ratio: null,
        target: null,
        note: `two measurements: ${usPerSubChange.toFixed(2)} / ${usPerSubChange2.toFixed(2)} us; coalesce ${coalesceMs} ms, spacing ${spacingMs} ms`,
      },
    ],
    details: {
      k,
      subscribers: CPU_SUBSCRIBERS,
      spacingMs,
      coalesceMs,
      idle: [idle, idle2],
      loaded: [loaded, loaded2],
      eventsDelivered: [m1 - m0, m2 - m1],
      eventsIfNoneCoalesced: k * CPU_SUBSCRIBERS,
      usPerSubscriberPerChange: [usPerSubChange, usPerSubChange2],
    },
    profiles: profile ? { cpu: profile } : undefined,
  };
}
