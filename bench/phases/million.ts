import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { GqlClient } from '../lib/gql-client.js';
import { REDIS_URL } from '../lib/infra.js';
import { formatNoise, NoiseMeter } from '../lib/noise.js';
import { cpuMs, nowMs, sleep } from '../lib/proc.js';
import { percentile } from '../lib/stats.js';
import { startServerFor, type BenchContext, type PhaseResult, type Row } from '../lib/context.js';
import { rebuildsDone, ROOT } from '../lib/servers.js';

/**
 * Million: a board of 1,000,000 players, loaded the way an operator would.
 *
 * 1. A CSV of 1,000,000 players (ties, a few zeros, a country on two thirds) is
 *    imported with `npm run import` (scripts/import.ts) into the bench's
 *    database: rows/s, and how long the import's own cache rebuild took (the
 *    time until running instances would see the import).
 * 2. The ranking cache is then emptied (the Redis keys of this bench's prefix
 *    deleted: the worst case, a cold cache) and a fresh server is started in
 *    production mode: time from spawn to `/readyz` 200 ("ready"), and to the
 *    end of its startup rebuild of the global view ("warm": the
 *    `scoreboard_cache_rebuilds_total{reason="startup"}` counter).
 * 3. Between ready and warm, top-10, around-me and standing are read in turns,
 *    one at a time with a 0.5 s pause (served from Postgres; more would starve
 *    the rebuild: each such read counts entries of the million).
 * 4. Once warm: each read by request count at 10 connections, p50/p99.
 * 5. The idle server's CPU over 60 s (quick: 15 s), from /proc/<pid>/stat, as
 *    % of one core (the periodic jobs, e.g. reconcile, included).
 *
 * Not in the default set (`--only million`): the import alone takes a minute
 * or more on a small machine.
 */

const PLAYERS = 1_000_000;
const CONNECTIONS = 10;
const TOP = 'query { leaderboard(first: 10) { seq totalPlayers entries { rank score player { id username } } } }';
const AROUND = 'query A($pl: ID!) { leaderboardAround(player: $pl, above: 5, below: 5) { seq totalPlayers entries { rank score player { id username } } } }';
const STANDING = 'query S($id: ID!) { player(id: $id) { standing { rank position score totalPlayers } } }';

type Kind = 'top10' | 'around' | 'standing';
const KINDS: Kind[] = ['top10', 'around', 'standing'];

/** Score of player i in the generated file (0 for every 50,000th: they are on no board). */
const scoreOf = (i: number) => (i * 7_919) % 50_000;
/** Deterministic spread over the board's players (skipping those with score 0). */
function pick(n: number): string {
  let i = 1 + ((n * 48_271 + 12_345) % PLAYERS);
  if (scoreOf(i) === 0) i = (i % PLAYERS) + 1;
  return `player-${i}`;
}

async function generate(file: string) {
  const out = createWriteStream(file);
  const countries = ['DE', 'FR', 'US', 'JP', '', ''];
  out.write('playerId,username,score,country\n');
  let chunk = '';
  for (let i = 1; i <= PLAYERS; i++) {
    chunk += `player-${i},Player ${i},${scoreOf(i)},${countries[i % 6]}\n`;
    if (i % 10_000 === 0 || i === PLAYERS) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end();
  await once(out, 'finish');
}

interface ImportSummary {
  rows: number;
  changed: number;
  seconds: number;
  rowsPerSecond: number;
  peakRssMb: number;
  timingsMs: Record<string, number>;
  importCpuSeconds: number;
  databaseCpuSeconds?: number;
  cache: string;
  cacheSeconds: number;
  /** What the import logged besides its summary (warnings). */
  log: string[];
}

function runImport(file: string, env: Record<string, string>): Promise<ImportSummary> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/import.ts', '--file', file, '--json'], {
    cwd: ROOT,
    env: { ...process.env, ...env, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  return new Promise((resolve, reject) =>
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`import exited ${code}: ${stderr}`));
      const lines = stdout.trim().split('\n');
      // Anything besides the summary (the last line) is what it logged: warnings.
      resolve({ ...(JSON.parse(lines.at(-1)!) as ImportSummary), log: [...lines.slice(0, -1), ...stderr.trim().split('\n')].filter(Boolean) });
    }),
  );
}

async function deletePrefix(prefix: string): Promise<number> {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  let deleted = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length) deleted += await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return deleted;
}

function readOnce(client: GqlClient, kind: Kind, i: number): Promise<void> {
  const player = pick(i);
  if (kind === 'top10') {
    return client.op<{ leaderboard: { totalPlayers: number; entries: unknown[] } }>(TOP, {}).then((r) => {
      if (r.leaderboard.entries.length !== 10 || r.leaderboard.totalPlayers < PLAYERS - 100) throw new Error(`top-10: ${JSON.stringify(r).slice(0, 200)}`);
    });
  }
  if (kind === 'around') {
    return client.op<{ leaderboardAround: { entries: { player: { id: string } }[] } }>(AROUND, { pl: player }).then((r) => {
      const e = r.leaderboardAround.entries;
      if (e.length !== 11 || !e.some((x) => x.player.id === player)) throw new Error(`around ${player}: ${JSON.stringify(r).slice(0, 200)}`);
    });
  }
  return client.op<{ player: { standing: { position: number } | null } | null }>(STANDING, { id: player }).then((r) => {
    if (!r.player?.standing || r.player.standing.position < 1) throw new Error(`standing ${player}: ${JSON.stringify(r)}`);
  });
}

/** `total` requests of one kind over CONNECTIONS loops (count-bounded); latency of each. */
async function byCount(client: GqlClient, kind: Kind, total: number, offset: number) {
  const latencies: number[] = [];
  let next = 0;
  let errors = 0;
  let firstError = '';
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      for (let i = next++; i < total; i = next++) {
        const t0 = nowMs();
        try {
          await readOnce(client, kind, offset + i);
          latencies.push(nowMs() - t0);
        } catch (error) {
          errors++;
          firstError ||= (error as Error).message;
        }
      }
    }),
  );
  return { latencies, errors, firstError };
}

const summary = (xs: number[]) => ({ n: xs.length, p50: percentile(xs, 50), p99: percentile(xs, 99), max: percentile(xs, 100) });

export async function millionPhase(ctx: BenchContext): Promise<PhaseResult> {
  const file = join(ctx.infra.dataDir, 'million.csv');
  const env = { ...ctx.infra.serverEnv };
  const requests = ctx.quick ? 500 : 2_000;
  const idleMs = ctx.quick ? 15_000 : 60_000;

  // ------------------------------------------------------------------ 1. import
  let t = nowMs();
  await generate(file);
  ctx.log(`  generated ${PLAYERS.toLocaleString('en-US')} rows in ${((nowMs() - t) / 1000).toFixed(1)} s (setup, not measured)`);
  const importMeter = new NoiseMeter();
  const imported = await runImport(file, env);
  const importNoise = importMeter.report();
  rmSync(file, { force: true });
  ctx.log(
    `  import: ${imported.rows} rows, ${imported.changed} changed, ${imported.rowsPerSecond} rows/s (${imported.seconds} s; CPU import ${imported.importCpuSeconds} s, ` +
      `database ${imported.databaseCpuSeconds ?? 'n/a'} s); then the cache: ${imported.cache} in ${imported.cacheSeconds} s`,
  );
  ctx.log(`    steps (ms): ${JSON.stringify(imported.timingsMs)}`);
  for (const line of imported.log) ctx.log(`    import said: ${line.slice(0, 400)}`);
  ctx.log(`    ${formatNoise(importNoise)}`);

  // ------------------------------------------------------------------ 2. cold start
  const deleted = await deletePrefix(ctx.infra.redisPrefix);
  ctx.log(`  emptied the ranking cache (${deleted} Redis keys of this bench's prefix): the server starts cold`);
  const startMeter = new NoiseMeter();
  t = nowMs();
  const server = await startServerFor(ctx, 'million', { HTTP_RATE_LIMIT_PER_IP: '0' });
  const readyMs = nowMs() - t;
  ctx.log(`  ready (spawn -> /readyz 200) after ${(readyMs / 1000).toFixed(2)} s`);
  const client = new GqlClient(server.url, CONNECTIONS);
  try {
    // ---------------------------------------------------------------- 3. reads while warming
    let warmMs: number | null = null;
    const watch = (async () => {
      while (nowMs() - t < 300_000) {
        if ((await rebuildsDone(server.url, 'startup').catch(() => 0)) > 0) return (warmMs = nowMs() - t);
        await sleep(100);
      }
      return null;
    })();
    const cold: Record<Kind, number[]> = { top10: [], around: [], standing: [] };
    let coldErrors = 0;
    let coldFirstError = '';
    // Light traffic only, one read at a time with a pause: from Postgres a read of a million-player
    // view counts entries (hundreds of ms each), and 10 connections of that starve the rebuild itself.
    for (let round = 0; warmMs === null && round < 10_000; round++) {
      for (const kind of KINDS) {
        const t0 = nowMs();
        try {
          await readOnce(client, kind, round);
          cold[kind].push(nowMs() - t0);
        } catch (error) {
          coldErrors++;
          coldFirstError ||= (error as Error).message;
        }
      }
      await sleep(500);
    }
    await watch;
    const startNoise = startMeter.report();
    if (warmMs === null) throw new Error('the server did not finish its startup rebuild within 300 s');
    ctx.log(`  warm (startup rebuild done) after ${(warmMs / 1000).toFixed(2)} s from spawn`);
    for (const kind of KINDS) {
      const s = summary(cold[kind]);
      ctx.log(`    while warming, ${kind} from Postgres: ${s.n} reads, p50 ${s.p50.toFixed(1)} ms, p99 ${s.p99.toFixed(1)} ms, max ${s.max.toFixed(1)} ms`);
    }
    if (coldErrors) ctx.log(`    WARNING: ${coldErrors} errors while warming, first: ${coldFirstError}`);
    ctx.log(`    ${formatNoise(startNoise)}`);

    // ---------------------------------------------------------------- 4. reads, warm
    const warm: Record<string, unknown> = {};
    const rows: Row[] = [];
    for (const kind of KINDS) {
      await byCount(client, kind, 100, 5_000_000); // warm-up
      const meter = new NoiseMeter();
      const cpu0 = cpuMs(server.pid);
      const t0 = nowMs();
      const r = await byCount(client, kind, requests, 0);
      const ms = nowMs() - t0;
      const noise = meter.report();
      const s = summary(r.latencies);
      const perSecond = (1000 * r.latencies.length) / ms;
      const serverCpuMsPerRequest = (cpuMs(server.pid) - cpu0) / Math.max(1, r.latencies.length);
      warm[kind] = { ...s, errors: r.errors, firstError: r.firstError, perSecond, serverCpuMsPerRequest, noise };
      ctx.log(
        `  ${kind} (cache): ${s.n}/${requests} ok, ${perSecond.toFixed(0)}/s, p50 ${s.p50.toFixed(1)} ms, p99 ${s.p99.toFixed(1)} ms, max ${s.max.toFixed(1)} ms, ` +
          `server CPU ${serverCpuMsPerRequest.toFixed(2)} ms/req, errors ${r.errors} ${r.firstError}`,
      );
      ctx.log(`    ${formatNoise(noise)}`);
      if (r.errors) throw new Error(`${kind}: ${r.errors} errors, first: ${r.firstError}`);
      rows.push(
        { key: `million-${kind}-p50`, figure: `1M: ${kind} p50 (cache, ${CONNECTIONS} conns)`, unit: 'ms', ours: s.p50, baseline: null, ratio: null, target: null },
        {
          key: `million-${kind}-p99`,
          figure: `1M: ${kind} p99 (cache, ${CONNECTIONS} conns)`,
          unit: 'ms',
          ours: s.p99,
          baseline: null,
          ratio: null,
          target: { op: '<=', value: 20, on: 'ours' },
          note: `${requests} requests, ${perSecond.toFixed(0)} req/s, server CPU ${serverCpuMsPerRequest.toFixed(2)} ms/req`,
        },
      );
    }

    // ---------------------------------------------------------------- 5. idle CPU
    const idleMeter = new NoiseMeter();
    const cpu0 = cpuMs(server.pid);
    const i0 = nowMs();
    await sleep(idleMs);
    const idlePercent = (100 * (cpuMs(server.pid) - cpu0)) / (nowMs() - i0);
    const idleNoise = idleMeter.report();
    ctx.log(`  idle: server CPU ${idlePercent.toFixed(2)}% of one core over ${(idleMs / 1000).toFixed(0)} s`);

    return {
      rows: [
        {
          key: 'million-import',
          figure: '1M: bulk import rows/s',
          unit: 'rows/s',
          ours: imported.rowsPerSecond,
          baseline: null,
          ratio: null,
          target: null,
          note: `${imported.seconds} s`,
        },
        {
          key: 'million-import-visible',
          figure: "1M: import's cache rebuild (commit -> visible to instances)",
          unit: 's',
          ours: imported.cacheSeconds,
          baseline: null,
          ratio: null,
          target: { op: '<=', value: 5, on: 'ours' },
        },
        {
          key: 'million-ready',
          figure: '1M: time to ready (spawn -> /readyz 200, cold cache)',
          unit: 's',
          ours: readyMs / 1000,
          baseline: null,
          ratio: null,
          target: { op: '<=', value: 30, on: 'ours' },
        },
        { key: 'million-warm', figure: '1M: time to warm (spawn -> startup rebuild done)', unit: 's', ours: warmMs / 1000, baseline: null, ratio: null, target: null },
        ...rows,
        {
          key: 'million-idle-cpu',
          figure: `1M: idle server CPU over ${idleMs / 1000} s`,
          unit: '%',
          ours: idlePercent,
          baseline: null,
          ratio: null,
          target: { op: '<=', value: 2, on: 'ours' },
        },
      ],
      details: {
        players: PLAYERS,
        import: { ...imported, noise: importNoise },
        start: {
          redisKeysDeleted: deleted,
          readyMs,
          warmMs,
          whileWarming: Object.fromEntries(KINDS.map((k) => [k, summary(cold[k])])),
          errorsWhileWarming: coldErrors,
          firstErrorWhileWarming: coldFirstError,
          noise: startNoise,
        },
        warm,
        idle: { ms: idleMs, cpuPercentOfOneCore: idlePercent, noise: idleNoise },
      },
    };
  } finally {
    client.close();
    await server.stop();
  }
}
