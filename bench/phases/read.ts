import { fileURLToPath } from 'node:url';
import { GqlClient, LEADERBOARD_QUERY } from '../lib/gql-client.js';
import { formatNoise, NoiseMeter } from '../lib/noise.js';
import { cpuMs, nowMs, spawnWithUlimit } from '../lib/proc.js';
import { startRawHttp, type RunningServer } from '../lib/servers.js';
import { ratioRow, startServerFor, stopServerFor, type BenchContext, type PhaseResult } from '../lib/context.js';

/**
 * Read: `leaderboard(first: 10)` over HTTP POST with 100 connections
 * (autocannon, in its own process) vs a bare node:http server returning the
 * very same response bytes.
 */
export const CONNECTIONS = 100;
const AUTOCANNON = fileURLToPath(new URL('../../node_modules/autocannon/autocannon.js', import.meta.url));
export const READ_BODY = JSON.stringify({ query: LEADERBOARD_QUERY });

interface AutocannonResult {
  requests: { total: number; average: number };
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  latency: { p50: number; p99: number; average: number };
}

export async function autocannon(url: string, seconds: number, connections = CONNECTIONS): Promise<AutocannonResult> {
  const p = spawnWithUlimit(
    [
      'node', AUTOCANNON, '--json', '-c', String(connections), '-d', String(seconds), '-m', 'POST',
      '-H', 'content-type=application/json', '-b', READ_BODY, `${url}/graphql`,
    ],
    { label: 'autocannon' },
  );
  let out = '';
  p.child.stdout?.removeAllListeners('data');
  p.child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  const code = await p.exited;
  if (code !== 0) throw new Error(`autocannon exited ${code}: ${p.stderrTail()}`);
  const json = out.slice(out.indexOf('{'));
  return JSON.parse(json) as AutocannonResult;
}

async function measure(ctx: BenchContext, server: RunningServer, warmupS: number, durationS: number) {
  await autocannon(server.url, warmupS);
  const cpu0 = cpuMs(server.pid);
  const meter = new NoiseMeter();
  const fromMs = nowMs();
  const r = await autocannon(server.url, durationS);
  const toMs = nowMs();
  const cpu1 = cpuMs(server.pid);
  const noise = meter.report();
  ctx.log(`    ${formatNoise(noise)}`);
  const rate = r.requests.total / r.duration;
  if (r.errors || r.non2xx || r.timeouts) ctx.log(`  WARNING: errors ${r.errors}, non2xx ${r.non2xx}, timeouts ${r.timeouts}`);
  return { rate, r, fromMs, toMs, cpuUtilization: (cpu1 - cpu0) / (toMs - fromMs), noise };
}

export async function readPhase(ctx: BenchContext): Promise<PhaseResult> {
  const warmupS = 2;
  const durationS = ctx.quick ? 6 : 20;

  const server = await startServerFor(ctx, 'read');
  const client = new GqlClient(server.url, 2);
  const sample = await client.raw(READ_BODY);
  client.close();
  const parsed = JSON.parse(sample.body) as { data?: { leaderboard?: { entries: unknown[] } } };
  const entries = parsed.data?.leaderboard?.entries.length ?? 0;
  if (sample.status !== 200 || entries !== 10) throw new Error(`leaderboard sample is not a full board: ${sample.status} ${sample.body.slice(0, 200)}`);
  const ours = await measure(ctx, server, warmupS, durationS);
  const profile = await stopServerFor(ctx, server, { fromMs: ours.fromMs, toMs: ours.toMs });
  ctx.log(`  ours: ${ours.rate.toFixed(0)} req/s (p50 ${ours.r.latency.p50} ms, p99 ${ours.r.latency.p99} ms)`);

  const raw = await startRawHttp(sample.body, sample.contentType);
  const base = await measure(ctx, raw, warmupS, durationS);
  await raw.stop();
  ctx.log(`  raw:  ${base.rate.toFixed(0)} req/s (p50 ${base.r.latency.p50} ms, p99 ${base.r.latency.p99} ms)`);

  return {
    rows: [
      ratioRow({
        key: 'read',
        figure: 'read: leaderboard(first:10) req/s, 100 conns',
        unit: '/s',
        ours: ours.rate,
        baseline: base.rate,
        target: { op: '>=', value: 0.35, stretch: 0.5, on: 'ratio' },
        note: `baseline: bare node:http, same ${Buffer.byteLength(sample.body)} response bytes`,
      }),
    ],
    details: {
      durationS,
      responseBytes: Buffer.byteLength(sample.body),
      ours: { perSecond: ours.rate, latencyMs: ours.r.latency, errors: ours.r.errors, non2xx: ours.r.non2xx, serverCpuUtilization: ours.cpuUtilization, noise: ours.noise },
      baseline: { perSecond: base.rate, latencyMs: base.r.latency, errors: base.r.errors, non2xx: base.r.non2xx, serverCpuUtilization: base.cpuUtilization, noise: base.noise },
    },
    profiles: profile ? { read: profile } : undefined,
  };
}
