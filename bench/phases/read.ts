import { fileURLToPath } from 'node:url';
import { LeaderboardDocument } from '../../sdk/generated/graphql.js';
import { GqlClient, LEADERBOARD_QUERY } from '../lib/gql-client.js';
import { formatNoise, NoiseMeter } from '../lib/noise.js';
import { cpuMs, nowMs, spawnWithUlimit } from '../lib/proc.js';
import { startRawHttp, type RunningServer } from '../lib/servers.js';
import { ratioRow, startServerFor, stopServerFor, type BenchContext, type PhaseResult } from '../lib/context.js';

/**
 * Read: `leaderboard(first: 10)` over HTTP POST with 100 connections
 * (autocannon, in its own process) vs a bare node:http server returning the
 * very same response bytes. Next to it, the CDN-shaped path: GET of the trusted
 * document by id (answered by the response cache), and the same GET with
 * `If-None-Match` (304, no body), against the same baseline.
 */
export const CONNECTIONS = 100;
const AUTOCANNON = fileURLToPath(new URL('../../node_modules/autocannon/autocannon.js', import.meta.url));
export const READ_BODY = JSON.stringify({ query: LEADERBOARD_QUERY });
const MANIFEST = fileURLToPath(new URL('../../sdk/generated/persisted-documents.json', import.meta.url));
/** The sdk's Leaderboard document by id: the same top 10 (plus updatedAt), over GET. */
export const READ_GET_PATH = `/graphql?${new URLSearchParams({
  documentId: (LeaderboardDocument as unknown as { __meta__: { hash: string } }).__meta__.hash,
  variables: JSON.stringify({ first: 10 }),
})}`;

/** What autocannon sends: the POST of READ_BODY unless told otherwise. */
export interface LoadRequest {
  method: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: string;
}
const POST_READ: LoadRequest = { method: 'POST', path: '/graphql', headers: { 'content-type': 'application/json' }, body: READ_BODY };

interface AutocannonResult {
  requests: { total: number; average: number };
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  latency: { p50: number; p99: number; average: number };
}

export async function autocannon(url: string, seconds: number, connections = CONNECTIONS, request: LoadRequest = POST_READ): Promise<AutocannonResult> {
  const args = ['node', AUTOCANNON, '--json', '-c', String(connections), '-d', String(seconds), '-m', request.method];
  for (const [name, value] of Object.entries(request.headers ?? {})) args.push('-H', `${name}=${value}`);
  if (request.body !== undefined) args.push('-b', request.body);
  args.push(`${url}${request.path}`);
  const p = spawnWithUlimit(args, { label: 'autocannon' });
  let out = '';
  p.child.stdout?.removeAllListeners('data');
  p.child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  const code = await p.exited;
  if (code !== 0) throw new Error(`autocannon exited ${code}: ${p.stderrTail()}`);
  const json = out.slice(out.indexOf('{'));
  return JSON.parse(json) as AutocannonResult;
}

async function measure(ctx: BenchContext, server: RunningServer, warmupS: number, durationS: number, request: LoadRequest = POST_READ, expectStatus = 200) {
  await autocannon(server.url, warmupS, CONNECTIONS, request);
  const cpu0 = cpuMs(server.pid);
  const meter = new NoiseMeter();
  const fromMs = nowMs();
  const r = await autocannon(server.url, durationS, CONNECTIONS, request);
  const toMs = nowMs();
  const cpu1 = cpuMs(server.pid);
  const noise = meter.report();
  ctx.log(`    ${formatNoise(noise)}`);
  const rate = r.requests.total / r.duration;
  // A 304 is what the conditional series asks for; autocannon counts it as non-2xx.
  const unexpected = expectStatus === 200 ? r.non2xx : r.non2xx === r.requests.total ? 0 : r.non2xx;
  if (r.errors || unexpected || r.timeouts) ctx.log(`  WARNING: errors ${r.errors}, non2xx ${r.non2xx}, timeouts ${r.timeouts}`);
  return { rate, r, fromMs, toMs, cpuUtilization: (cpu1 - cpu0) / (toMs - fromMs), noise };
}

export async function readPhase(ctx: BenchContext): Promise<PhaseResult> {
  const warmupS = 2;
  const durationS = ctx.quick ? 6 : 20;

  // All load comes from 127.0.0.1: production's per-address limit (50/s) would answer 429 to nearly all of it.
  const server = await startServerFor(ctx, 'read', { TRUSTED_DOCUMENTS: MANIFEST, HTTP_RATE_LIMIT_PER_IP: '0' });
  const client = new GqlClient(server.url, 2);
  const sample = await client.raw(READ_BODY);
  client.close();
  const parsed = JSON.parse(sample.body) as { data?: { leaderboard?: { entries: unknown[] } } };
  const entries = parsed.data?.leaderboard?.entries.length ?? 0;
  if (sample.status !== 200 || entries !== 10) throw new Error(`leaderboard sample is not a full board: ${sample.status} ${sample.body.slice(0, 200)}`);
  const ours = await measure(ctx, server, warmupS, durationS);
  ctx.log(`  ours: ${ours.rate.toFixed(0)} req/s (p50 ${ours.r.latency.p50} ms, p99 ${ours.r.latency.p99} ms)`);

  // GET by trusted-document id: no CSRF header needed, answered from the response cache.
  const getSample = await fetch(`${server.url}${READ_GET_PATH}`);
  const getBody = await getSample.text();
  const etag = getSample.headers.get('etag');
  if (getSample.status !== 200 || !etag || getSample.headers.get('cache-control') !== 'public, max-age=1') {
    throw new Error(`GET by id is not a cacheable public read: ${getSample.status} ${etag} ${getBody.slice(0, 200)}`);
  }
  const get = await measure(ctx, server, warmupS, durationS, { method: 'GET', path: READ_GET_PATH });
  ctx.log(`  GET by id: ${get.rate.toFixed(0)} req/s (p50 ${get.r.latency.p50} ms, p99 ${get.r.latency.p99} ms)`);
  const conditional = await measure(ctx, server, warmupS, durationS, { method: 'GET', path: READ_GET_PATH, headers: { 'if-none-match': etag } }, 304);
  ctx.log(`  GET by id + If-None-Match (304): ${conditional.rate.toFixed(0)} req/s (p50 ${conditional.r.latency.p50} ms, p99 ${conditional.r.latency.p99} ms)`);
  const cacheMetrics = await (await fetch(`${server.url}/metrics`)).text();
  const metric = (name: string) => Number(new RegExp(`^${name} (\\d+)`, 'm').exec(cacheMetrics)?.[1] ?? NaN);
  const cache = {
    hits: metric('scoreboard_response_cache_hits_total'),
    misses: metric('scoreboard_response_cache_misses_total'),
    notModified: metric('scoreboard_http_not_modified_total'),
  };
  ctx.log(`  response cache: ${cache.hits} hits, ${cache.misses} misses, ${cache.notModified} answered 304`);
  const profile = await stopServerFor(ctx, server, { fromMs: ours.fromMs, toMs: ours.toMs });

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
      ratioRow({
        key: 'read-get',
        figure: 'read: GET by trusted-document id (response cache) req/s, 100 conns',
        unit: '/s',
        ours: get.rate,
        baseline: base.rate,
        target: { op: '>=', value: 0.5, on: 'ratio' },
        note: `${Buffer.byteLength(getBody)} response bytes (the sdk document adds updatedAt); baseline as above`,
      }),
      ratioRow({
        key: 'read-get-304',
        figure: 'read: GET by id + If-None-Match (304) req/s, 100 conns',
        unit: '/s',
        ours: conditional.rate,
        baseline: base.rate,
        target: { op: '>=', value: 0.5, on: 'ratio' },
        note: 'no body: what a CDN revalidation costs; baseline as above (full body)',
      }),
    ],
    details: {
      durationS,
      responseBytes: Buffer.byteLength(sample.body),
      get: {
        perSecond: get.rate,
        latencyMs: get.r.latency,
        errors: get.r.errors,
        non2xx: get.r.non2xx,
        serverCpuUtilization: get.cpuUtilization,
        noise: get.noise,
        responseBytes: Buffer.byteLength(getBody),
      },
      get304: {
        perSecond: conditional.rate,
        latencyMs: conditional.r.latency,
        errors: conditional.r.errors,
        serverCpuUtilization: conditional.cpuUtilization,
        noise: conditional.noise,
      },
      responseCache: cache,
      ours: { perSecond: ours.rate, latencyMs: ours.r.latency, errors: ours.r.errors, non2xx: ours.r.non2xx, serverCpuUtilization: ours.cpuUtilization, noise: ours.noise },
      baseline: { perSecond: base.rate, latencyMs: base.r.latency, errors: base.r.errors, non2xx: base.r.non2xx, serverCpuUtilization: base.cpuUtilization, noise: base.noise },
    },
    profiles: profile ? { read: profile } : undefined,
  };
}
