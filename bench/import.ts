import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Redis } from 'ioredis';
import { ADMIN_DATABASE_URL, REDIS_URL } from './lib/infra.js';

/**
 * `npm run bench:import -- [--rows 1000000] [--keep]`: the bulk import at scale.
 * Generates a CSV of N players in a temp dir (ties, zeros, a country on two
 * thirds), imports it into a fresh PostgreSQL database (+ private Redis
 * prefix) with `npm run import`, exactly as an operator would, then imports
 * the same file again (must change nothing). Prints rows/s, peak RSS, the time
 * per step and the ranking-cache rebuild, and the load average around each run
 * (other people's processes on a shared machine show up there). Target:
 * >= 20,000 rows/s for 1,000,000 rows.
 */
const { values } = parseArgs({ options: { rows: { type: 'string', default: '1000000' }, keep: { type: 'boolean', default: false } } });
const rows = Number(values.rows);
const ROOT = fileURLToPath(new URL('../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'scoreboard-bench-import-'));
const file = join(dir, 'scores.csv');

async function generate() {
  const out = createWriteStream(file);
  const countries = ['DE', 'FR', 'US', 'JP', '', ''];
  out.write('playerId,username,score,country\n');
  let chunk = '';
  for (let i = 1; i <= rows; i++) {
    chunk += `player-${i},Player ${i},${(i * 7_919) % 50_000},${countries[i % 6]}\n`;
    if (i % 10_000 === 0 || i === rows) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end();
  await once(out, 'finish');
}

function runImport(env: Record<string, string>): Promise<Record<string, unknown>> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/import.ts', '--file', file, '--json'], {
    cwd: ROOT,
    env: { ...process.env, ...env, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let stdout = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  return new Promise((resolve, reject) =>
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(stdout.trim().split('\n').at(-1)!)) : reject(new Error(`import exited ${code}`)))),
  );
}

const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');

const dbName = `scoreboard_bench_import_${randomBytes(4).toString('hex')}`;
const admin = new pg.Client({ connectionString: ADMIN_DATABASE_URL });
await admin.connect();
await admin.query(`CREATE DATABASE ${dbName}`);
const url = new URL(ADMIN_DATABASE_URL);
url.pathname = `/${dbName}`;
const prefix = `bench-import:${dbName}:`;
const env = { DATABASE_URL: url.toString(), REDIS_URL, REDIS_KEY_PREFIX: prefix, DATA_DIR: dir };
try {
  console.log(`generating ${rows} rows in ${file}`);
  await generate();
  for (const run of ['first import', 'same file again']) {
    const before = load();
    const result = await runImport(env);
    console.log(`\n${run} (load average before: ${before}, after: ${load()})`);
    console.log(`  rows ${result.rows}, changed ${result.changed}, ${result.rowsPerSecond} rows/s (${result.seconds} s), peak RSS ${result.peakRssMb} MB`);
    console.log(`  CPU seconds: import process ${result.importCpuSeconds}, PostgreSQL backend ${result.databaseCpuSeconds ?? 'n/a'}`);
    console.log(`  steps (ms): ${JSON.stringify(result.timingsMs)}`);
    console.log(`  cache: ${result.cache} in ${result.cacheSeconds} s, peak RSS with the cache rebuild ${result.peakRssMbAfterCache} MB`);
  }
} finally {
  if (!values.keep) {
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    const redis = new Redis(REDIS_URL);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.unlink(...keys);
    redis.disconnect();
    rmSync(dir, { recursive: true, force: true });
  } else console.log(`kept: ${url} (prefix ${prefix}), ${file}`);
  await admin.end();
}
