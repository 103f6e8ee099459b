import { execSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Redis } from 'ioredis';
import { serverCodeSeen, type BenchContext, type PhaseResult, type Row } from './lib/context.js';
import { createInfra, seedPlayers, ADMIN_DATABASE_URL, REDIS_URL } from './lib/infra.js';
import { formatProfile, type ProfileSummary } from './lib/profile.js';
import { formatNoise, NoiseMeter, waitForQuiet } from './lib/noise.js';
import { killAllSpawned, WANTED_NOFILE } from './lib/proc.js';
import { fmt, median } from './lib/stats.js';
import { boardsPhase } from './phases/boards.js';
import { moderationPhase } from './phases/moderation.js';
import { cpuPhase } from './phases/cpu.js';
import { fanoutPhase } from './phases/fanout.js';
import { loadPhase } from './phases/load.js';
import { millionPhase } from './phases/million.js';
import { readPhase } from './phases/read.js';
import { writePhase } from './phases/write.js';

/**
 * `npm run bench` — the whole benchmark, each figure against a physical
 * baseline measured in the same run on this machine.
 *   --quick            short durations, fan-out at N=1,000/5,000 (under 3 minutes)
 *   --only a,b         phases: write, read, fanout, cpu, load, boards, moderation,
 *                      million (a 1,000,000-player board: not in the default set,
 *                      its import alone takes minutes on a small machine)
 *   --fanout 1000,5000 subscriber counts for the fan-out phase
 *   --repeat K         run the selected phases K times; the table shows medians
 *   --profile          run the server under `node --cpu-prof` and print the top
 *                      self-time functions per phase (numbers are then NOT
 *                      comparable: profiling costs CPU)
 *   --client-procs P   subscriber client processes (default: 1 per 5,000, max 2)
 *   --seed-players M   demo players seeded so the board is full (default 1000)
 *   --wait-quiet S     before each phase wait up to S seconds for other people's
 *                      processes to go quiet (default 0 quick, 60 full); every
 *                      phase reports the CPU used by others while it ran
 */
const PHASES = ['write', 'read', 'fanout', 'cpu', 'load', 'boards', 'moderation', 'million'] as const;
type Phase = (typeof PHASES)[number];
/** Run without --only: everything but the slow million-player phase. */
const DEFAULT_PHASES: readonly Phase[] = PHASES.filter((p) => p !== 'million');

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    fanout: { type: 'string' },
    repeat: { type: 'string', default: '1' },
    profile: { type: 'boolean', default: false },
    'client-procs': { type: 'string' },
    'seed-players': { type: 'string', default: '1000' },
    'wait-quiet': { type: 'string' },
    out: { type: 'string' },
  },
});

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const RESULTS = join(ROOT, 'bench', 'results');
const quick = values.quick;
const only = (values.only ? values.only.split(',').map((s) => s.trim()) : [...DEFAULT_PHASES]) as Phase[];
for (const p of only) if (!PHASES.includes(p)) throw new Error(`unknown phase "${p}" (phases: ${PHASES.join(', ')})`);
const fanoutSizes = values.fanout ? values.fanout.split(',').map(Number) : quick ? [1_000, 5_000] : [1_000, 5_000, 10_000];
const repeat = Math.max(1, Number(values.repeat));
const command = `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim().replace(/ --$/, '');
const startedAt = Date.now();
const log = (msg: string) => console.log(`[${((Date.now() - startedAt) / 1000).toFixed(1).padStart(6)}s] ${msg}`);

async function machine() {
  const sh = (cmd: string) => {
    try {
      return execSync(cmd, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      return 'n/a';
    }
  };
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? cpus()[0]?.model ?? 'n/a';
  const c = new pg.Client({ connectionString: ADMIN_DATABASE_URL });
  await c.connect();
  const pgVersion = (await c.query<{ server_version: string }>('SHOW server_version')).rows[0]?.server_version ?? 'n/a';
  await c.end();
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  const redisVersion = /redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? 'n/a';
  redis.disconnect();
  return {
    git: sh('git rev-parse --short HEAD'),
    srcDirtyFiles: Number(sh('git status --porcelain -- src | wc -l')),
    /** Hash of the server code measured (src/ content), since src/ changes under concurrent edits. */
    srcHash: sh("find src -type f -name '*.ts' | sort | xargs sha256sum | sha256sum | cut -c1-12"),
    nproc: Number(sh('nproc')) || cpus().length,
    cpuModel: model,
    memoryGiB: Number((totalmem() / 2 ** 30).toFixed(1)),
    node: process.version,
    postgres: pgVersion,
    redis: redisVersion,
    kernel: sh('uname -r'),
    nofileHard: sh('bash -c "ulimit -Hn"'),
  };
}

function verdict(row: Row): string {
  if (!row.target) return '';
  const v = row.target.on === 'ratio' ? row.ratio : row.ours;
  if (v === null || Number.isNaN(v)) return 'n/a';
  // A negative RSS delta means the reading drowned in GC/allocator noise (small N).
  if (row.key.startsWith('memory-') && (row.ours <= 0 || (row.baseline ?? 0) <= 0)) return 'n/a (noise)';
  const ok = (x: number) => (row.target!.op === '>=' ? v >= x : row.target!.op === '<=' ? v <= x : v === x);
  if (!ok(row.target.value)) return 'MISS';
  if (row.target.stretch !== undefined) return ok(row.target.stretch) ? 'PASS (stretch)' : 'PASS';
  return 'PASS';
}

function targetText(row: Row): string {
  if (!row.target) return '-';
  const t = row.target;
  const unit = t.on === 'ratio' ? 'x' : '';
  return `${t.op} ${t.value}${unit}${t.stretch !== undefined ? ` (stretch ${t.stretch}${unit})` : ''}`;
}

function table(rows: Row[]): string {
  const head = ['figure', 'ours', 'baseline', 'ratio', 'target', 'verdict', 'other CPU'];
  const body = rows.map((r) => [
    r.figure,
    `${fmt(r.ours, r.unit === 'subs' ? 0 : 2)} ${r.unit}`,
    r.baseline === null ? '-' : `${fmt(r.baseline)} ${r.unit}`,
    r.ratio === null ? '-' : `${r.ratio.toFixed(2)}x`,
    targetText(r),
    verdict(r),
    r.foreignCores === undefined ? '' : `${r.foreignCores.toFixed(2)} cores`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
}

/** Medians over repeats, row by row (ratio = median of per-run ratios). */
function medianRows(runs: Row[][]): Row[] {
  const first = runs[0] ?? [];
  return first.map((r) => {
    const same = runs.map((rs) => rs.find((x) => x.key === r.key)).filter((x): x is Row => !!x);
    const ratios = same.map((x) => x.ratio).filter((x): x is number => x !== null);
    return {
      ...r,
      ours: median(same.map((x) => x.ours)),
      baseline: r.baseline === null ? null : median(same.map((x) => x.baseline ?? NaN)),
      ratio: ratios.length ? median(ratios) : null,
      foreignCores: median(same.map((x) => x.foreignCores ?? NaN)),
      note: same.length > 1 ? `${r.note ? `${r.note}; ` : ''}runs: ${same.map((x) => (x.ratio ?? x.ours).toFixed(2)).join(' / ')}` : r.note,
    };
  });
}

async function main() {
  mkdirSync(RESULTS, { recursive: true });
  const env = await machine();
  log(`machine: ${env.nproc} cores ${env.cpuModel}, ${env.memoryGiB} GiB, node ${env.node}, postgres ${env.postgres}, redis ${env.redis}`);
  log(`server code: git ${env.git} + ${env.srcDirtyFiles} uncommitted src files, src hash ${env.srcHash}`);
  log(`nofile: wanted ${WANTED_NOFILE}, hard limit here ${env.nofileHard} (processes get min of the two)`);
  const runs: { rows: Row[]; details: Record<string, unknown> }[] = [];
  const profiles: Record<string, ProfileSummary> = {};
  const profileRoot = values.profile ? join(RESULTS, 'profiles', new Date().toISOString().replace(/[:.]/g, '-')) : undefined;
  const waitQuietMs = 1000 * Number(values['wait-quiet'] ?? (quick ? 0 : 60));
  const clientProcsOverride = values['client-procs'] ? Number(values['client-procs']) : undefined;

  for (let r = 0; r < repeat; r++) {
    log(`run ${r + 1}/${repeat}: phases ${only.join(', ')}${quick ? ' (quick)' : ''}`);
    const infra = await createInfra();
    const onSignal = () => {
      killAllSpawned();
      void infra.dispose().finally(() => process.exit(130));
    };
    process.once('SIGINT', onSignal);
    try {
      await seedPlayers(infra.appDbUrl, Number(values['seed-players']));
      const ctx: BenchContext = {
        quick,
        infra,
        profileRoot: profileRoot && join(profileRoot, `run${r + 1}`),
        clientProcs: (n) => clientProcsOverride ?? Math.min(2, Math.max(1, Math.ceil(n / 5_000))),
        log,
      };
      const rows: Row[] = [];
      const details: Record<string, unknown> = {};
      const phaseRunners: Record<Phase, () => Promise<PhaseResult>> = {
        write: () => writePhase(ctx),
        read: () => readPhase(ctx),
        fanout: () => fanoutPhase(ctx, fanoutSizes),
        cpu: () => cpuPhase(ctx),
        load: () => loadPhase(ctx),
        boards: () => boardsPhase(ctx),
        moderation: () => moderationPhase(ctx),
        million: () => millionPhase(ctx),
      };
      for (const phase of PHASES) {
        if (!only.includes(phase)) continue;
        if (waitQuietMs > 0) {
          const quiet = await waitForQuiet(waitQuietMs);
          log(`phase ${phase} (waited ${(quiet.waitedMs / 1000).toFixed(0)} s for quiet; other processes at ${quiet.foreign.toFixed(2)} cores)`);
        } else log(`phase ${phase}`);
        const t0 = Date.now();
        const meter = new NoiseMeter();
        const res = await phaseRunners[phase]();
        const noise = meter.report();
        log(`  ${phase} noise: ${formatNoise(noise)}`);
        for (const row of res.rows) row.foreignCores = noise.cores.foreign;
        rows.push(...res.rows);
        details[phase] = { ...res.details, seconds: (Date.now() - t0) / 1000, noise };
        for (const [k, v] of Object.entries(res.profiles ?? {})) {
          profiles[repeat > 1 ? `${k} (run ${r + 1})` : k] = v;
          console.log(formatProfile(`\nCPU profile, ${k}`, v));
        }
      }
      runs.push({ rows, details });
    } finally {
      process.removeListener('SIGINT', onSignal);
      const left = killAllSpawned();
      if (left) log(`killed ${left} leftover child process(es)`);
      await infra.dispose();
    }
  }

  const rows = medianRows(runs.map((r) => r.rows));
  const title = repeat > 1 ? `medians of ${repeat} runs` : '1 run';
  console.log(`\nScoreboard bench (${quick ? 'quick' : 'full'}, ${title}) — ${command}`);
  const hashes = [...new Set(serverCodeSeen.map((s) => s.srcHash))];
  console.log(`server code: git ${env.git} + ${env.srcDirtyFiles} uncommitted src/ files (src hash ${env.srcHash})`);
  if (hashes.length > 1) {
    console.log(`WARNING: src/ changed during this bench: servers ran ${hashes.length} versions (${serverCodeSeen.map((s) => `${s.phase}@${s.git}/${s.srcHash}`).join(', ')})`);
  }
  console.log(`machine: ${env.nproc} cores (${env.cpuModel}), ${env.memoryGiB} GiB, node ${env.node}, postgres ${env.postgres}, redis ${env.redis}`);
  console.log('client and server share the same cores: client CPU competes with server CPU (baselines are measured the same way)');
  console.log("'other CPU': cores used by processes outside the bench (other people's work) during that phase, averaged");
  if (values.profile) console.log('PROFILED RUN: the server ran under --cpu-prof; figures are not comparable with unprofiled runs');
  console.log(table(rows));
  const notes = rows.filter((r) => r.note).map((r) => `  - ${r.figure}: ${r.note}`);
  if (notes.length) console.log(`notes:\n${notes.join('\n')}`);
  const cpuRow = rows.find((r) => r.key === 'cpu-per-sub-change');
  if (cpuRow) console.log(`\nCPU per subscriber per change: ${cpuRow.ours.toFixed(2)} us   (command: ${command})`);

  const out = values.out ?? join(RESULTS, 'latest.json');
  writeFileSync(
    out,
    JSON.stringify(
      {
        command,
        mode: quick ? 'quick' : 'full',
        profiled: !!values.profile,
        startedAt: new Date(startedAt).toISOString(),
        seconds: (Date.now() - startedAt) / 1000,
        machine: env,
        serverCode: serverCodeSeen,
        table: rows.map((r) => ({ ...r, verdict: verdict(r), targetText: targetText(r) })),
        runs,
        profiles,
      },
      null,
      2,
    ),
  );
  console.log(`\nwrote ${out} in ${((Date.now() - startedAt) / 1000).toFixed(0)} s`);
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
