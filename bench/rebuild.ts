import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import pg from 'pg';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/database.js';
import { createLogger } from '../src/logger.js';
import { GLOBAL_BOARD } from '../src/resolvers/boards/definitions.js';
import { periodByKey } from '../src/resolvers/boards/periods.js';
import { createSharedRanking } from '../src/services.js';
import { ADMIN_DATABASE_URL, REDIS_URL } from './lib/infra.js';

/**
 * `npm run bench:rebuild -- [--rows 1000000] [--runs 2]`: a cold rebuild of
 * the global view into the Redis ranking cache, alone. Fills a fresh database
 * with N players by SQL (setup, not measured), then times (1) reading the view
 * from Postgres as the rebuild does, and (2) the whole rebuild (read + build
 * aside + swap), each `--runs` times, with this process's CPU and Redis's.
 * Run it under `node --cpu-prof` to see where the time goes.
 */
const { values } = parseArgs({ options: { rows: { type: 'string', default: '1000000' }, runs: { type: 'string', default: '2' } } });
const rows = Number(values.rows);
const runs = Number(values.runs);
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

const dbName = `scoreboard_bench_rebuild_${randomBytes(4).toString('hex')}`;
const admin = new pg.Client({ connectionString: ADMIN_DATABASE_URL });
await admin.connect();
await admin.query(`CREATE DATABASE ${dbName}`);
const url = new URL(ADMIN_DATABASE_URL);
url.pathname = `/${dbName}`;
const prefix = `bench-rebuild:${dbName}:`;
const dir = mkdtempSync(join(tmpdir(), 'scoreboard-bench-rebuild-'));
const config = loadConfig({ DATABASE_URL: url.toString(), REDIS_URL, REDIS_KEY_PREFIX: prefix, DATA_DIR: dir, LOG_LEVEL: 'warn' });
const db = await openDatabase(config.database);
const redis = new Redis(REDIS_URL);
const redisCpu = async () => {
  const info = await redis.info('cpu');
  const n = (k: string) => Number(new RegExp(`${k}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  return n('used_cpu_sys') + n('used_cpu_user');
};
try {
  await db.migrate();
  const fill = new pg.Client({ connectionString: url.toString() });
  await fill.connect();
  const t0 = performance.now();
  await fill.query(
    `INSERT INTO players (id, username, score, reached_seq)
     SELECT 'player-' || g, 'Player ' || g, 1 + (g::bigint * 7919) % 50000, nextval('action_credits_id_seq') FROM generate_series(1, $1::int) g`,
    [rows],
  );
  await fill.query(`INSERT INTO board_entries (board_id, period_key, segment, player_id, score, reached_seq) SELECT 'global', 'all', '', id, score, reached_seq FROM players`);
  await fill.query('ANALYZE players');
  await fill.query('ANALYZE board_entries');
  await fill.end();
  console.log(`setup: ${rows} players by SQL in ${((performance.now() - t0) / 1000).toFixed(1)} s (not measured)`);

  const shared = (await createSharedRanking(config, db, createLogger('warn')))!;
  const board = await shared.definitions.require(GLOBAL_BOARD);
  const view = { board: GLOBAL_BOARD, period: 'all', segment: null, periodInfo: periodByKey(board, 'all') };
  for (let r = 1; r <= runs; r++) {
    let t = performance.now();
    let cpu = process.cpuUsage();
    const read = await shared.ranking.allFromDatabase(view);
    const count = read.length;
    const readMs = performance.now() - t;
    const readCpu = process.cpuUsage(cpu);
    console.log(
      `run ${r}: read ${count} entries from Postgres in ${(readMs / 1000).toFixed(2)} s (process CPU ${((readCpu.user + readCpu.system) / 1e6).toFixed(2)} s), load ${load()}`,
    );
    const redis0 = await redisCpu();
    t = performance.now();
    cpu = process.cpuUsage();
    await shared.ranking.replaceFromDatabase(view, 'bench');
    const ms = performance.now() - t;
    const c = process.cpuUsage(cpu);
    const seq = await shared.ranking.cache.seq(view);
    const total = (await shared.ranking.cache.page(view, 0, 1))?.total;
    console.log(
      `run ${r}: full rebuild in ${(ms / 1000).toFixed(2)} s (process CPU ${((c.user + c.system) / 1e6).toFixed(2)} s, Redis CPU ${((await redisCpu()) - redis0).toFixed(2)} s), ` +
        `warm: seq ${seq}, ${total} entries; load ${load()}`,
    );
  }
  await shared.close();
} finally {
  await db.close();
  await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    if (keys.length) await redis.unlink(...keys);
    cursor = next;
  } while (cursor !== '0');
  redis.disconnect();
  await admin.end();
  rmSync(dir, { recursive: true, force: true });
}
